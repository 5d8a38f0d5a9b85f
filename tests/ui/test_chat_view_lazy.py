"""Opening long conversations lazily (real widgets, offscreen): the newest messages first, the
older ones rendered from the event loop and inserted above, without disturbing the reader."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import itertools
import random
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor
from pytestqt.qtbot import QtBot

from deltadesk.ui import older_messages
from deltadesk.ui.chat_view import ChatView, MessageView

WORDS = ("stream", "token", "buffer", "render", "frame", "parser", "widget", "layout", "table")
LOAD_TIMEOUT_MS = 30_000


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    words[1] = f"**{words[1]}**"
    words[-2] = f"`{words[-2]}()`"
    return " ".join(words).capitalize() + "."


def _section(rng: random.Random, number: int) -> str:
    """A heading, a paragraph, a list, and a code block or a table."""
    rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 99)} |" for _ in range(3))
    code = f"```python\ndef step_{number}(items):\n    return [x * 2 for x in items]\n```"
    return "\n\n".join(
        [
            f"## {number}. {rng.choice(WORDS).capitalize()}",
            " ".join(_sentence(rng) for _ in range(4)),
            "\n".join(f"- {_sentence(rng)}" for _ in range(3)),
            code if number % 2 else f"| Name | Value |\n|---|---:|\n{rows}",
        ]
    )


def _answer(seed: int, length: int) -> str:
    """Markdown-rich text (headings, lists, code, tables) of about `length` characters."""
    rng = random.Random(seed)
    sections: list[str] = []
    while sum(len(section) + 2 for section in sections) < length:
        sections.append(_section(rng, len(sections) + 1))
    return "\n\n".join(sections)


def _conversation(messages: int, chars_per_message: int) -> list[MessageView]:
    """Alternating prompts and answers, with ids 1, 2, 3..."""
    conversation = []
    for message_id in range(1, messages + 1):
        if message_id % 2:
            text = f"Question {message_id}: " + _sentence(random.Random(message_id))
            conversation.append(MessageView(message_id, "user", text))
        else:
            conversation.append(
                MessageView(message_id, "assistant", _answer(message_id, chars_per_message))
            )
    return conversation


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _shown_alone(qtbot: QtBot, message: MessageView) -> str:
    reference = ChatView()
    qtbot.addWidget(reference)
    reference.show_messages([message])
    return reference.message_plain_text(message.id)


def _wait_until_loaded(qtbot: QtBot, view: ChatView) -> None:
    qtbot.waitUntil(lambda: view.pending_message_count == 0, timeout=LOAD_TIMEOUT_MS)


def _viewport_y(view: ChatView, message_id: int) -> int:
    """Where the message's answer starts, in viewport pixels."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.answer_span(message_id)[0])
    return view.cursorRect(cursor).top()


def _rendered_ids(view: ChatView) -> list[int]:
    return view.message_ids()[view.pending_message_count :]


# --- a million characters -----------------------------------------------------------------------


