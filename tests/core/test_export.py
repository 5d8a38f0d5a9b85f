"""Export from a real history file: the JSON tree (every branch, every field, the pin and the
settings, no key) and the Markdown active path (with how long the model thought)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.durations import thought_time
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Usage
from deltadesk.core.exporters import documents, to_json, to_markdown
from deltadesk.core.history_json import MESSAGE_KEYS, SETTINGS_KEYS
from deltadesk.core.store import Store

SETTINGS = ConversationSettings(
    system="Answer in French.",
    temperature=0.2,
    max_tokens=400,
    reasoning_effort="high",
    profile="Work",
    model="gpt-4o",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "history.sqlite3") as opened:
        yield opened


def branched(store: Store) -> int:
    """You: Plan → two answers (the second regenerated, with reasoning, its time and figures)
    → You: Shorter? → a stopped answer. The active path goes through the second answer. The
    conversation is pinned and has every setting."""
    conversation = store.create_conversation("Trip\tplan", settings=SETTINGS)
    store.set_pinned(conversation.id, True)
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
        reasoning_ms=3240.0,
    )
    store.add_message(conversation.id, "user", "Shorter?")
    last = store.add_message(conversation.id, "assistant", status="streaming", model="m2")
    error = ChatError(ErrorKind.CONNECTION, "The connection closed.")
    store.finish_answer(last.id, content="Lisbon.", reasoning="", status="stopped", error=error)
    return conversation.id


def test_json_holds_the_whole_tree_with_every_field(store: Store) -> None:
    conversation_id = branched(store)
    exported = json.loads(to_json(documents(store, store.list_conversations())))
    assert (exported["format"], exported["version"]) == ("deltadesk-history", 2)
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
    assert lisbon["reasoning_ms"] == 3240.0
    assert rome["reasoning_ms"] is None  # unknown, not 0
    assert (last["status"], last["error_kind"], last["model"]) == ("stopped", "connection", "m2")
    assert conversation["pinned"] is True
    assert conversation["settings"] == {
        "system": "Answer in French.",
        "temperature": 0.2,
        "max_tokens": 400,
        "reasoning_effort": "high",
        "profile": "Work",
        "model": "gpt-4o",
    }


def test_json_of_a_plain_conversation_says_unpinned_and_default_settings(store: Store) -> None:
    conversation = store.create_conversation("Plain")
    (shown,) = json.loads(to_json(documents(store, [conversation])))["conversations"]
    assert shown["pinned"] is False
    assert shown["settings"] == dict.fromkeys(SETTINGS_KEYS)  # every one the profile's default


def test_settings_are_exported_from_a_fixed_list_and_hold_no_key(store: Store) -> None:
    # A field added to ConversationSettings must be added to SETTINGS_KEYS on purpose (after
    # checking it is nothing secret): until then this fails instead of exporting it unseen.
    assert tuple(f.name for f in fields(ConversationSettings)) == SETTINGS_KEYS
    branched(store)
    assert not any("key" in name.lower() for name in SETTINGS_KEYS)
    exported = json.loads(to_json(documents(store, store.list_conversations())))
    for conversation in exported["conversations"]:
        assert tuple(conversation["settings"]) == SETTINGS_KEYS


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
        "<details><summary>Thought for 3.2 s</summary>\n\n"
        "Warm &lt;/details&gt; &lt;b&gt;and&lt;/b&gt; cheap.\n\n</details>"
    ) in text
    assert text.count("</details>") == 1


def test_markdown_says_thinking_without_a_figure_when_the_time_is_unknown(store: Store) -> None:
    conversation = store.create_conversation("Old")
    store.add_message(conversation.id, "user", "hi")
    answer = store.add_message(conversation.id, "assistant", status="streaming")
    store.finish_answer(answer.id, content="Hello.", reasoning="Greet.", status="done")
    text = to_markdown(documents(store, [conversation]))
    assert "<details><summary>Thinking</summary>\n\nGreet.\n\n</details>" in text
    assert "Thought for" not in text


def test_a_time_without_reasoning_text_adds_nothing(store: Store) -> None:
    conversation = store.create_conversation("Hidden thoughts")
    answer = store.add_message(conversation.id, "assistant", status="streaming")
    store.finish_answer(answer.id, content="42.", reasoning="", status="done", reasoning_ms=900.0)
    text = to_markdown(documents(store, [conversation]))
    assert "<details>" not in text and "Thought" not in text


@pytest.mark.parametrize(
    ("ms", "said"),
    [
        (0.0, "under 0.1 s"),
        (40.0, "under 0.1 s"),
        (3240.0, "3.2 s"),
        (9940.0, "9.9 s"),
        (9960.0, "10 s"),
        (27_400.0, "27 s"),
        (65_000.0, "1 min 5 s"),
        (120_000.0, "2 min"),
        (-5.0, "under 0.1 s"),
        (float("nan"), "under 0.1 s"),
    ],
)
def test_thought_time_reads_like_the_window(ms: float, said: str) -> None:
    assert thought_time(ms) == said


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
