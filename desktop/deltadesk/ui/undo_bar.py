"""The bar under the sidebar's list after a delete: "Deleted “title” · Undo", a few seconds.

The conversation is only hidden while the bar shows; it is really deleted when the time is
up, when another one is deleted, or when the app quits (`commit`). Undo brings it back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from deltadesk.ui.plain_text import let_shrink, one_line, plain_label

UNDO_MS = 6000
MAX_SHOWN_TITLE = 80


class UndoBar(QFrame):
    """Holds at most one pending deletion."""

    expired = Signal(int)  # the time is up (or `commit`): delete it for real
    undone = Signal(int)  # Undo: show it again

    def __init__(self, parent: QWidget | None = None, *, timeout_ms: int = UNDO_MS) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._pending: int | None = None
        self._label = let_shrink(plain_label(""))
        self._undo = QPushButton("&Undo", self)
        self._undo.setToolTip("Bring the conversation back (Ctrl+Z in the list)")
        self._undo.clicked.connect(self.undo)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.commit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._undo)
        self.hide()

    def set_timeout(self, milliseconds: int) -> None:
        """How long the bar waits before the deletion happens (tests wait less)."""
        self._timer.setInterval(milliseconds)

    def pending(self) -> int | None:
        return self._pending

    def text(self) -> str:
        return self._label.text()

    def undo_button(self) -> QPushButton:
        return self._undo

    def offer(self, conversation_id: int, title: str) -> None:
        """Shows the bar for this deletion; one still pending is committed first."""
        self.commit()
        self._pending = conversation_id
        shown = one_line(title, MAX_SHOWN_TITLE)
        self._label.setText(f"Deleted “{shown}”")
        self._label.setToolTip("")
        self.setAccessibleDescription(f"Deleted {shown}. Undo is available.")
        self.show()
        self._timer.start()

    def commit(self) -> None:
        """The pending deletion (if any) happens now."""
        conversation_id = self._take()
        if conversation_id is not None:
            self.expired.emit(conversation_id)

    def undo(self) -> None:
        conversation_id = self._take()
        if conversation_id is not None:
            self.undone.emit(conversation_id)

    def _take(self) -> int | None:
        conversation_id, self._pending = self._pending, None
        self._timer.stop()
        if conversation_id is not None:
            # Focus on Undo would fall to the window's next widget when the bar hides.
            had_focus = self._undo.hasFocus()
            self.hide()
            parent = self.parentWidget()
            if had_focus and parent is not None:
                parent.setFocus(Qt.FocusReason.OtherFocusReason)
        return conversation_id
