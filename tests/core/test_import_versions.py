"""Our JSON format's versions on import: a version 1 file (before pins, settings and reasoning
times) still imports, and whatever a version 2 file holds in those fields imports tolerantly
(a bad value is the default) and then round-trips unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.history_json import SETTINGS_KEYS, VERSION
from deltadesk.core.importers import import_documents, parse_import
from deltadesk.core.store import Store
from tests.core.test_import import exported, tree_shape


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "fresh.sqlite3") as opened:
        yield opened


# What Deltadesk wrote before format 2: no pin, no settings, no reasoning time.
VERSION_1 = """{
 "format": "deltadesk-history",
 "version": 1,
 "conversations": [
  {
   "id": 12,
   "title": "Old one",
   "created_at": 1733050000.0,
   "updated_at": 1733050014.0,
   "active_leaf_id": 52,
   "source": null,
   "source_id": null,
   "messages": [
    {"id": 51, "parent_id": null, "role": "user", "content": "Hi", "reasoning": "",
     "status": "done", "error_kind": null, "error_message": null, "profile": null,
     "model": null, "prompt_tokens": null, "completion_tokens": null,
     "reasoning_tokens": null, "ttft_ms": null, "tokens_per_second": null,
     "estimated_tokens": null, "created_at": 1733050010.0, "updated_at": 1733050010.0},
    {"id": 52, "parent_id": 51, "role": "assistant", "content": "Hello.",
     "reasoning": "Greet back.", "status": "done", "error_kind": null,
     "error_message": null, "profile": "Work", "model": "m1", "prompt_tokens": 3,
     "completion_tokens": 2, "reasoning_tokens": 1, "ttft_ms": 200.0,
     "tokens_per_second": 20.0, "estimated_tokens": null, "created_at": 1733050012.0,
     "updated_at": 1733050014.0}
   ]
  }
 ]
}
"""


def test_a_version_1_export_still_imports(fresh: Store, tmp_path: Path) -> None:
    result = import_documents(fresh, parse_import(VERSION_1.encode()))
    assert (result.conversations, result.messages) == (1, 2)
    (old,) = fresh.list_conversations()
    assert (old.title, old.pinned, old.settings) == ("Old one", False, ConversationSettings())
    answer = fresh.active_path(old.id)[-1]
    assert (answer.content, answer.reasoning, answer.model) == ("Hello.", "Greet back.", "m1")
    assert (answer.ttft_ms, answer.reasoning_ms) == (200.0, None)
    again = json.loads(exported(fresh))
    assert again["version"] == VERSION
    (conversation,) = again["conversations"]
    assert (conversation["pinned"], conversation["settings"]) == (
        False,
        dict.fromkeys(SETTINGS_KEYS),
    )
    assert "<details><summary>Thinking</summary>" in exported(fresh, "md")  # no made-up time
    with Store(tmp_path / "again.sqlite3") as again_store:  # its version 2 export round-trips
        import_documents(again_store, parse_import(exported(fresh).encode()))
        assert exported(again_store) == exported(fresh)
        assert exported(again_store, "md") == exported(fresh, "md")


def with_new_fields(pinned: Any, settings: Any, reasoning_ms: Any) -> bytes:
    document = json.loads(VERSION_1)
    document["version"] = VERSION
    (conversation,) = document["conversations"]
    conversation["pinned"], conversation["settings"] = pinned, settings
    conversation["messages"][1]["reasoning_ms"] = reasoning_ms
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("pinned", "settings", "reasoning_ms"),
    [
        ("yes", "French please", "3 s"),
        (1, ["system", "x"], -5.0),
        (None, None, True),
        ({}, {"temperature": 9, "max_tokens": 0, "reasoning_effort": "extreme"}, 10**400),
        (False, {"system": 42, "profile": {}, "model": ""}, None),
    ],
)
def test_bad_new_fields_are_the_defaults_not_a_refusal(
    fresh: Store, pinned: Any, settings: Any, reasoning_ms: Any
) -> None:
    import_documents(fresh, parse_import(with_new_fields(pinned, settings, reasoning_ms)))
    (conversation,) = fresh.list_conversations()
    assert (conversation.pinned, conversation.settings) == (False, ConversationSettings())
    assert [m.reasoning_ms for m in fresh.messages(conversation.id)] == [None, None]


def test_good_values_beside_bad_ones_are_kept(fresh: Store) -> None:
    settings = {"system": "  Be brief.  ", "temperature": 5, "max_tokens": 300, "extra": 1}
    import_documents(fresh, parse_import(with_new_fields(True, settings, 2500)))
    (conversation,) = fresh.list_conversations()
    assert conversation.pinned is True
    assert conversation.settings == ConversationSettings(system="Be brief.", max_tokens=300)
    assert fresh.active_path(conversation.id)[-1].reasoning_ms == 2500.0
    assert "<details><summary>Thought for 2.5 s</summary>" in exported(fresh, "md")


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["low", "medium", "high"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)


@settings(max_examples=60)
@given(
    pinned=JSON_VALUES,
    raw_settings=st.dictionaries(st.sampled_from(SETTINGS_KEYS), JSON_VALUES) | JSON_VALUES,
    reasoning_ms=JSON_VALUES | st.floats(min_value=0, max_value=1e9),
)
def test_any_new_fields_import_and_then_round_trip_unchanged(
    tmp_path_factory: pytest.TempPathFactory, pinned: Any, raw_settings: Any, reasoning_ms: Any
) -> None:
    """Whatever a file holds in the version 2 fields, it imports (bad values as defaults), and
    what the import made exports, imports and exports again to the same JSON and Markdown."""
    folder = tmp_path_factory.mktemp("new-fields")
    with Store(folder / "a.sqlite3") as first, Store(folder / "b.sqlite3") as second:
        import_documents(first, parse_import(with_new_fields(pinned, raw_settings, reasoning_ms)))
        import_documents(second, parse_import(exported(first).encode()))
        assert exported(second) == exported(first)
        assert exported(second, "md") == exported(first, "md")
        assert tree_shape(second) == tree_shape(first)
