"""The presets dialog: the chat presets listed, each one's settings shown; start a new chat
from one, rename or delete it, or save the current chat's settings as a new one.

Widgets only: each wish leaves as a signal, the wiring changes the presets file and gives
the list back (`set_presets`), or the problem (`show_problem`). Names and prompts may come
from a hand-edited file: shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.core.presets import ChatPreset, preset_name
from deltadesk.ui.plain_text import clip, one_line, plain_label

SYSTEM_PREVIEW_CHARS = 300


def describe(preset: ChatPreset) -> str:
    """What a preset sets, in a few plain lines."""
    s = preset.settings
    lines = [
        f"Profile: {s.profile or 'the active one'}",
        f"Model: {s.model or 'the profile’s own'}",
        f"Temperature: {'default' if s.temperature is None else f'{s.temperature:g}'}",
        f"Max tokens: {s.max_tokens or 'default'}",
    ]
    if s.reasoning_effort:
        lines.append(f"Reasoning effort: {s.reasoning_effort}")
    system = one_line(s.system or "", SYSTEM_PREVIEW_CHARS)
    lines.append(f"System prompt: {system or 'none'}")
    return "\n".join(lines)


class PresetsDialog(QDialog):
    start_requested = Signal(str)  # a new chat from this preset
    rename_requested = Signal(str, str)  # old name, new name
    delete_requested = Signal(str)
    save_requested = Signal(str)  # the current chat's settings under this name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Chat presets")
        self._presets: list[ChatPreset] = []
        self.list = QListWidget()
        self.list.setMinimumWidth(160)
        self.details = plain_label()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("preset name")
        self.start_button = QPushButton("&New chat from it")
        self.rename_button = QPushButton("&Rename")
        self.delete_button = QPushButton("&Delete")
        self.save_button = QPushButton("&Save current chat as preset")
        self.problem = plain_label()
        self.problem.setObjectName("presetsProblem")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for button in (self.start_button, self.rename_button, self.delete_button):
            button.setAutoDefault(False)
        self._build_layout()
        self._connect()
        self.resize(560, 380)
        self._update_buttons()

    def _build_layout(self) -> None:
        root = QVBoxLayout(self)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        side = QVBoxLayout()
        side.addWidget(self.details, 1)
        side.addWidget(self.start_button)
        row = QHBoxLayout()
        row.addWidget(self.rename_button)
        row.addWidget(self.delete_button)
        side.addLayout(row)
        body.addLayout(side, 2)
        root.addLayout(body, 1)
        name_label = QLabel("Na&me:")
        name_label.setBuddy(self.name_edit)
        naming = QHBoxLayout()
        naming.addWidget(name_label)
        naming.addWidget(self.name_edit, 1)
        naming.addWidget(self.save_button)
        root.addLayout(naming)
        root.addWidget(self.problem)
        root.addWidget(self.buttons)

    def _connect(self) -> None:
        self.list.currentRowChanged.connect(self._on_row)
        self.list.itemDoubleClicked.connect(lambda _item: self._start())
        self.name_edit.textChanged.connect(lambda _t: self._update_buttons())
        self.start_button.clicked.connect(self._start)
        self.rename_button.clicked.connect(self._rename)
        self.delete_button.clicked.connect(self._delete)
        self.save_button.clicked.connect(self._save)
        self.buttons.rejected.connect(self.reject)

    # -- what the wiring tells it ----------------------------------------------------------

    def set_presets(self, presets: Sequence[ChatPreset], select: str | None = None) -> None:
        keep = select if select is not None else self.current_name()
        self._presets = list(presets)
        self.list.blockSignals(True)
        try:
            self.list.clear()
            self.list.addItems([one_line(p.name, 200) for p in self._presets])
        finally:
            self.list.blockSignals(False)
        names = [p.name for p in self._presets]
        self.list.setCurrentRow(names.index(keep) if keep in names else (0 if names else -1))
        self._on_row(self.list.currentRow())

    def show_problem(self, text: str | None) -> None:
        self.problem.setText(clip(text or ""))
        self.problem.setVisible(bool(text))

    def current_name(self) -> str | None:
        row = self.list.currentRow()
        return self._presets[row].name if 0 <= row < len(self._presets) else None

    # -- the user's wishes -----------------------------------------------------------------

    def _on_row(self, row: int) -> None:
        preset = self._presets[row] if 0 <= row < len(self._presets) else None
        self.details.setText(describe(preset) if preset is not None else "No presets yet.")
        if preset is not None:
            self.name_edit.setText(preset.name)
        self._update_buttons()

    def _typed_name(self) -> str:
        return preset_name(self.name_edit.text())

    def _update_buttons(self) -> None:
        current = self.current_name()
        typed = self._typed_name()
        self.start_button.setEnabled(current is not None)
        self.delete_button.setEnabled(current is not None)
        self.rename_button.setEnabled(current is not None and bool(typed) and typed != current)
        self.save_button.setEnabled(bool(typed))

    def _start(self) -> None:
        name = self.current_name()
        if name is not None:
            self.start_requested.emit(name)
            self.accept()

    def _rename(self) -> None:
        name = self.current_name()
        if name is not None and self._typed_name():
            self.rename_requested.emit(name, self._typed_name())

    def _delete(self) -> None:
        name = self.current_name()
        if name is not None:
            self.delete_requested.emit(name)

    def _save(self) -> None:
        if self._typed_name():
            self.save_requested.emit(self._typed_name())


__all__ = ["PresetsDialog", "describe"]
