"""Import of our own JSON into real history files: round trips (pins, settings and reasoning
times included), older versions, merging, and refusals that leave the history exactly as it
was."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltadesk.core import importers
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.events import Usage
from deltadesk.core.exporters import documents, to_json, to_markdown
from deltadesk.core.history_document import ImportFormatError
from deltadesk.core.history_json import VERSION
from deltadesk.core.importers import import_documents, parse_import, read_import_file
from deltadesk.core.store import Store, StoreWriteError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "history.sqlite3") as opened:
        yield opened


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "fresh.sqlite3") as opened:
        yield opened


def fill(store: Store) -> None:
    """Two conversations; the first pinned, with settings, branched, with reasoning (and its
    time), figures and a stopped answer; its active path goes through the older answer."""
    settings = ConversationSettings(system="Be terse.", temperature=0.7, reasoning_effort="low")
    trip = store.create_conversation("Trip", settings=settings)
    store.set_pinned(trip.id, True)
    prompt = store.add_message(trip.id, "user", "Plan a trip.")
    older = store.add_message(trip.id, "assistant", "Rome.", profile="Work", model="m1")
    newer = store.add_message(trip.id, "assistant", "", parent_id=prompt.id, status="streaming")
    store.finish_answer(
        newer.id,
        content="Lisbon.",
        reasoning="Warm and cheap.",
        status="done",
        usage=Usage(prompt_tokens=9, completion_tokens=2, reasoning_tokens=4),
        ttft_ms=350.0,
        tokens_per_second=33.5,
        estimated_tokens=7,
        reasoning_ms=1530.0,
    )
    store.add_message(trip.id, "user", "Shorter?", parent_id=older.id)
    store.add_message(trip.id, "assistant", "Ro.", status="stopped")
    other = store.create_conversation("Other")
    store.add_message(other.id, "system", "Be brief.")
    store.add_message(other.id, "user", "Hi")


def exported(store: Store, form: str = "json") -> str:
    docs = documents(store, sorted(store.list_conversations(), key=lambda c: c.id))
    return to_json(docs) if form == "json" else to_markdown(docs)


def tree_shape(store: Store) -> list[list[tuple[Any, ...]]]:
    """Each conversation's messages as (parent's position, role, content, reasoning, status,
    figures, times), and its active leaf's position, title and updated time: the tree without
    the database's own ids."""
    shapes = []
    for conversation in sorted(store.list_conversations(), key=lambda c: c.created_at):
        messages = store.messages(conversation.id)
        place = {m.id: n for n, m in enumerate(messages)}
        rows: list[tuple[Any, ...]] = [
            (
                place.get(m.parent_id) if m.parent_id is not None else None,
                m.role,
                m.content,
                m.reasoning,
                m.status,
                m.profile,
                m.model,
                m.prompt_tokens,
                m.completion_tokens,
                m.reasoning_tokens,
                m.ttft_ms,
                m.tokens_per_second,
                m.estimated_tokens,
                m.reasoning_ms,
                m.created_at,
                m.updated_at,
            )
            for m in messages
        ]
        leaf = conversation.active_leaf_id
        place_of_leaf = place.get(leaf) if leaf is not None else None
        rows.append(
            (
                "leaf",
                place_of_leaf,
                conversation.title,
                conversation.updated_at,
                conversation.pinned,
                conversation.settings,
            )
        )
        shapes.append(rows)
    return shapes


def test_round_trip_gives_the_same_markdown_and_tree(store: Store, fresh: Store) -> None:
    fill(store)
    result = import_documents(fresh, parse_import(exported(store).encode()))
    assert (result.conversations, result.messages, result.already_there) == (2, 7, 0)
    assert exported(fresh, "md") == exported(store, "md")
    assert tree_shape(fresh) == tree_shape(store)


def test_reimport_is_a_no_op(store: Store, fresh: Store) -> None:
    fill(store)
    data = exported(store).encode()
    import_documents(fresh, parse_import(data))
    before = exported(fresh)
    result = import_documents(fresh, parse_import(data))
    assert (result.conversations, result.already_there) == (0, 2)
    assert exported(fresh) == before


def test_import_into_the_history_it_came_from_adds_nothing(store: Store) -> None:
    fill(store)
    before = exported(store)
    result = import_documents(store, parse_import(before.encode()))
    assert (result.conversations, result.already_there) == (0, 2)
    assert exported(store) == before


