"""The model picker beside the profile picker: the model of the conversation in view.

An editable combo box: the list comes from the profile's `/models` (fetched and cached by the
wiring, never here), and any name may be typed. Choosing from the list or pressing Enter says
`model_chosen(name)`; an empty name means "the profile's own model". It stays narrow (a long
model name scrolls inside the field, the list elides), so it never widens a small window.
The list is asked for (`list_wanted`) only when the user looks at it. Model names come from
outside: shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QWidget,
)

from deltadesk.ui.plain_text import one_line, plain_tooltip

MIN_CHARS = 10  # the field's width in characters when there is room; longer names scroll
SQUEEZED_WIDTH = 72  # how narrow it may get in a full top bar (a small screen)
MAX_WIDTH = 220
MAX_POPUP_WIDTH = 420
TOOLTIP = "Model for this chat: choose from the profile's list or type a name"


class _Combo(QComboBox):
    """Says when its list is about to be looked at (focus, or the popup opening)."""

    wanted = Signal()

    def showPopup(self) -> None:
        self.wanted.emit()
        super().showPopup()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.wanted.emit()
        super().focusInEvent(event)

    def minimumSizeHint(self) -> QSize:
        # Narrower than its text when the bar is full: the title beside it needs room too.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), SQUEEZED_WIDTH), hint.height())


class ModelPicker(QWidget):
    model_chosen = Signal(str)  # the name ("" = the profile's own model)
    # The user is about to look at the list (focus, popup): the wiring fills it, from the
    # cache or fetched in the background. Nothing is fetched before someone looks.
    list_wanted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = _Combo()
        self.combo.wanted.connect(self.list_wanted)
        editor = QLineEdit(self.combo)
        editor.setPlaceholderText("model")
        self.combo.setLineEdit(editor)  # editable: free text
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.combo.setMinimumContentsLength(MIN_CHARS)
        self.combo.setMaxVisibleItems(20)
        self.combo.setMaximumWidth(MAX_WIDTH)
        self.combo.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.combo.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.combo.view().setMaximumWidth(MAX_POPUP_WIDTH)
        completer = QCompleter(self.combo.model(), self.combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)  # hundreds of names: match anywhere
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.combo.setCompleter(completer)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        self._shown = ""  # the model as last shown or chosen: no second signal for it
        self._note: str | None = None
        self.combo.activated.connect(self._on_activated)
        editor.returnPressed.connect(self._on_typed)
        editor.editingFinished.connect(self._on_typed)
        self._update_tooltip()

    def set_models(self, models: Sequence[str]) -> None:
        """The list to choose from (the text in the field stays)."""
        text = self.combo.currentText()
        was_open = self.combo.view().isVisible()  # opened before the list had come
        self.combo.blockSignals(True)
        try:
            self.combo.clear()
            self.combo.addItems([one_line(m, 256) for m in models])
            self.combo.setCurrentIndex(self.combo.findText(text))
            self.combo.setEditText(text)
            if not self.combo.lineEdit().hasFocus():
                self.combo.lineEdit().setCursorPosition(0)  # the start of a long name shows
        finally:
            self.combo.blockSignals(False)
        if was_open and models:
            self.combo.showPopup()

    def models(self) -> list[str]:
        return [self.combo.itemText(i) for i in range(self.combo.count())]

    def set_model(self, model: str) -> None:
        """Shows the conversation's model (saying nothing)."""
        model = one_line(model, 256)
        self._shown = model
        self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(self.combo.findText(model))
            self.combo.setEditText(model)
            self.combo.lineEdit().setCursorPosition(0)  # the start of a long name shows
        finally:
            self.combo.blockSignals(False)
        self._update_tooltip()

    def model(self) -> str:
        return self.combo.currentText().strip()

    def set_note(self, note: str | None) -> None:
        """A quiet word on the list (fetching, or why it could not be fetched), in the
        tooltip: never a dialog."""
        self._note = note
        self._update_tooltip()

    def note(self) -> str | None:
        return self._note

    def _update_tooltip(self) -> None:
        lines = [TOOLTIP, self._shown or "", self._note or ""]
        self.combo.setToolTip(plain_tooltip("\n".join(line for line in lines if line)))

    def _on_activated(self, _index: int) -> None:
        self._choose(self.combo.currentText())

    def _on_typed(self) -> None:
        self._choose(self.combo.currentText())

    def _choose(self, text: str) -> None:
        text = text.strip()
        if text == self._shown:
            return
        self._shown = text
        self._update_tooltip()
        self.model_chosen.emit(text)


__all__ = ["ModelPicker"]
