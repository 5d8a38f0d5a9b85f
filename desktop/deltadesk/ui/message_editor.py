"""Editing a sent prompt in place: a small editor laid over the message in the chat view.

The chat view is one QTextDocument, which cannot hold a widget, so the editor is a child of
the view's viewport placed over the message's box: scrolling the viewport moves its children
with the text, and the view places it again when the layout changes (a resize, a streaming
answer above growing). Enter sends the new text, Shift+Enter starts a new line, Esc (or
Cancel) closes it and nothing is sent. The prompt box of the window is reused (PromptEdit),
so long pastes behave the same here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal
from PySide6.QtGui import QTextCursor, QTextFrame
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QTextEdit, QVBoxLayout

from deltadesk.ui import theme
from deltadesk.ui.composer import PromptEdit

EDITOR_CSS = f"""
QFrame#messageEditor {{
    background: {theme.USER_BACKGROUND}; border: 2px solid {theme.ACCENT}; border-radius: 6px;
}}
"""
HINT = "Enter sends it as a new branch · Shift+Enter: new line · Esc: cancel"


class MessageEditor(QFrame):
    """One prompt being edited; emits `submitted(message_id, text)` or `cancelled()`."""

    submitted = Signal(int, str)
    cancelled = Signal()

    def __init__(self, view: QTextEdit, frame_of: Callable[[int], QTextFrame | None]) -> None:
        super().__init__(view.viewport())
        self._view = view
        self._frame_of = frame_of  # a message's box, or None once it is no longer shown
        self.setObjectName("messageEditor")
        self.setStyleSheet(EDITOR_CSS)
        self.message_id: int | None = None
        self.input = PromptEdit(self)
        self.input.setPlaceholderText(HINT)
        self.input.setAccessibleName("Edit the prompt")
        self.input.setToolTip(HINT)
        self.send_button = QPushButton("Send", self)
        self.send_button.setToolTip("Send the edited prompt as a new branch (Enter)")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Keep the prompt as it was (Esc)")
        for button in (self.send_button, self.cancel_button):
            button.setAutoDefault(False)
        self._build_layout()
        self.input.enter_pressed.connect(self._submit)
        self.input.escape_pressed.connect(self.cancel)
        self.input.textChanged.connect(self._update_send)
        self.send_button.clicked.connect(self._submit)
        self.cancel_button.clicked.connect(self.cancel)
        view.document().documentLayout().documentSizeChanged.connect(self.reposition)
        view.viewport().installEventFilter(self)
        self.hide()

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self.input)
        layout.addLayout(buttons)

    # --- public API -----------------------------------------------------------------------

    def is_editing(self) -> bool:
        return self.message_id is not None

    def open(self, message_id: int, text: str) -> None:
        """Opens the editor over the message's box, with its text, and scrolls to it."""
        self.message_id = message_id
        self.input.setPlainText(text)
        self.input.moveCursor(QTextCursor.MoveOperation.End)
        self._update_send()
        self.show()
        self.raise_()
        self.reposition()
        self._scroll_into_view()
        self.input.setFocus(Qt.FocusReason.OtherFocusReason)

    def reposition(self) -> None:
        """Lays the editor over its message's box again (the layout changed); closes it when
        the message is gone."""
        if self.message_id is None:
            return
        frame = self._frame_of(self.message_id)
        if frame is None:
            self.close_editor()
            return
        box = self._view.document().documentLayout().frameBoundingRect(frame).toAlignedRect()
        margins = frame.frameFormat()  # the box drawn is inside the frame's margins
        box.adjust(
            int(margins.leftMargin()),
            int(margins.topMargin()),
            -int(margins.rightMargin()),
            -int(margins.bottomMargin()),
        )
        box.translate(
            -self._view.horizontalScrollBar().value(), -self._view.verticalScrollBar().value()
        )
        height = max(box.height(), self.sizeHint().height())
        self.setGeometry(QRect(box.x(), box.y(), max(box.width(), 240), height))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:  # the viewport: the text wraps anew
            self.reposition()
        return False

    def close_editor(self) -> None:
        """Closes without a word (the conversation shown changed)."""
        self.message_id = None
        self.hide()

    def cancel(self) -> None:
        if self.message_id is None:
            return
        self.close_editor()
        self._view.setFocus()
        self.cancelled.emit()

    def _scroll_into_view(self) -> None:
        top = self.geometry().top()
        if 0 <= top <= self._view.viewport().height() - 40:
            return
        bar = self._view.verticalScrollBar()
        bar.setValue(bar.value() + top - 12)
        self.reposition()

    # --- behaviour --------------------------------------------------------------------------

    def _submit(self) -> None:
        text = self.input.toPlainText().strip()
        message_id = self.message_id
        if message_id is None or not text:
            return
        self.close_editor()
        self.submitted.emit(message_id, text)

    def _update_send(self) -> None:
        self.send_button.setEnabled(bool(self.input.toPlainText().strip()))
