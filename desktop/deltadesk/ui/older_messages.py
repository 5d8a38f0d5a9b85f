"""The older messages of a long stored conversation, rendered after the first screen.

show_messages renders only the newest messages (about two screens) and hands the rest to
OlderMessages, which renders them from the event loop in short batches, newest first, each
inserted at the top of the document. Every batch is one document edit: QTextDocument rescans
all its frames and lays out once per edit, a cost that grows with the conversation (about
5 ms for 1,000,000 characters here), so one edit per message would make loading quadratic.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

from PySide6.QtCore import QObject, QTimer

from deltadesk.ui.chat_document import ChatDocument, MessageView

# show_messages renders the newest messages worth this many characters (at least one message,
# at most FIRST_SCREEN_MESSAGES) before it returns: a couple of screens even on a tall window.
FIRST_SCREEN_CHARS = 20_000
FIRST_SCREEN_MESSAGES = 24
# The older messages are rendered in batches of about this much time each (at least one
# message per batch), so input and painting get their turn in between.
OLDER_BATCH_SECONDS = 0.008


def first_screen_start(messages: Sequence[MessageView]) -> int:
    """Index of the oldest message show_messages renders itself: the newest messages worth
    FIRST_SCREEN_CHARS characters, at least one, at most FIRST_SCREEN_MESSAGES."""
    start, chars = len(messages), 0
    lowest = max(len(messages) - FIRST_SCREEN_MESSAGES, 0)
    while start > lowest and chars < FIRST_SCREEN_CHARS:
        start -= 1
        chars += len(messages[start].content)
    return start


class OlderMessages(QObject):
    """Stored messages waiting to be rendered above the ones shown, and the timer that
    renders them. `keeping_place()` (from the view) wraps every batch: it keeps the text on
    screen where it is while the batch grows the document above it."""

    def __init__(
        self,
        chat: ChatDocument,
        keeping_place: Callable[[], AbstractContextManager[None]],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._chat = chat
        self._keeping_place = keeping_place
        self._waiting: list[MessageView] = []  # oldest first; rendered from the end
        self._waiting_ids: set[int] = set()
        self._finish_seconds = 0.0  # how long the last batch's edit took to finish
        self._timer = QTimer(self)
        self._timer.setInterval(0)  # a batch whenever the event loop has nothing else to do
        self._timer.timeout.connect(self._render_batch)

    def __len__(self) -> int:
        return len(self._waiting)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._waiting_ids

    def ids(self) -> list[int]:
        return [message.id for message in self._waiting]

    def start(self, messages: Sequence[MessageView]) -> None:
        """Replaces the waiting messages (oldest first) and starts rendering them."""
        self.clear()
        self._waiting = list(messages)
        self._waiting_ids = {message.id for message in self._waiting}
        if len(self._waiting_ids) < len(self._waiting):
            raise ValueError("a message id appears twice in the conversation")
        if self._waiting:
            self._timer.start()

    def clear(self) -> None:
        """Forgets the waiting messages: none of them may show up later."""
        self._timer.stop()
        self._waiting.clear()
        self._waiting_ids.clear()
        self._finish_seconds = 0.0

    def discard(self, message_id: int) -> None:
        if message_id in self._waiting_ids:
            self._waiting_ids.discard(message_id)
            self._waiting = [message for message in self._waiting if message.id != message_id]

    def render_through(self, message_id: int) -> None:
        """Renders the waiting messages down to this one, now (someone needs it)."""
        if message_id in self._waiting_ids:
            self._render(lambda: message_id not in self._waiting_ids)

    def _render_batch(self) -> None:
        """One step of the loading, about OLDER_BATCH_SECONDS in all. The document's own work
        when the edit ends (the frame scan, the layout) counts too; it is estimated from the
        last batch."""
        deadline = time.monotonic() + OLDER_BATCH_SECONDS - self._finish_seconds
        self._render(lambda: time.monotonic() >= deadline)

    def _render(self, enough: Callable[[], bool]) -> None:
        """Inserts waiting messages at the top, newest first, until enough() or none is left."""
        with self._keeping_place(), self._chat.edit_block():
            while self._waiting:
                message = self._waiting.pop()
                self._waiting_ids.discard(message.id)
                self._chat.add_stored(message, at_top=True)
                if enough():
                    break
            finishing = time.monotonic()
        self._finish_seconds = time.monotonic() - finishing
        if not self._waiting:
            self._timer.stop()
