"""Rendering a streaming answer into the chat document: frozen blocks and the open tail,
and the pace of its live figures line.

Each flush of text is one markdown append: blocks that just became final are inserted once,
the open tail replaces the previous tail, nothing before it is touched. A tail render that is
slow (one huge open paragraph or code block) defers the next render by a few times its
duration, so the window stays responsive and the total work stays linear; the text catches
up from a timer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from deltadesk.core.markdown import RenderUpdate
from deltadesk.ui.chat_document import ChatDocument, MessageEntry

# A tail render slower than this defers the next one by RENDER_BACKOFF times its duration.
SLOW_RENDER_SECONDS = 0.012
RENDER_BACKOFF = 3.0


class TailRenderer(QObject):
    """Renders the streaming answers of one chat document; `rendered()` runs after each
    render (the view keeps following the text)."""

    def __init__(self, chat: ChatDocument, rendered: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._chat = chat
        self._rendered = rendered
        self._deferred_ids: set[int] = set()  # messages with text waiting for a render
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._render_deferred)

    def clear(self) -> None:
        self._deferred_ids.clear()

    def add(self, entry: MessageEntry, text: str) -> None:
        """Queues text for the answer and renders it now, or later after a slow render."""
        entry.pending.append(text)
        wait = entry.render_not_before - time.monotonic()
        if wait > 0:
            self._deferred_ids.add(entry.message_id)
            if not self._timer.isActive():
                self._timer.start(max(1, int(wait * 1000)))
            return
        self.render_pending(entry)

    def render_pending(self, entry: MessageEntry) -> None:
        """Renders the text that arrived since the last render (one markdown append)."""
        assert entry.markdown is not None
        started = time.monotonic()
        update = entry.markdown.append("".join(entry.pending))
        entry.pending.clear()
        self._chat.apply_render(entry, update, final=False)
        entry.tail_html = update.tail_html
        entry.code_blocks = entry.markdown.code_blocks
        self._rendered()
        elapsed = time.monotonic() - started
        if elapsed > SLOW_RENDER_SECONDS:
            entry.render_not_before = started + elapsed * (1 + RENDER_BACKOFF)

    def freeze(self, entry: MessageEntry) -> None:
        """The last render of a stream: everything becomes frozen HTML."""
        assert entry.markdown is not None
        frozen = ""
        if entry.pending:
            frozen = entry.markdown.append("".join(entry.pending)).frozen_html
            entry.pending.clear()
            entry.tail_html = None
        final = entry.markdown.finish()
        if not frozen and final.frozen_html and final.frozen_html == entry.tail_html:
            # The tail on screen is already exactly the final HTML: laying a long tail out
            # again would cost as much as the first time, for nothing.
            self._chat.freeze_tail(entry)
            return
        self._chat.apply_render(entry, RenderUpdate(frozen + final.frozen_html, ""), final=True)

    def _render_deferred(self) -> None:
        for message_id in list(self._deferred_ids):
            entry = self._chat.entries.get(message_id)
            if entry is not None and entry.markdown is not None and entry.pending:
                self.render_pending(entry)
        self._deferred_ids.clear()


# While an answer streams its figures change every frame; a few updates a second can be read
# (a number changing 30 times a second cannot) and cost less.
FIGURES_INTERVAL_SECONDS = 0.25


class FiguresPacer(QObject):
    """Shows the figures lines of streaming answers at most every FIGURES_INTERVAL_SECONDS;
    the latest text always shows in the end (the last update is kept, never dropped)."""

    def __init__(self, chat: ChatDocument, rendered: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._chat = chat
        self._rendered = rendered
        self._due: set[int] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_due)

    def show(self, entry: MessageEntry) -> None:
        """Shows entry.figures now, or soon when the line changed a moment ago."""
        wait = entry.figures_shown_at + FIGURES_INTERVAL_SECONDS - time.monotonic()
        if entry.markdown is None or wait <= 0:
            self._render(entry)
            return
        self._due.add(entry.message_id)
        if not self._timer.isActive():
            self._timer.start(max(1, int(wait * 1000)))

    def clear(self) -> None:
        self._due.clear()

    def _render(self, entry: MessageEntry) -> None:
        entry.figures_shown_at = time.monotonic()
        self._chat.render_footer(entry)
        self._rendered()

    def _show_due(self) -> None:
        due, self._due = self._due, set()
        for message_id in due:
            entry = self._chat.entries.get(message_id)
            if entry is not None:
                self._render(entry)
