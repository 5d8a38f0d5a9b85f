"""A tail render repaints only the viewport from the edited block down (tail_repaint.py), and
what the screen shows is still exactly what a fresh paint of the window shows: while the view
follows the text, after the user scrolled up, back at the bottom, at the end."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QRect
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import ChatView

MESSAGE_ID = 7


def _part(n: int) -> str:
    parts = [
        f"Paragraph {n} with **bold**, `code` and a [link](https://example.org/{n}).\n\n",
        f"- item {n}\n- another item {n}\n\n",
        f"```python\ndef f_{n}(x):\n    return x + {n}\n```\n\n",
        f"| a | b |\n|---|---|\n| {n} | {n * 2} |\n\n",
        f"## Heading {n}\n\nSome words of paragraph {n}, ",
        "still the same paragraph, open at the end of this part ",
    ]
    return parts[n % len(parts)]


class _Paints(QObject):
    """The regions painted on one widget."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__()
        self.regions: list[QRect] = []
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.regions.append(event.region().boundingRect())  # type: ignore[attr-defined]
        return False


def _window(qtbot: QtBot) -> tuple[QWidget, ChatView]:
    window = QWidget()
    qtbot.addWidget(window)
    view = ChatView(window)
    QHBoxLayout(window).addWidget(view)
    window.resize(900, 600)
    window.show()
    qtbot.waitExposed(window)
    view.begin_streaming(MESSAGE_ID)
    return window, view


def _settle() -> None:
    for _ in range(4):  # the paints and the layout's follow-ups posted by the last render
        QApplication.processEvents()


def _render(view: ChatView, text: str) -> None:
    view.append_text(MESSAGE_ID, text)
    entry = view._chat.entries[MESSAGE_ID]
    if entry.pending:  # paced: render now, as its timer would
        view._tail.render_pending(entry)
    _settle()


def _shown_is_fresh(window: QWidget) -> bool:
    screen = window.screen()
    shown = screen.grabWindow(window.winId()).toImage()
    fresh = window.grab().toImage()
    return shown.convertToFormat(QImage.Format.Format_RGB32) == fresh.convertToFormat(
        QImage.Format.Format_RGB32
    )


def test_what_is_shown_is_what_a_fresh_paint_shows(qtbot: QtBot) -> None:
    window, view = _window(qtbot)
    for n in range(60):
        _render(view, _part(n))
        assert _shown_is_fresh(window), f"stale pixels after render {n}"
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)  # the user scrolls up
    _settle()
    for n in range(60, 70):
        _render(view, _part(n))
        assert _shown_is_fresh(window), f"stale pixels after render {n}, scrolled up"
    assert not view.following
    view.scroll_to_bottom()
    for n in range(70, 80):
        _render(view, _part(n))
        assert _shown_is_fresh(window), f"stale pixels after render {n}, at the bottom again"
    view.end_streaming(MESSAGE_ID, "done")
    _settle()
    assert _shown_is_fresh(window)
    assert view.following and bar.value() == bar.maximum()


def test_a_render_repaints_only_below_the_tail(qtbot: QtBot) -> None:
    _shown, view = _window(qtbot)
    for n in range(40):
        _render(view, _part(n))
    viewport = view.viewport()
    paints = _Paints(viewport)
    _render(view, "a few more words")
    assert paints.regions, "the new text was not painted"
    painted = max(region.height() for region in paints.regions)
    assert painted < viewport.height() // 2, (painted, viewport.height())
    # Far above the tail, a render paints nothing of the viewport.
    view.verticalScrollBar().setValue(0)
    _settle()
    paints.regions.clear()
    _render(view, " and more words")
    assert paints.regions == []
    assert not view.following
