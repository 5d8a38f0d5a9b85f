"""The prompt box under the conversation: type, press Enter, and Send turns into Stop.

Up in an empty box brings back the last prompt sent (the conversation's, from
`set_recall_source`, else the last one this box sent). A click on Send or Stop leaves the
keyboard in the box: the button takes focus only from Tab.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFontMetricsF, QKeyEvent, QResizeEvent, QTextCursor, QTextOption
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QWidget,
)

from deltadesk.ui.zoom import FontZoom

PLACEHOLDER = "Ask anything… (Enter to send, Shift+Enter for a new line)"
MIN_LINES = 1
MAX_LINES = 8  # past this the box stops growing and scrolls

SEND_TEXT = "Send"
SEND_TOOLTIP = "Send the prompt (Enter)"
STOP_TEXT = "Stop"
STOP_TOOLTIP = "Stop the answer (Esc)"

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
# Qt's word wrapping searches a line for a word boundary, again for every wrapped line: with
# no space in a long pasted line that is quadratic (a 200 KB one-line paste froze the window
# for 2.9 s). Wrapping anywhere is linear (about 0.12 s for 200 KB), so once the text holds
# a run this long with no space in it the box wraps anywhere; it wraps at words again once
# the text is short.
LONG_WORD_CHARS = 5_000
_LONG_WORD = re.compile(rf"\S{{{LONG_WORD_CHARS + 1}}}")


class PromptEdit(QPlainTextEdit):
    """A plain text box where Enter submits and Shift+Enter starts a new line.

    Only Enter and Esc are intercepted; every other key (and input-method composition, which
    arrives as input-method events rather than key presses) keeps Qt's normal behaviour.
    """

    enter_pressed = Signal()
    escape_pressed = Signal()
    compare_pressed = Signal()  # Ctrl+Shift+Enter: send to several profiles at once
    recall_pressed = Signal()  # Up in an empty box

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(PLACEHOLDER)
        self.setTabChangesFocus(True)  # Tab moves to the Send button, as in a form
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.document().setDocumentMargin(6)  # a little air around the text, as in a chat app
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.textChanged.connect(self._wrap_at_words_when_short)
        self._fit_height()

    def wraps_anywhere(self) -> bool:
        return self.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasText():
            self._prepare_wrap_for(source.text())
        super().insertFromMimeData(source)

    def setPlainText(self, text: str) -> None:
        self._prepare_wrap_for(text)
        super().setPlainText(text)

    def _prepare_wrap_for(self, text: str) -> None:
        """Before long lines reach the layout, not after: the first layout is the slow one."""
        if len(text) > LONG_WORD_CHARS and _LONG_WORD.search(text):
            self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
            # The scroll bar the long text needs would narrow the box after the first layout
            # and make Qt lay the whole line out a second time: show it from the start.
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)

    def _wrap_at_words_when_short(self) -> None:
        # characterCount is O(1): the check costs nothing per keystroke.
        if self.wraps_anywhere() and self.document().characterCount() <= LONG_WORD_CHARS:
            self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def event(self, event: QEvent) -> bool:
        # Enter and Esc are this box's own keys: a window shortcut on them (Esc is Stop,
        # Ctrl+Shift+Enter is Compare) must not take them away from it. Accepting the
        # override makes Qt deliver them here as key presses.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and (event.key() in _ENTER_KEYS or event.key() == Qt.Key.Key_Escape)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _ENTER_KEYS:
            modifiers = event.modifiers()
            if modifiers & Qt.KeyboardModifier.ControlModifier and (
                modifiers & Qt.KeyboardModifier.ShiftModifier
            ):
                self.compare_pressed.emit()
            elif modifiers & Qt.KeyboardModifier.ShiftModifier:
                # A real paragraph break, not the U+2028 soft break Qt inserts by default.
                self.textCursor().insertText("\n")
            else:
                self.enter_pressed.emit()
            event.accept()
            return
        no_modifier = event.modifiers() == Qt.KeyboardModifier.NoModifier
        if event.key() == Qt.Key.Key_Escape and no_modifier:
            self.escape_pressed.emit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Up and no_modifier and self.document().isEmpty():
            self.recall_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # zoom: taller lines
            # The placeholder is drawn in the viewport's font, which does not follow.
            self.viewport().setFont(self.font())
            self._fit_height()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()  # a new width re-wraps the text

    def visual_line_count(self) -> int:
        # QPlainTextDocumentLayout reports its height in laid-out lines, wrapped lines included.
        return max(1, round(self.document().documentLayout().documentSize().height()))

    def height_for_lines(self, lines: int) -> int:
        margins = self.contentsMargins()
        document_margin = self.document().documentMargin()
        # Fractional sizes (a zoomed font) lay lines out at fractional heights: round up.
        text_height = lines * math.ceil(QFontMetricsF(self.font()).lineSpacing())
        # QPlainTextEdit only hides its scroll bar when the text fits with a pixel to spare.
        return int(text_height + 2 * document_margin + margins.top() + margins.bottom()) + 1

    def _fit_height(self) -> None:
        lines = min(max(self.visual_line_count(), MIN_LINES), MAX_LINES)
        self.setFixedHeight(self.height_for_lines(lines))


class Composer(QWidget):
    """The input line of the chat: emits `submitted` with the prompt or `stop_requested`."""

    submitted = Signal(str)
    stop_requested = Signal()
    compare_pressed = Signal()  # Ctrl+Shift+Enter in the prompt box; the window decides

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._streaming = False
        self._last_sent: str | None = None
        self._recall_source: Callable[[], str | None] | None = None
        self._recall_fallback: Callable[[], str | None] | None = None
        self._input = PromptEdit(self)
        self._input.setAccessibleName("Prompt")
        self._button = QPushButton(self)
        self._button.setAutoDefault(False)
        self._button.setMinimumWidth(88)
        # Tab reaches it; a click does not take the keyboard from the prompt.
        self._button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._zoom = FontZoom()
        self._zoom.add(self._input)
        self._zoom.add(self._button)
        self._build_layout()
        self._input.enter_pressed.connect(self._submit)
        self._input.escape_pressed.connect(self.stop_requested)
        self._input.compare_pressed.connect(self.compare_pressed)
        self._input.recall_pressed.connect(self.recall_last_prompt)
        self._input.textChanged.connect(self._update_button)
        self._button.clicked.connect(self._on_button_clicked)
        self.setFocusProxy(self._input)
        self.set_streaming(False)

    # --- public API -----------------------------------------------------------------------

    def set_streaming(self, streaming: bool) -> None:
        """Turn the button into Stop while an answer streams; the text stays editable."""
        self._streaming = streaming
        style = self.style()
        if streaming:
            self._button.setText(STOP_TEXT)
            self._button.setToolTip(STOP_TOOLTIP)
            self._button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop))
        else:
            self._button.setText(SEND_TEXT)
            self._button.setToolTip(SEND_TOOLTIP)
            self._button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_ArrowForward))
        # Style sheets can tell the two states apart with QPushButton[streaming="true"].
        self._button.setProperty("streaming", streaming)
        self._button.style().unpolish(self._button)
        self._button.style().polish(self._button)
        self._update_button()

    def is_streaming(self) -> bool:
        return self._streaming

    def text(self) -> str:
        return self._input.toPlainText()

    def set_text(self, text: str) -> None:
        self._input.setPlainText(text)
        self._input.moveCursor(QTextCursor.MoveOperation.End)

    def clear(self) -> None:
        self._input.clear()

    def send(self, text: str) -> None:
        """Sends ``text`` as if typed and Enter pressed (a welcome page's example prompt);
        nothing while an answer streams. What was typed is replaced."""
        if self._streaming or not text.strip():
            return
        self.set_text(text)
        self._submit()

    def set_recall_source(
        self,
        source: Callable[[], str | None] | None,
        fallback: Callable[[], str | None] | None = None,
    ) -> None:
        """Where Up in an empty box finds the conversation's last prompt (asked only then);
        when it has none, the last prompt this box sent, else what ``fallback`` finds (the
        last prompt of any conversation, from an earlier run)."""
        self._recall_source = source
        self._recall_fallback = fallback

    def recall_last_prompt(self) -> bool:
        """Puts the last prompt sent back in an empty box; False when there is none."""
        if self.text():
            return False
        prompt = self._recall_source() if self._recall_source is not None else None
        prompt = prompt or self._last_sent
        if not prompt and self._recall_fallback is not None:
            prompt = self._recall_fallback()
        if not prompt:
            return False
        self.set_text(prompt)
        return True

    def set_zoom(self, percent: int) -> None:
        """The prompt's text (and the button's) at ``percent`` of its normal size."""
        self._zoom.apply(percent)

    def focus_input(self) -> None:
        self._input.setFocus(Qt.FocusReason.OtherFocusReason)

    def input_widget(self) -> PromptEdit:
        """The text box itself, for tab order and focus handling in the window."""
        return self._input

    def button(self) -> QPushButton:
        return self._button

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), 400), hint.height())

    # --- behaviour --------------------------------------------------------------------------

    def _build_layout(self) -> None:
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self._input, 1)
        # The button stays at the bottom edge as the text box grows upwards.
        layout.addWidget(self._button, 0, Qt.AlignmentFlag.AlignBottom)

    def _on_button_clicked(self) -> None:
        if self._streaming:
            self.stop_requested.emit()
        else:
            self._submit()
        self.focus_input()

    def _submit(self) -> None:
        # While an answer streams Enter must not queue a second prompt: keep the text.
        if self._streaming:
            return
        prompt = self.text().strip()
        if not prompt:
            return
        self.clear()
        self._last_sent = prompt
        self.submitted.emit(prompt)

    def _update_button(self) -> None:
        # Send is only offered when there is something to send; Stop is always available.
        enabled = self._streaming or bool(self.text().strip())
        if not enabled and self._button.hasFocus():
            # A disabled button hands focus to the next widget in the chain (the status
            # bar's checkbox): the prompt is where the next keystrokes belong.
            self.focus_input()
        self._button.setEnabled(enabled)