def test_a_million_characters_open_newest_first_and_the_rest_follows_in_order(
    view: ChatView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = _conversation(500, 4_000)
    assert 900_000 < sum(len(m.content) for m in messages) < 1_200_000
    view.show_messages(messages)

    # The call itself rendered only the newest few (a couple of screens: bounded work, however
    # long the conversation), and the view is at the bottom.
    rendered = _rendered_ids(view)
    assert 1 <= len(rendered) <= 25
    assert rendered == [m.id for m in messages[-len(rendered) :]]
    assert sum(len(m.content) for m in messages[-len(rendered) :]) < 40_000
    waiting = view.pending_message_count
    assert waiting == 500 - len(rendered)
    assert view.message_plain_text(500) == _shown_alone(qtbot, messages[-1])
    assert view.pending_message_count == waiting  # the newest was there already
    bar = view.verticalScrollBar()
    assert view.following and bar.maximum() > 0 and bar.value() == bar.maximum()

    # The rest in fewer, longer batches: the same path, and the test takes less time.
    monkeypatch.setattr(older_messages, "OLDER_BATCH_SECONDS", 0.05)
    _wait_until_loaded(qtbot, view)
    assert view.message_ids() == [m.id for m in messages]
    starts = [view.answer_span(m.id)[0] for m in messages]
    assert starts == sorted(starts)  # document order is conversation order
    assert view.message_plain_text(1) == _shown_alone(qtbot, messages[0])
    assert view.message_plain_text(2) == _shown_alone(qtbot, messages[1])
    assert view.following and bar.value() == bar.maximum()


def test_the_lazily_built_document_is_the_one_built_message_by_message(qtbot: QtBot) -> None:
    messages = _conversation(60, 2_000)
    messages[5] = MessageView(
        6, "assistant", "Partial", reasoning="first thoughts", status="failed", error_message="x"
    )
    messages[9] = MessageView(10, "assistant", "Cut", status="interrupted")
    lazy, eager = ChatView(), ChatView()
    for widget in (lazy, eager):
        qtbot.addWidget(widget)
        widget.resize(700, 500)
    lazy.show_messages(messages)
    assert lazy.pending_message_count > 20
    for message in messages:
        eager.add_message(message)
    _wait_until_loaded(qtbot, lazy)
    assert lazy.document().toHtml() == eager.document().toHtml()


# --- the reader's place -------------------------------------------------------------------------


def test_text_on_screen_does_not_move_while_older_messages_load(
    view: ChatView, qtbot: QtBot
) -> None:
    messages = _conversation(200, 2_000)
    view.show_messages(messages)
    bar = view.verticalScrollBar()
    watched = _rendered_ids(view)[2]  # a message in the middle of what is rendered
    bar.setValue(bar.value() + _viewport_y(view, watched) - 120)  # the user scrolls up to it
    assert not view.following
    start_value, start_y = bar.value(), _viewport_y(view, watched)
    assert 100 < start_y < 140

    seen_y: list[int] = []

    def loaded() -> bool:
        seen_y.append(_viewport_y(view, watched))
        return view.pending_message_count == 0

    qtbot.waitUntil(loaded, timeout=LOAD_TIMEOUT_MS)
    assert len(seen_y) > 2
    assert all(abs(y - start_y) <= 1 for y in seen_y), sorted(set(seen_y))
    assert bar.value() > start_value + 10 * view.viewport().height()  # much was added above
    assert not view.following


def test_at_the_bottom_the_view_stays_at_the_bottom(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation(100, 2_000))
    bar = view.verticalScrollBar()
    at_bottom: list[bool] = []

    def loaded() -> bool:
        at_bottom.append(bar.value() == bar.maximum())
        return view.pending_message_count == 0

    qtbot.waitUntil(loaded, timeout=LOAD_TIMEOUT_MS)
    assert all(at_bottom) and view.following


# --- switching and clearing ---------------------------------------------------------------------


def test_another_conversation_never_shows_messages_of_the_first(
    view: ChatView, qtbot: QtBot
) -> None:
    first = [MessageView(n, "assistant", f"alpha {n} " * 300) for n in range(1, 201)]
    # The same ids again: a late message of the first conversation could not hide behind them.
    second = [MessageView(n, "assistant", f"bravo {n} " * 300) for n in range(1, 101)]
    view.show_messages(first)
    assert view.pending_message_count > 0
    qtbot.wait(10)  # a few batches of the first conversation run
    assert view.pending_message_count > 0
    view.show_messages(second)
    _wait_until_loaded(qtbot, view)
    qtbot.wait(100)  # any batch still scheduled would have run by now
    assert view.message_ids() == list(range(1, 101))
    assert "alpha" not in view.toPlainText()
    assert view.message_plain_text(1) == ("bravo 1 " * 300).strip()


def test_clearing_cancels_the_older_messages(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation(100, 2_000))
    assert view.pending_message_count > 0
    view.clear_messages()
    assert view.pending_message_count == 0 and view.message_ids() == []
    qtbot.wait(100)
    assert view.toPlainText().strip() == ""


# --- everything else keeps working while older messages load ------------------------------------


def test_streaming_an_answer_while_older_messages_load_ends_in_order(
    view: ChatView, qtbot: QtBot
) -> None:
    messages = _conversation(150, 2_000)
    view.show_messages(messages)
    answer = _answer(999, 3_000)
    view.begin_streaming(999)
    pending_at_start = view.pending_message_count
    assert pending_at_start > 0, "the stream must start while older messages still wait"
    for start in range(0, len(answer), 150):
        view.append_text(999, answer[start : start + 150])
        qtbot.wait(2)  # older batches run in between
    assert view.pending_message_count < pending_at_start, "batches ran during the stream"
    view.end_streaming(999, "done")
    _wait_until_loaded(qtbot, view)
    assert view.message_ids() == [m.id for m in messages] + [999]
    streamed = MessageView(999, "assistant", answer)
    assert view.message_plain_text(999) == _shown_alone(qtbot, streamed)
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum()


def test_asking_for_a_waiting_message_renders_it_at_once(view: ChatView, qtbot: QtBot) -> None:
    messages = _conversation(100, 2_000)
    messages[39] = MessageView(40, "assistant", "Thought it over", reasoning="one two three")
    view.show_messages(messages)
    assert 40 in view.message_ids()[: view.pending_message_count]
    assert view.message_plain_text(40) == "Thought it over"
    assert view.pending_message_count == 39  # the messages after it came first, not before
    assert "▸ Thought\n" in view.toPlainText()
    view.toggle_reasoning(40)
    assert "one two three" in view.toPlainText()
    view.set_message_error(30, "failed", error_message="The provider failed.")  # waiting too
    assert "The provider failed." in view.toPlainText()
    assert view.pending_message_count == 29
    _wait_until_loaded(qtbot, view)
    assert view.message_ids() == [m.id for m in messages]


def test_links_of_older_messages_work(view: ChatView, qtbot: QtBot) -> None:
    messages = _conversation(80, 2_000)
    messages[1] = MessageView(2, "assistant", "```\nold_code()\n```", status="failed")
    view.show_messages(messages)
    assert 2 in view.message_ids()[: view.pending_message_count]
    _wait_until_loaded(qtbot, view)
    view.anchorClicked.emit(QUrl("copy:2.0"))
    assert QGuiApplication.clipboard().text() == "old_code()"
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as blocker:
        view.anchorClicked.emit(QUrl("retry:2"))
    assert blocker.args == [2]


def test_new_and_restarted_messages_go_to_the_end(view: ChatView, qtbot: QtBot) -> None:
    messages = _conversation(80, 2_000)
    view.show_messages(messages)
    with pytest.raises(ValueError):
        view.add_message(messages[0])  # still waiting, but shown all the same
    view.add_message(MessageView(500, "user", "A new prompt"))
    view.begin_streaming(3)  # a retry of a message that was still waiting
    view.append_text(3, "Second try")
    view.end_streaming(3, "done")
    _wait_until_loaded(qtbot, view)
    expected = [m.id for m in messages if m.id != 3] + [500, 3]
    assert view.message_ids() == expected
    assert view.message_plain_text(3) == "Second try"
    assert view.message_plain_text(500) == "A new prompt"


def test_each_background_batch_renders_little(
    view: ChatView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no time to spare, every batch renders one message and then lets the loop run.
    monkeypatch.setattr(older_messages, "OLDER_BATCH_SECONDS", 0.0)
    view.show_messages(_conversation(60, 1_000))
    counts = [view.pending_message_count]
    # A batch is one document edit, which ends with one contentsChange.
    view.document().contentsChange.connect(lambda *_: counts.append(view.pending_message_count))
    _wait_until_loaded(qtbot, view)
    steps = [before - after for before, after in itertools.pairwise(counts)]
    assert counts[-1] == 0 and len(steps) == counts[0] and set(steps) == {1}, steps