def test_an_imported_copy_keeps_its_identity_through_another_export(
    store: Store, fresh: Store, tmp_path: Path
) -> None:
    fill(store)
    original = exported(store).encode()
    import_documents(fresh, parse_import(original))
    with Store(tmp_path / "third.sqlite3") as third:
        import_documents(third, parse_import(exported(fresh).encode()))
        result = import_documents(third, parse_import(original))
        assert (result.conversations, result.already_there) == (0, 2)
        sources = {c.source for c in third.list_conversations()}
        assert sources == {"deltadesk"}


def test_import_merges_beside_what_is_there(store: Store, fresh: Store) -> None:
    fill(store)
    mine = fresh.create_conversation("Mine")
    fresh.add_message(mine.id, "user", "Keep me")
    import_documents(fresh, parse_import(exported(store).encode()))
    titles = sorted(c.title for c in fresh.list_conversations())
    assert titles == ["Mine", "Other", "Trip"]
    assert [m.content for m in fresh.messages(mine.id)] == ["Keep me"]


def test_a_streaming_answer_comes_in_interrupted(store: Store, fresh: Store) -> None:
    conversation = store.create_conversation("Live")
    store.add_message(conversation.id, "user", "Go")
    answer = store.add_message(conversation.id, "assistant", status="streaming")
    store.append_partial(answer.id, "half", "")
    import_documents(fresh, parse_import(exported(store).encode()))
    (copy,) = fresh.list_conversations()
    last = fresh.active_path(copy.id)[-1]
    assert (last.content, last.status) == ("half", "interrupted")


def test_pin_settings_and_reasoning_time_come_back(store: Store, fresh: Store) -> None:
    fill(store)
    import_documents(fresh, parse_import(exported(store).encode()))
    trip, other = sorted(fresh.list_conversations(), key=lambda c: c.created_at)
    assert (trip.pinned, other.pinned) == (True, False)
    assert trip.settings == ConversationSettings(
        system="Be terse.", temperature=0.7, reasoning_effort="low"
    )
    assert other.settings == ConversationSettings()
    assert [m.reasoning_ms for m in fresh.messages(trip.id)] == [None, None, 1530.0, None, None]
    # The same JSON but for where the copy came from (both histories were empty: same ids).
    assert without_source(exported(fresh)) == without_source(exported(store))


def without_source(text: str) -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(text)["conversations"]
    for conversation in conversations:
        del conversation["source"], conversation["source_id"]
    return conversations


def test_export_import_export_gives_the_same_json(
    store: Store, fresh: Store, tmp_path: Path
) -> None:
    fill(store)
    import_documents(fresh, parse_import(exported(store).encode()))
    with Store(tmp_path / "third.sqlite3") as third:
        import_documents(third, parse_import(exported(fresh).encode()))
        assert exported(third) == exported(fresh)  # the copy's own identity is kept as well
        assert exported(third, "md") == exported(fresh, "md") == exported(store, "md")


def good_document(store: Store) -> dict[str, Any]:
    fill(store)
    document: dict[str, Any] = json.loads(exported(store))
    return document


def broken(change: str) -> Any:
    """A change to a good export that makes it malformed."""

    def apply(document: dict[str, Any]) -> None:
        trip = document["conversations"][0]
        messages = trip["messages"]
        if change == "missing parent":
            messages[1]["parent_id"] = 999
        elif change == "parent loop":
            messages[0]["parent_id"] = messages[1]["id"]
        elif change == "repeated id":
            messages[1]["id"] = messages[0]["id"]
        elif change == "unknown role":
            messages[0]["role"] = "wizard"
        elif change == "unknown status":
            messages[0]["status"] = "finished"
        elif change == "text that is a number":
            messages[0]["content"] = 42
        elif change == "a number too big for SQLite":
            messages[0]["prompt_tokens"] = 2**70
        elif change == "leaf elsewhere":
            trip["active_leaf_id"] = 12345
        elif change == "newer version":
            document["version"] = VERSION + 1
        elif change == "last conversation bad":
            document["conversations"][-1]["messages"][0]["created_at"] = "yesterday"
        elif change == "messages not a list":
            trip["messages"] = {"a": 1}

    return apply


