"""The waiting line a streaming answer shows before its first token (real widgets, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import ChatView

WAITING = "waiting for the first token · 12 s — the model may be loading or thinking"


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    yield widget


def _document_text(view: ChatView) -> str:
    return view.document().toPlainText()


def test_the_note_shows_in_the_answer_place_and_updates_in_place(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, WAITING)
    assert WAITING in _document_text(view)
    assert view.message_plain_text(1) == ""  # beside the answer, never inside it
    frames_before = len(view.document().rootFrame().childFrames()[0].childFrames())
    view.set_waiting_note(1, "waiting for the first token · 13 s")
    assert "13 s" in _document_text(view) and "12 s" not in _document_text(view)
    frames_after = len(view.document().rootFrame().childFrames()[0].childFrames())
    assert frames_after == frames_before  # updated in place, not one more line per second


def test_none_removes_the_note(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, WAITING)
    view.set_waiting_note(1, None)
    assert "waiting" not in _document_text(view)


def test_the_first_text_removes_the_note(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, WAITING)
    view.append_text(1, "Hello")
    assert "waiting" not in _document_text(view)
    assert view.message_plain_text(1) == "Hello"
    view.set_waiting_note(1, WAITING)  # too late: the answer has started
    assert "waiting" not in _document_text(view)


def test_the_first_reasoning_removes_the_note(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, WAITING)
    view.append_reasoning(1, "Let me think")
    assert "waiting" not in _document_text(view)
    assert "Let me think" in _document_text(view)


@pytest.mark.parametrize("status", ["done", "stopped", "failed"])
def test_end_streaming_removes_the_note(view: ChatView, status: str) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, WAITING)
    view.end_streaming(1, status, "timeout" if status == "failed" else None, "Timed out.")
    text = _document_text(view)
    assert "waiting" not in text
    if status == "failed":
        assert "Timed out." in text


def test_the_note_is_plain_text(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, '<img src="/nonexistent/picture.png"> <b>bold</b>\x1b[2J')
    text = _document_text(view)
    # shown literally, the escape character dropped
    assert '<img src="/nonexistent/picture.png"> <b>bold</b>[2J' in text
    assert "<img" not in view.document().toHtml().replace("&lt;img", "")


def test_a_note_for_an_unknown_message_is_ignored(view: ChatView) -> None:
    view.set_waiting_note(99, WAITING)
    assert "waiting" not in _document_text(view)


def test_retry_restart_starts_without_the_old_note(view: ChatView) -> None:
    view.begin_streaming(1)
    view.set_waiting_note(1, "retrying in 3 s — rate limited")
    view.begin_streaming(1)  # the same message restarted
    assert "retrying" not in _document_text(view)


# --- the clock behind the line (waiting_note.py) -------------------------------------------------


def test_the_line_never_goes_blank_between_a_retry_countdown_and_the_first_token() -> None:
    from deltadesk.core.client import FIRST_TOKEN_SIGNAL_S
    from deltadesk.core.events import Retrying
    from deltadesk.waiting_note import WaitingClock

    clock = WaitingClock(started=100.0)
    assert clock.note(100.5) is None  # a moment: nothing yet
    clock.retrying(Retrying(attempt=1, delay=3.0, reason="overloaded (503)"), now=100.5)
    assert clock.note(101.0) == "retrying in 3 s — overloaded (503)"
    assert clock.note(103.2) == "retrying in 1 s — overloaded (503)"
    # The countdown is over and the second try is on its way: said, not a blank answer.
    after = clock.note(103.6)
    assert after is not None and after.startswith("trying again (attempt 2)")
    assert "overloaded (503)" in after
    late = clock.note(103.5 + FIRST_TOKEN_SIGNAL_S + 0.1)
    assert late is not None and late.startswith("waiting for the first token · 8 s")
    clock.got_token = True
    assert clock.note(120.0) is None
