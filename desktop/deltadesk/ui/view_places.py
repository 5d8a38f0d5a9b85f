"""Where a message is on the chat view's screen, and putting it at a place (a branch switch
keeps the switched message where it was: the switcher clicked stays under the pointer)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6.QtWidgets import QTextEdit

from deltadesk.ui.chat_document import MessageEntry


def laid_out_top(view: QTextEdit, entry: MessageEntry) -> float:
    """The top of the message's box in the document, once everything is laid out (the
    layout is lazy: what lies above may not be measured yet, nor the scroll range)."""
    layout = view.document().documentLayout()
    layout.blockBoundingRect(view.document().lastBlock())
    return layout.frameBoundingRect(entry.frame).top()


def message_top(view: QTextEdit, entry: MessageEntry) -> float:
    """Where the top of the message's box is in the viewport now."""
    return laid_out_top(view, entry) - view.verticalScrollBar().value()


def place_message(view: QTextEdit, entry: MessageEntry, top: float) -> None:
    """Scrolls so that the message's box starts at `top` in the viewport, as far as the
    conversation's length allows."""
    frame_top = laid_out_top(view, entry)
    bar = view.verticalScrollBar()
    # The scroll range follows the layout from the event loop; it is known now.
    layout = view.document().documentLayout()
    height = max(
        layout.documentSize().height(),
        layout.frameBoundingRect(view.document().rootFrame()).height(),
    )
    bar.setMaximum(max(bar.maximum(), math.ceil(height - view.viewport().height())))
    bar.setValue(round(frame_top - top))


def top_entry(view: QTextEdit, entries: Iterable[MessageEntry]) -> MessageEntry | None:
    """The first message still on screen at the top of the viewport."""
    layout = view.document().documentLayout()
    top = view.verticalScrollBar().value()
    best: MessageEntry | None = None
    best_top = 0.0
    for entry in entries:
        rect = layout.frameBoundingRect(entry.frame)
        if rect.bottom() > top and (best is None or rect.top() < best_top):
            best, best_top = entry, rect.top()
    return best
