"""Export from a real history file: the JSON tree (every branch, every field, no key) and the
Markdown active path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Usage
from deltadesk.core.exporters import documents, to_json, to_markdown
from deltadesk.core.history_json import MESSAGE_KEYS
from deltadesk.core.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "history.sqlite3") as opened:
        yield opened


def branched(store: Store) -> int:
    """You: Plan → two answers (the second regenerated, with reasoning and figures) →
    You: Shorter? → a stopped answer. The active path goes through the second answer."""
    conversation = store.create_conversation("Trip\tplan")
    prompt = store.add_message(conversation.id, "user", "Plan a trip.")
    first = store.add_message(conversation.id, "assistant", "Go to Rome.", model="m1")
    store.finish_answer(first.id, content="Go to Rome.", reasoning="", status="done")
    second = store.add_message(
        conversation.id, "assistant", parent_id=prompt.id, status="streaming", profile="Work"
    )
    store.finish_answer(
        second.id,
        content="Go to Lisbon.",
        reasoning="Warm </details> <b>and</b> cheap.",
        status="done",
        usage=Usage(prompt_tokens=12, completion_tokens=5, reasoning_tokens=3),
        ttft_ms=812.5,
        tokens_per_second=41.0,
    )
    store.add_message(conversation.id, "user", "Shorter?")
    last = store.add_message(conversation.id, "assistant", status="streaming", model="m2")
    error = ChatError(ErrorKind.CONNECTION, "The connection closed.")
    store.finish_answer(last.id, content="Lisbon.", reasoning="", status="stopped", error=error)
    return conversation.id


def test_json_holds_the_whole_tree_with_every_field(store: Store) -> None:
    conversation_id = branched(store)
    exported = json.loads(to_json(documents(store, store.list_conversations())))
    assert (exported["format"], exported["version"]) == ("deltadesk-history", 1)
    (conversation,) = exported["conversations"]
    assert conversation["title"] == "Trip\tplan"
    assert conversation["id"] == conversation_id
    messages = conversation["messages"]
    assert [m["content"] for m in messages] == [
        "Plan a trip.",
        "Go to Rome.",
        "Go to Lisbon.",
        "Shorter?",
        "Lisbon.",
    ]
    assert all(tuple(m) == MESSAGE_KEYS for m in messages)
    prompt, rome, lisbon, shorter, last = messages
    assert rome["parent_id"] == lisbon["parent_id"] == prompt["id"]  # siblings, both kept
    assert shorter["parent_id"] == lisbon["id"]
    assert conversation["active_leaf_id"] == last["id"]
    assert (lisbon["profile"], lisbon["reasoning"]) == ("Work", "Warm </details> <b>and</b> cheap.")
    figures = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "ttft_ms")
    assert [lisbon[name] for name in figures] == [12, 5, 3, 812.5]
    assert lisbon["tokens_per_second"] == 41.0
    assert (last["status"], last["error_kind"], last["model"]) == ("stopped", "connection", "m2")


def test_json_escapes_every_control_character(store: Store) -> None:
    conversation = store.create_conversation("Title \x1b]52;c;aGk=\x07 \x9b2J\x7f")
    store.add_message(conversation.id, "user", "é \u2028 ok")
    text = to_json(documents(store, [conversation]))
    assert not any(ord(c) < 0x20 and c != "\n" for c in text)
    assert not any(0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" for c in text)
    assert "é" in text  # readable, not \u-escaped
    assert json.loads(text)["conversations"][0]["title"] == conversation.title


def test_markdown_is_the_active_path(store: Store) -> None:
    conversation_id = branched(store)
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    text = to_markdown(documents(store, [conversation]))
    assert "Go to Rome." not in text  # the other branch
    assert text.index("## You") < text.index("Go to Lisbon.") < text.index("Shorter?")
    assert text.startswith("# Trip plan\n")
    assert "## Assistant · m2" in text
    assert "*Stopped before the end.*" in text


def test_markdown_reasoning_is_folded_and_cannot_break_out(store: Store) -> None:
    conversation_id = branched(store)
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    text = to_markdown(documents(store, [conversation]))
    assert (
        "<details><summary>Thinking</summary>\n\n"
        "Warm &lt;/details&gt; &lt;b&gt;and&lt;/b&gt; cheap.\n\n</details>"
    ) in text
    assert text.count("</details>") == 1


def test_branch_notes_name_the_position_among_siblings(store: Store) -> None:
    conversation_id = branched(store)
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    text = to_markdown(documents(store, [conversation]), branch_notes=True)
    assert "## Assistant (answer 2 of 2)" in text
    assert "(answer 1 of" not in text


def test_failed_answer_says_why_on_one_line(store: Store) -> None:
    conversation = store.create_conversation("x")
    store.add_message(conversation.id, "user", "hi")
    answer = store.add_message(conversation.id, "assistant", status="streaming")
    error = ChatError(ErrorKind.AUTH, "Wrong key.\nCheck Settings.")
    store.finish_answer(answer.id, content="", reasoning="", status="failed", error=error)
    text = to_markdown(documents(store, [conversation]))
    assert text.endswith("## Assistant\n\n*Failed: Wrong key. Check Settings.*\n")


def test_many_conversations_are_separated(store: Store) -> None:
    for title in ("One", "Two"):
        conversation = store.create_conversation(title)
        store.add_message(conversation.id, "user", f"{title}?")
    text = to_markdown(documents(store, store.list_conversations()))
    assert text.count("\n---\n") == 1
    assert text.count("# Two\n") == text.count("# One\n") == 1
