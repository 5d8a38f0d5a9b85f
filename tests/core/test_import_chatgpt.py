"""ChatGPT's conversations.json into a real history file: every branch, current_node as the
active leaf, hidden nodes left out, thoughts as reasoning, images noted, and refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.chatgpt_import import IMAGE_NOTE
from deltadesk.core.exporters import documents, to_json
from deltadesk.core.history_document import ImportFormatError
from deltadesk.core.importers import import_documents, parse_import
from deltadesk.core.store import Conversation, Message, Store

FIXTURE = Path(__file__).parent / "data" / "chatgpt-conversations.json"
LISBON = "6750e3c1-8a2c-800b-9c3e-1f2a3b4c5d6e"
REVERSE = "6751aa02-17f0-800b-a1b2-c3d4e5f60718"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "history.sqlite3") as opened:
        yield opened


def raw_export() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return loaded


def import_raw(store: Store, data: Any) -> None:
    import_documents(store, parse_import(json.dumps(data).encode()))


def imported(store: Store, source_id: str) -> tuple[Conversation, list[Message]]:
    conversation = store.find_conversation_by_source("chatgpt", source_id)
    assert conversation is not None
    return conversation, store.messages(conversation.id)


def test_every_branch_is_kept_and_hidden_nodes_are_not(store: Store) -> None:
    import_documents(store, parse_import(FIXTURE.read_bytes()))
    conversation, messages = imported(store, LISBON)
    assert conversation.title == "Lisbon trip"
    assert conversation.created_at == 1733050000.0
    plan, first, second, image_turn, answer = messages  # no system, no custom instructions
    assert (plan.role, plan.content, plan.parent_id) == (
        "user",
        "Plan a three-day trip to Lisbon.",
        None,
    )
    assert first.parent_id == second.parent_id == plan.id  # the regenerated answer, beside
    assert first.content.startswith("Day 1: Alfama")
    assert image_turn.parent_id == second.id
    assert (
        image_turn.content
        == f"{IMAGE_NOTE}\n\nCould day 3 be Sintra instead? Here is the map I have."
    )
    assert answer.parent_id == image_turn.id
    assert answer.created_at == answer.updated_at == 1733050071.0
    assert conversation.updated_at == 1733050071.0  # its last message's time, not the import's
    assert all(m.role != "system" and "I like walking" not in m.content for m in messages)


def test_current_node_is_the_active_leaf(store: Store) -> None:
    import_documents(store, parse_import(FIXTURE.read_bytes()))
    conversation, messages = imported(store, LISBON)
    assert conversation.active_leaf_id == messages[-1].id
    reverse, _ = imported(store, REVERSE)
    path = [m.content for m in store.active_path(reverse.id)]
    # current_node is the older branch (the first prompt), not the edited one made later.
    assert path[0] == "How do I reverse a list in Python?"
    assert path[-1].startswith("Use `reversed()`")


def test_an_edited_prompt_is_a_sibling_root(store: Store) -> None:
    import_documents(store, parse_import(FIXTURE.read_bytes()))
    _, messages = imported(store, REVERSE)
    roots = [m for m in messages if m.parent_id is None]
    assert [m.content for m in roots] == [
        "How do I reverse a list in Python?",
        "How do I reverse a string in Python?",
    ]
    (edited_answer,) = store.children(roots[1].id)
    assert (edited_answer.status, edited_answer.model) == ("stopped", "gpt-4o-mini")


def test_thoughts_become_the_reasoning_of_the_answer(store: Store) -> None:
    import_documents(store, parse_import(FIXTURE.read_bytes()))
    _, messages = imported(store, LISBON)
    answer = messages[-1]
    assert answer.content.startswith("Yes: take the train from Rossio")
    assert answer.reasoning == (
        "**Checking train times**\n\nTrains to Sintra leave Rossio every 20 minutes.\n\n"
        "**Reading the map**\n\nThe map shows the old town and Pena Palace."
    )
    assert answer.model == "o3"
    assert "Thought for 9 seconds" not in answer.content + answer.reasoning


def test_code_and_tool_output_are_fenced(store: Store) -> None:
    import_documents(store, parse_import(FIXTURE.read_bytes()))
    reverse, _ = imported(store, REVERSE)
    code, output = [m.content for m in store.active_path(reverse.id)][1:3]
    assert code == "```\nprint(list(reversed([1, 2, 3])))\n```"
    assert output == "*Tool output:*\n\n```\n[3, 2, 1]\n```"


def test_reimport_is_a_no_op(store: Store) -> None:
    data = FIXTURE.read_bytes()
    import_documents(store, parse_import(data))
    before = to_json(documents(store, store.list_conversations()))
    result = import_documents(store, parse_import(data))
    assert (result.conversations, result.messages, result.already_there) == (0, 0, 2)
    assert to_json(documents(store, store.list_conversations())) == before


def test_a_new_conversation_in_a_later_export_is_added_beside(store: Store) -> None:
    export = raw_export()
    import_raw(store, export[:1])
    import_raw(store, export)
    assert sorted(c.source_id or "" for c in store.list_conversations()) == [LISBON, REVERSE]


def test_current_node_on_a_hidden_node_means_its_nearest_shown_ancestor(store: Store) -> None:
    export = raw_export()
    lisbon = export[1]
    lisbon["mapping"]["a-3"]["children"] = ["hidden-end"]
    lisbon["mapping"]["hidden-end"] = {
        "id": "hidden-end",
        "parent": "a-3",
        "children": [],
        "message": {
            "id": "hidden-end",
            "author": {"role": "system"},
            "content": {"content_type": "text", "parts": ["internal"]},
            "metadata": {"is_visually_hidden_from_conversation": True},
        },
    }
    lisbon["current_node"] = "hidden-end"
    import_raw(store, [lisbon])
    conversation, messages = imported(store, LISBON)
    assert conversation.active_leaf_id == messages[-1].id
    assert "internal" not in [m.content for m in messages]


def test_thoughts_with_no_answer_yet_are_kept_as_reasoning_alone(store: Store) -> None:
    lisbon = raw_export()[1]
    mapping = lisbon["mapping"]
    mapping["th-1"]["children"] = []
    del mapping["rr-1"], mapping["a-3"]
    lisbon["current_node"] = "th-1"
    import_raw(store, [lisbon])
    _, messages = imported(store, LISBON)
    last = messages[-1]
    assert (last.role, last.content) == ("assistant", "")
    assert last.reasoning.startswith("**Checking train times**")


def test_a_very_deep_conversation_imports_without_recursion(store: Store) -> None:
    depth = 5000  # far past Python's recursion limit
    mapping: dict[str, Any] = {"root": {"id": "root", "message": None, "parent": None}}
    for n in range(depth):
        parent = "root" if n == 0 else f"n{n - 1}"
        role = "user" if n % 2 == 0 else "assistant"
        mapping[f"n{n}"] = {
            "id": f"n{n}",
            "parent": parent,
            "children": [f"n{n + 1}"] if n + 1 < depth else [],
            "message": {
                "id": f"n{n}",
                "author": {"role": role},
                "create_time": 1700000000.0 + n,
                "content": {"content_type": "text", "parts": [f"turn {n}"]},
            },
        }
        mapping[parent].setdefault("children", [f"n{n}"])
    data = {"id": "deep", "title": "Deep", "create_time": 1700000000.0, "mapping": mapping}
    import_raw(store, [data])
    conversation = store.find_conversation_by_source("chatgpt", "deep")
    assert conversation is not None
    path = store.active_path(conversation.id)
    assert len(path) == depth
    assert path[-1].content == f"turn {depth - 1}"


def mutate(change: str) -> list[dict[str, Any]]:
    export = raw_export()
    lisbon = export[1]
    mapping = lisbon["mapping"]
    if change == "a parent that is not there":
        mapping["u-2"]["parent"] = "nowhere"
    elif change == "a parent loop":
        mapping["u-1"]["parent"] = "a-3"
    elif change == "no mapping":
        del lisbon["mapping"]
    elif change == "current_node that is not there":
        lisbon["current_node"] = "nowhere"
    elif change == "content that is not an object":
        mapping["u-1"]["message"]["content"] = "text"
    elif change == "an unknown author role":
        mapping["u-1"]["message"]["author"]["role"] = "narrator"
    elif change == "no id":
        del lisbon["id"], lisbon["conversation_id"]
    elif change == "a time that is text":
        mapping["u-1"]["message"]["create_time"] = "noon"
    elif change == "parts that are not a list":
        mapping["u-1"]["message"]["content"]["parts"] = "Plan"
    elif change == "children that are not ids":
        mapping["u-1"]["children"] = [1, 2]
    return export


@pytest.mark.parametrize(
    "change",
    [
        "a parent that is not there",
        "a parent loop",
        "no mapping",
        "current_node that is not there",
        "content that is not an object",
        "an unknown author role",
        "no id",
        "a time that is text",
        "parts that are not a list",
        "children that are not ids",
    ],
)
def test_a_malformed_export_is_refused_with_nothing_written(store: Store, change: str) -> None:
    mine = store.create_conversation("Mine")
    store.add_message(mine.id, "user", "Keep me")
    before = to_json(documents(store, store.list_conversations()))
    export = mutate(change)
    assert export != raw_export()
    with pytest.raises(ImportFormatError) as refused:
        import_raw(store, export)
    assert "conversation 2" in str(refused.value)  # the Lisbon one, second in the file
    assert to_json(documents(store, store.list_conversations())) == before
