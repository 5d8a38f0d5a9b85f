"""A maximum reading width for the chat view: lines of about READING_CHARS characters.

On a wide window the text would run across the whole screen, hard to read. The view's
viewport is narrowed to the width that gives an answer's text lines about READING_CHARS
characters of the body font, centred, with the scroll bar still at the window's edge: the
margins belong to the scroll area, not to the document, so widening a wide window further
lays nothing out again (the viewport keeps its width). Narrow windows use the full width.
"""

from __future__ import annotations

from PySide6.QtGui import QFontMetricsF, QPalette, QTextFrameFormat
from PySide6.QtWidgets import QTextEdit

from deltadesk.ui import theme

READING_CHARS = 90


class ReadingWidth:
    """Keeps the view's text column at most READING_CHARS characters wide."""

    def __init__(self, view: QTextEdit) -> None:
        self._view = view
        self.enabled = True
        self._margins = (0, 0)
        view.setBackgroundRole(QPalette.ColorRole.Base)  # the margins look like the page
        view.setAutoFillBackground(True)

    def column_width(self) -> int:
        """The widest viewport: READING_CHARS characters of an answer's text, plus what
        the document and an answer's box put around the text."""
        document = self._view.document()
        metrics = QFontMetricsF(document.defaultFont())
        text = metrics.averageCharWidth() * READING_CHARS
        box = theme.message_frame_format("assistant")
        around = 2 * document.documentMargin() + _horizontal_space(box)
        return round(text + around)

    def fit(self) -> None:
        view = self._view
        available = view.width() - 2 * view.frameWidth()
        bar = view.verticalScrollBar()
        if bar.isVisibleTo(view):
            available -= bar.sizeHint().width()
        spare = available - self.column_width() if self.enabled else 0
        left = max(0, spare // 2)
        margins = (left, max(0, spare - left))
        if margins != self._margins:
            self._margins = margins
            view.setViewportMargins(margins[0], 0, margins[1], 0)


def _horizontal_space(box: QTextFrameFormat) -> float:
    return box.leftMargin() + box.rightMargin() + 2 * box.padding() + 2 * box.border()