CHANGES = [
    "missing parent",
    "parent loop",
    "repeated id",
    "unknown role",
    "unknown status",
    "text that is a number",
    "a number too big for SQLite",
    "leaf elsewhere",
    "newer version",
    "last conversation bad",
    "messages not a list",
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_malformed_export_is_refused_with_nothing_written(
    store: Store, fresh: Store, change: str
) -> None:
    document = good_document(store)
    broken(change)(document)
    mine = fresh.create_conversation("Mine")
    fresh.add_message(mine.id, "user", "Keep me")
    before = exported(fresh)
    with pytest.raises(ImportFormatError) as refused:
        import_documents(fresh, parse_import(json.dumps(document).encode()))
    assert str(refused.value)  # says what is wrong
    assert exported(fresh) == before


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "not valid JSON"),
        (b'{"format": "deltadesk-history", "version": 1, "conversations": [', "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"format": "deltadesk-history", "version": 1, "conversations": NaN}', "NaN"),
        (b"[" * 200_000 + b"]" * 200_000, "JSON"),
        (b'{"format": "deltadesk-history", "version": 1, "conversations": [1e999]}', "not an"),
        (b'{"hello": "world"}', "neither a Deltadesk export nor ChatGPT"),
        (b'"just text"', "neither"),
        (b'{"format": "deltadesk-history"}', "no format version"),
        (
            b'{"format": "deltadesk-history", "version": 1, "conversations": ['
            + b"1" * 5000
            + b"]}",
            "JSON",
        ),
    ],
)
def test_files_that_are_not_exports_are_refused(data: bytes, said: str) -> None:
    with pytest.raises(ImportFormatError, match=said):
        parse_import(data)


def test_a_write_failure_midway_leaves_the_history_as_it_was(
    store: Store, fresh: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(store)
    data = parse_import(exported(store).encode())
    mine = fresh.create_conversation("Mine")
    before = exported(fresh)
    calls = 0
    real_add = fresh.add_message

    def failing_add(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 6:  # the first conversation (5 messages) is in, the second underway
            raise StoreWriteError("full", "The disk is full.")
        return real_add(*args, **kwargs)

    monkeypatch.setattr(fresh, "add_message", failing_add)
    with pytest.raises(StoreWriteError):
        import_documents(fresh, data)
    assert calls == 6
    assert exported(fresh) == before
    assert [c.id for c in fresh.list_conversations()] == [mine.id]
    monkeypatch.undo()
    assert import_documents(fresh, data).conversations == 2  # nothing half-there blocks it


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importers, "MAX_IMPORT_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1001)
    with pytest.raises(ImportFormatError, match="over the"):
        read_import_file(big)
    with pytest.raises(ImportFormatError, match="over the"):
        read_import_file(None, io.BytesIO(b" " * 1001))
    assert read_import_file(None, io.BytesIO(b" " * 1000)) == b" " * 1000


def test_the_real_limit_is_200_mb() -> None:
    assert importers.MAX_IMPORT_BYTES == 200 * 1024 * 1024


@st.composite
def trees(draw: st.DrawFn) -> list[tuple[int | None, str, str, str]]:
    """Messages as (parent's index or None, role, content, reasoning), parents first."""
    count = draw(st.integers(min_value=0, max_value=12))
    text = st.text(max_size=30)  # any code point: controls, surrogates, NUL
    made: list[tuple[int | None, str, str, str]] = []
    for n in range(count):
        parent = draw(st.none() | st.integers(min_value=0, max_value=n - 1)) if n else None
        role = draw(st.sampled_from(["user", "assistant", "system"]))
        made.append((parent, role, draw(text), draw(text)))
    return made


@settings(max_examples=40)
@given(messages=trees(), title=st.text(max_size=40), leaf=st.integers(min_value=0, max_value=11))
def test_any_tree_survives_the_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    messages: list[tuple[int | None, str, str, str]],
    title: str,
    leaf: int,
) -> None:
    folder = tmp_path_factory.mktemp("round-trip")
    with Store(folder / "a.sqlite3") as source, Store(folder / "b.sqlite3") as target:
        conversation = source.create_conversation(title)
        ids: list[int] = []
        for parent, role, content, reasoning in messages:
            parent_id = None if parent is None else ids[parent]
            made = source.add_message(conversation.id, role, content, parent_id=parent_id)
            if reasoning:
                source.update_message(made.id, reasoning=reasoning)
            ids.append(made.id)
        if ids:
            source.set_active_leaf(conversation.id, ids[leaf % len(ids)])
        import_documents(target, parse_import(exported(source).encode()))
        assert tree_shape(target) == tree_shape(source)
        assert exported(target, "md") == exported(source, "md")
