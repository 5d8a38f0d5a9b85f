"""The settings dialog's form for one profile: name, preset, endpoint, model, key, Advanced.

Widgets and the mapping between them and a ProfileEntry; what the buttons do (fetching
models, validation) stays with the dialog. Fetch results and errors carry outside text
(provider messages, model names): they are shown as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.core.profiles import DEMO_BASE_URL, PRESETS
from deltadesk.ui.plain_text import clip, plain_label
from deltadesk.ui.profile_advanced import (
    AdvancedSettings,
    ResetUsageRefusals,
    UsageRefusals,
    add_row,
    new_form,
)
from deltadesk.ui.profile_edits import ProfileEntry

CUSTOM_PRESET = "Custom"
DEMO_URL_TEXT = "built-in demo"
DEMO_URL_TOOLTIP = "The demo provider runs inside Deltadesk, on a port chosen at start"
KEY_PLACEHOLDER = "stored in the system keyring"
KEY_STORED_PLACEHOLDER = "(a key is stored — leave blank to keep it)"
KEY_SESSION_PLACEHOLDER = "kept for this session only"
KEY_DEMO_PLACEHOLDER = "not needed for the built-in demo"
ERROR_STYLE = "color: #c0392b;"


def _error_label() -> QLabel:
    label = plain_label()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


def _stack(*widgets: QWidget) -> QWidget:
    """A field with its notes under it, as one row of a form."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(3)
    for widget in widgets:
        layout.addWidget(widget)
    return box


