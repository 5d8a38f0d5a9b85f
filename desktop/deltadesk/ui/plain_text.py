"""Showing outside text in labels, tooltips and message boxes as text, never as rich text.

QLabel, QMessageBox and tooltips default to Qt.AutoText: a string that looks like HTML is
rendered as HTML, and `<img src="/dev/zero">` makes Qt read that file (and run out of memory).
Provider errors, model and profile names, titles made from prompts all come from outside, so
every such place goes through these helpers.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QMessageBox, QSizePolicy, QWidget

from deltadesk.core.markdown import sanitize

# Longer outside text (a provider error echoing a whole body) is clipped where one label or
# tooltip shows it: laying out a megabyte-long line would freeze the window.
MAX_LABEL_CHARS = 2000


def clip(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    """Outside text as one label shows it: control characters gone, not endlessly long."""
    text = sanitize(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return clip(" ".join(text.split("\n")), limit)


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A label that never interprets its text as rich text."""
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(clip(text))
    return label


def let_shrink(label: QLabel) -> QLabel:
    """A one-line label that may be narrower than its text (then drawn cut with "…"; give it
    the whole text as its tooltip): a long title or model name must not widen the window
    past a small screen. `text()` stays the whole text."""
    label.setSizePolicy(QSizePolicy.Policy.Ignored, label.sizePolicy().verticalPolicy())
    label.setMinimumWidth(1)
    label.installEventFilter(_Elider(label))
    return label


class _Elider(QObject):
    """Paints its label's text elided at the right when it does not fit (the label's own
    painting cuts it mid-letter, with nothing to say more is there)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Paint or not isinstance(watched, QLabel):
            return False
        rect = watched.contentsRect()
        metrics = watched.fontMetrics()
        text = watched.text()
        if metrics.horizontalAdvance(text) <= rect.width():
            return False  # it fits: the label paints itself
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(watched)
        try:
            watched.style().drawItemText(
                painter,
                rect,
                int(watched.alignment()),
                watched.palette(),
                watched.isEnabled(),
                elided,
                watched.foregroundRole(),
            )
        finally:
            painter.end()
        return True


def plain_tooltip(text: str) -> str:
    """Tooltip markup that shows `text` literally (tooltips have no text-format switch, so the
    text is escaped inside explicit rich text; newlines stay line breaks)."""
    if not text:
        return ""
    escaped = html.escape(clip(text), quote=False).replace("\n", "<br>")
    return f"<p style='white-space:pre-wrap'>{escaped}</p>"


def plain_message_box(
    parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str
) -> QMessageBox:
    """A message box whose title and text are shown literally."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setWindowTitle(one_line(title, 200))
    box.setText(clip(text))
    return box
