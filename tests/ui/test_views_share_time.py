"""Several chat views streaming at once share the event loop: a view whose render would come
right after other views' renders waits a moment, a view out of sight renders a few times a
second; one view alone is never held back, and every text still ends exact."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QStackedWidget
from pytestqt.qtbot import QtBot

from deltadesk.ui import tail_renderer
from deltadesk.ui.chat_view import ChatView

TEXT = "First paragraph of the answer.\n\nSecond paragraph, **bold** and `code`.\n\n- a list\n"


def _view(qtbot: QtBot) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    return view


def _page_behind(qtbot: QtBot) -> tuple[QStackedWidget, ChatView]:
    """Two chat views as pages of a shown stack: the second one out of sight."""
    pages = QStackedWidget()
    qtbot.addWidget(pages)
    front, behind = ChatView(), ChatView()
    pages.addWidget(front)
    pages.addWidget(behind)
    pages.show()
    qtbot.waitExposed(pages)
    return pages, behind


def _edits(view: ChatView) -> list[int]:
    edits: list[int] = []
    view.document().contentsChange.connect(lambda *_args: edits.append(1))
    return edits


@pytest.fixture
def back_to_back(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every render counts as too long, and all of them as one stretch of the event loop."""
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_SECONDS", 0.0)
    monkeypatch.setattr(tail_renderer, "STRETCH_GAP_SECONDS", 3600.0)
    # A stretch of its own: the views of earlier tests rendered in one that never ends here.
    monkeypatch.setattr(tail_renderer, "_STRETCH", tail_renderer._Stretch())
    yield


def test_a_second_view_waits_for_the_loop_and_then_catches_up(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, back_to_back: None
) -> None:
    first, second = _view(qtbot), _view(qtbot)
    for view in (first, second):
        view.begin_streaming(1)
    first.append_text(1, TEXT)
    edits = _edits(second)
    second.append_text(1, TEXT)  # right after the first view's render
    assert edits == []
    monkeypatch.setattr(tail_renderer, "STRETCH_GAP_SECONDS", 0.0)  # the loop had its turn
    qtbot.waitUntil(lambda: edits != [], timeout=2000)
    for view in (first, second):
        view.end_streaming(1, "done")
    assert second.message_plain_text(1) == first.message_plain_text(1)
    assert "Second paragraph, bold and code." in second.message_plain_text(1)


def test_one_view_alone_is_never_held_back(qtbot: QtBot, back_to_back: None) -> None:
    view = _view(qtbot)
    view.begin_streaming(1)
    edits = _edits(view)
    for n in range(20):
        before = len(edits)
        view.append_text(1, f"Paragraph {n}.\n\n")
        assert len(edits) > before  # rendered at once, every time


def test_the_end_renders_what_waited(qtbot: QtBot, back_to_back: None) -> None:
    first, second = _view(qtbot), _view(qtbot)
    for view in (first, second):
        view.begin_streaming(1)
        view.append_text(1, TEXT)
    second.end_streaming(1, "done")  # no turn of the loop in between: the end catches up
    first.end_streaming(1, "done")
    assert second.message_plain_text(1) == first.message_plain_text(1) != ""


def test_a_view_behind_another_page_renders_later_but_answers_exactly(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_renderer, "HIDDEN_RENDER_SECONDS", 3600.0)
    pages, behind = _page_behind(qtbot)
    behind.begin_streaming(1)
    behind.append_text(1, "Seen first. ")  # its first render: nothing shown yet to pace
    edits = _edits(behind)
    behind.append_text(1, TEXT)
    assert edits == []  # out of sight: it waits
    assert behind.message_plain_text(1).startswith("Seen first. First paragraph")  # asked: now
    behind.append_text(1, "More text.")
    pages.setCurrentWidget(behind)  # shown: what waited is rendered
    assert behind.message_plain_text(1).endswith("More text.")
    behind.end_streaming(1, "done")
    reference = _view(qtbot)
    reference.begin_streaming(1)
    reference.append_text(1, "Seen first. " + TEXT + "More text.")
    reference.end_streaming(1, "done")
    assert behind.message_plain_text(1) == reference.message_plain_text(1)


def test_a_view_behind_another_page_still_renders_a_few_times_a_second(qtbot: QtBot) -> None:
    _pages, behind = _page_behind(qtbot)
    behind.begin_streaming(1)
    behind.append_text(1, "Seen first. ")
    edits = _edits(behind)
    behind.append_text(1, TEXT)
    # Not never: its last render would otherwise be the whole answer at once.
    qtbot.waitUntil(lambda: edits != [], timeout=2000)
    assert "Second paragraph" in behind.toPlainText()


def test_a_view_behind_another_page_renders_what_waited_in_slices(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second of text for a hidden view is rendered a slice at a time, each its own turn of
    the event loop, not in one long render; the answer is still exact."""
    monkeypatch.setattr(tail_renderer, "HIDDEN_SLICE_CHARS", 200)
    _pages, behind = _page_behind(qtbot)
    behind.begin_streaming(1)
    behind.append_text(1, "Seen first. ")
    edits = _edits(behind)
    pieces = [f"Piece {n} of the answer, in plain words. " for n in range(40)]  # ~1,700 chars
    for piece in pieces:
        behind.append_text(1, piece)
    assert edits == []  # held back: it rendered a moment ago
    qtbot.waitUntil(lambda: "Piece 39" in behind.toPlainText(), timeout=3000)
    assert len(edits) >= 5  # slices of ~200 characters, not one render
    behind.end_streaming(1, "done")
    reference = _view(qtbot)
    reference.begin_streaming(1)
    reference.append_text(1, "Seen first. " + "".join(pieces))
    reference.end_streaming(1, "done")
    assert behind.message_plain_text(1) == reference.message_plain_text(1)
