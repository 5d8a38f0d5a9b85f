"""Repainting only what a tail render changed.

Qt's document layout asks for the whole document to be repainted after any edit inside a
nested frame (an answer's box is one): its update signal names the rectangle (0, 0, INT_MAX,
INT_MAX), and the chat view repainted its whole viewport at every render of a streaming
answer. Painting costs about as much as the area painted, and more as the answer grows (Qt
walks the frame's blocks): measured offscreen in a compare column of a 1280 x 800 window,
4.8 ms for the full viewport against 1.1 ms for its bottom quarter, with 20,000 tokens shown.

A tail render edits the document from the tail's start on, nothing above it. So around the
edit the layout's signals are held back; then the new document size is announced (the
scroll bars follow it; a view following the text scrolls, which Qt does by moving the
pixels already drawn), and only the viewport from the top of the edited block down is
repainted. A tail below the viewport (the user reads above) repaints nothing; a change of
the document's width (a wide table) repaints everything, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QTextEdit

# Repainted above the edited block's top: a border or the antialiased edge of a line.
SLACK_PX = 2


@contextmanager
def repainting_below(view: QTextEdit, position: int) -> Iterator[None]:
    """Around an edit of the view's document that changes nothing before `position`."""
    document = view.document()
    layout = document.documentLayout()
    before = layout.documentSize()
    was_blocked = layout.blockSignals(True)
    try:
        yield
    finally:
        layout.blockSignals(was_blocked)
    if was_blocked:
        return
    after = layout.documentSize()
    if after != before:
        layout.documentSizeChanged.emit(after)  # the scroll range (and a following view)
    viewport = view.viewport()
    if after.width() != before.width():
        viewport.update()
        return
    block = document.findBlock(position)
    if not block.isValid():
        viewport.update()
        return
    top = layout.blockBoundingRect(block).top() - view.verticalScrollBar().value() - SLACK_PX
    height = viewport.height()
    if top >= height:
        return  # below what is on screen
    y = max(0, int(top))
    viewport.update(QRect(0, y, viewport.width(), height - y))