class ProfileForm(QWidget):
    def __init__(
        self,
        *,
        keyring_problem: str | None,
        usage_refusals: UsageRefusals | None = None,
        reset_usage_refusals: ResetUsageRefusals | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._keyring_problem = keyring_problem
        self._create_widgets()
        self.advanced = AdvancedSettings(
            usage_refusals=usage_refusals, reset_usage_refusals=reset_usage_refusals
        )
        self._build_layout()
        self.model_combo.editTextChanged.connect(lambda _text: self.model_error.hide())
        self.key_edit.textChanged.connect(self._update_key_controls)

    # --- construction -----------------------------------------------------------------------

    def _create_widgets(self) -> None:
        self.name_edit = QLineEdit()
        self.preset_combo = QComboBox()
        self.preset_combo.addItem(CUSTOM_PRESET)
        for preset in PRESETS:
            self.preset_combo.addItem(preset.label)
        self.preset_combo.setToolTip("Fill in the base URL and a model for a known provider")
        self.base_url_edit = QLineEdit()
        self.base_url_edit.setPlaceholderText("https://api.example.com/v1")
        self.model_combo = self._create_model_combo()
        self.fetch_button = QPushButton("&Fetch models")
        self.fetch_button.setToolTip("Ask the endpoint which models it offers")
        self.fetch_button.setAutoDefault(False)
        self.fetch_status = plain_label()
        self.fetch_status.setWordWrap(True)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setClearButtonEnabled(True)
        self.remove_key_check = QCheckBox("&Remove stored key")
        self.name_error, self.base_url_error, self.model_error = (
            _error_label(),
            _error_label(),
            _error_label(),
        )

    @staticmethod
    def _create_model_combo() -> QComboBox:
        combo = QComboBox()
        editor = QLineEdit(combo)
        editor.setPlaceholderText("model name, e.g. gpt-4o-mini")
        combo.setLineEdit(editor)  # makes the combo editable
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.setMaxVisibleItems(20)
        # Providers list hundreds of models: match anywhere in the name while typing.
        completer = QCompleter(combo.model(), combo)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        combo.setCompleter(completer)
        return combo

    def _build_layout(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        form = new_form()
        add_row(form, "&Name:", _stack(self.name_edit, self.name_error), self.name_edit)
        add_row(form, "Pr&eset:", self.preset_combo, self.preset_combo)
        base_url = _stack(self.base_url_edit, self.base_url_error)
        add_row(form, "&Base URL:", base_url, self.base_url_edit)
        add_row(form, "&Model:", self._model_row(), self.model_combo)
        key = _stack(self.key_edit, self.remove_key_check)
        add_row(form, "API &key:", key, self.key_edit)
        column.addLayout(form)
        column.addWidget(self.advanced)
        column.addStretch(1)

    def _model_row(self) -> QWidget:
        line = QWidget()
        layout = QHBoxLayout(line)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.model_combo, 1)
        layout.addWidget(self.fetch_button)
        return _stack(line, self.fetch_status, self.model_error)

    def focus_chain(self) -> list[QWidget]:
        head: list[QWidget] = [
            self.name_edit,
            self.preset_combo,
            self.base_url_edit,
            self.model_combo,
            self.fetch_button,
            self.key_edit,
            self.remove_key_check,
        ]
        return head + self.advanced.focus_chain()

    # --- an entry in, an entry out ----------------------------------------------------------

    def load(self, entry: ProfileEntry, *, fetching: bool) -> None:
        self.clear_errors()
        self._load_endpoint(entry, fetching=fetching)
        self._load_key(entry)
        self.advanced.load(entry.profile)

    def _load_endpoint(self, entry: ProfileEntry, *, fetching: bool) -> None:
        profile = entry.profile
        self.name_edit.setText(profile.name)
        self.base_url_edit.setReadOnly(entry.is_demo)
        self.base_url_edit.setText(DEMO_URL_TEXT if entry.is_demo else profile.base_url)
        font = self.base_url_edit.font()
        font.setItalic(entry.is_demo)  # read-only text should not look like something to edit
        self.base_url_edit.setFont(font)
        self.base_url_edit.setToolTip(DEMO_URL_TOOLTIP if entry.is_demo else "")
        self.preset_combo.setEnabled(not entry.is_demo)
        self.sync_preset_combo(profile.base_url)
        self.fill_model_combo(entry.models, profile.model)
        self.show_fetch_status(entry.fetch_status)
        self.fetch_button.setEnabled(not fetching)

    def _load_key(self, entry: ProfileEntry) -> None:
        self.key_edit.setText(entry.typed_key)
        self.key_edit.setEnabled(not entry.is_demo)
        self.key_edit.setPlaceholderText(self._key_placeholder(entry))
        self.remove_key_check.setChecked(entry.delete_key)
        self.remove_key_check.setVisible(entry.had_key)
        self._update_key_controls()

    def _key_placeholder(self, entry: ProfileEntry) -> str:
        if entry.is_demo:
            return KEY_DEMO_PLACEHOLDER
        if entry.had_key:
            return KEY_STORED_PLACEHOLDER
        # Without a keyring, "stored in the system keyring" would not be true.
        return KEY_SESSION_PLACEHOLDER if self._keyring_problem else KEY_PLACEHOLDER

    def store(self, entry: ProfileEntry) -> None:
        entry.profile = self.advanced.apply(
            replace(
                entry.profile,
                name=self.name_edit.text().strip(),
                base_url=DEMO_BASE_URL if entry.is_demo else self.base_url_edit.text().strip(),
                model=self.model_combo.currentText().strip(),
            )
        )
        entry.typed_key = self.key_edit.text()
        entry.delete_key = entry.had_key and self.remove_key_check.isChecked()

    # --- parts the dialog updates -----------------------------------------------------------

    def sync_preset_combo(self, base_url: str) -> None:
        wanted = base_url.strip().rstrip("/")
        matches = [i for i, p in enumerate(PRESETS, start=1) if p.base_url.rstrip("/") == wanted]
        self.preset_combo.setCurrentIndex(matches[0] if matches else 0)  # 0 is "Custom"

    def fill_model_combo(self, models: Sequence[str], typed: str) -> None:
        self.model_combo.blockSignals(True)
        try:
            self.model_combo.clear()
            self.model_combo.addItems(list(models))
            self.model_combo.setCurrentIndex(self.model_combo.findText(typed))
            self.model_combo.setEditText(typed)  # a typed model wins over the list
        finally:
            self.model_combo.blockSignals(False)

    def show_fetch_status(self, status: str) -> None:
        self.fetch_status.setText(clip(status))
        self.fetch_status.setVisible(bool(status))

    def show_errors(self, errors: dict[str, str]) -> None:
        fields = (
            ("name", self.name_error, self.name_edit),
            ("base_url", self.base_url_error, self.base_url_edit),
            ("model", self.model_error, self.model_combo),
        )
        focused = False
        for key, label, widget in fields:
            label.setText(clip(errors.get(key, "")))
            label.setVisible(key in errors)
            if key in errors and not focused:
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                focused = True

    def clear_errors(self) -> None:
        for label in (self.name_error, self.base_url_error, self.model_error):
            label.clear()
            label.hide()

    def _update_key_controls(self) -> None:
        # A newly typed key replaces the stored one; "remove" would contradict it.
        self.remove_key_check.setEnabled(not self.key_edit.text())
