"""While the conversation in view streams, the links that would start another answer (Edit,
Regenerate, Continue, Retry) are drawn dim and refused: the controller would refuse them.

They are dimmed by an extra selection over each link, not by editing the document: one edit
touching every message's header and figures line spans the whole conversation, and Qt lays
out again everything an edit spans (measured: 250 ms for 1,000 messages, at every start and
end of an answer). Finding the links only reads each message's own short lines, and what
was found is kept (its cursors follow the edits around it) for the next answer: a message
whose lines are rewritten (a new prompt, the figures at the end of an answer, an older
message rendered late) is looked at again, all of them applied once per turn of the event
loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QTextBlock, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

from deltadesk.ui import theme
from deltadesk.ui.chat_document import ChatDocument, MessageEntry

BUSY_ACTIONS = frozenset({"edit", "regenerate", "continue", "retry"})


class BusyLinks(QObject):
    """The dim overlays of one view's refused links, and whether they are refused."""

    def __init__(
        self,
        chat: ChatDocument,
        show: Callable[[list[QTextEdit.ExtraSelection]], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._chat = chat
        self._show = show
        self.busy = False
        self._overlays: dict[int, list[QTextEdit.ExtraSelection]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._apply)
        chat.links_changed = self._changed

    def refuses(self, action: str) -> bool:
        return self.busy and action in BUSY_ACTIONS

    def set_busy(self, busy: bool) -> None:
        if busy == self.busy:
            return
        self.busy = busy
        self._apply()

    def clear(self) -> None:
        """The conversation shown is replaced: its overlays go (busy stays as it is)."""
        self._overlays.clear()
        self._apply()

    def _changed(self, entry: MessageEntry) -> None:
        self._overlays.pop(entry.message_id, None)  # looked at again when needed
        if self.busy and not self._timer.isActive():
            self._timer.start()

    def _apply(self) -> None:
        self._timer.stop()
        if not self.busy:
            self._show([])
            return
        overlays = self._overlays
        for message_id, entry in self._chat.entries.items():
            if message_id not in overlays:
                overlays[message_id] = self._find(entry)
        self._show([overlay for found in overlays.values() for overlay in found])

    def _find(self, entry: MessageEntry) -> list[QTextEdit.ExtraSelection]:
        if entry.markdown is not None:  # a streaming answer offers nothing yet
            return []
        document = self._chat.document
        found = []
        for block in _action_blocks(document, entry):
            iterator = block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                iterator += 1
                href = fragment.charFormat().anchorHref()
                if href.partition(":")[0] in BUSY_ACTIONS:
                    cursor = QTextCursor(document)
                    cursor.setPosition(fragment.position())
                    end = fragment.position() + fragment.length()
                    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                    found.append(_dim(cursor))
        return found


def _action_blocks(document: QTextDocument, entry: MessageEntry) -> Iterator[QTextBlock]:
    """The blocks that may hold the message's actions: the header line, the note, the
    figures line."""
    yield document.findBlock(entry.frame.firstPosition())
    for frame in (entry.note, entry.footer):
        if frame is not None:
            block = document.findBlock(frame.firstPosition())
            while block.isValid() and block.position() <= frame.lastPosition():
                yield block
                block = block.next()


def _dim(cursor: QTextCursor) -> QTextEdit.ExtraSelection:
    overlay = QTextEdit.ExtraSelection()
    char_format = QTextCharFormat()
    char_format.setForeground(QColor(theme.FAINT))
    overlay.cursor = cursor
    overlay.format = char_format
    return overlay
