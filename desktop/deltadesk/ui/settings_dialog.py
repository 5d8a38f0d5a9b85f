"""The profiles dialog: edit provider profiles and keys; the caller applies the result.

The dialog never touches the keyring or the network itself. It only learns whether a key is
stored (`has_key`) and lists models through an injected coroutine function; what the user
changed comes back as one `ProfileEdits` value.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from deltadesk.core.errors import ChatError
from deltadesk.core.profiles import DEMO_BASE_URL, PRESETS, Profile
from deltadesk.ui.profile_edits import (
    ProfileEdits,
    ProfileEntry,
    unique_name,
    validation_errors,
)

logger = logging.getLogger(__name__)

FetchModels = Callable[[Profile, str | None], Awaitable[list[str]]]

CUSTOM_PRESET = "Custom"
DEMO_URL_TEXT = "built-in demo"
DEMO_URL_TOOLTIP = "The demo provider runs inside Deltadesk, on a port chosen at start"
NEW_PROFILE_NAME = "New profile"
KEY_PLACEHOLDER = "stored in the system keyring"
KEY_STORED_PLACEHOLDER = "(a key is stored — leave blank to keep it)"
KEY_SESSION_PLACEHOLDER = "kept for this session only"
KEY_DEMO_PLACEHOLDER = "not needed for the built-in demo"
FETCHING_TEXT = "Fetching…"
ERROR_STYLE = "color: #c0392b;"


def _error_label() -> QLabel:
    label = QLabel()
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


class SettingsDialog(QDialog):
    """Edit the provider profiles; read `edits()` once the dialog was accepted."""

    def __init__(
        self,
        profiles: Sequence[Profile],
        active: str,
        *,
        has_key: Callable[[str], bool],
        fetch_models: FetchModels,
        keyring_problem: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings — Profiles")
        self._fetch_models = fetch_models
        self._keyring_problem = keyring_problem
        self._entries = [
            ProfileEntry(profile, profile.name, had_key=has_key(profile.name))
            for profile in profiles
        ]
        self._active_entry = next((e for e in self._entries if e.profile.name == active), None)
        self._removed: list[str] = []
        self._shown: ProfileEntry | None = None  # the entry the form currently edits
        self._loading = False  # set while the form is filled by code
        self._fetch_task: asyncio.Future[None] | None = None
        self._closed = False
        self._create_widgets()
        self._build_layout()
        self._connect_signals()
        self._populate_list()
        self.resize(780, 560)

    # --- public API -----------------------------------------------------------------------

    def edits(self) -> ProfileEdits:
        self._store_form()
        profiles = [entry.profile for entry in self._entries]
        return ProfileEdits(
            profiles=profiles,
            renamed={
                e.original_name: e.profile.name
                for e in self._entries
                if e.original_name is not None and e.original_name != e.profile.name
            },
            removed=list(self._removed),
            keys_to_set={
                e.profile.name: e.typed_key.strip() for e in self._entries if e.typed_key.strip()
            },
            keys_to_delete=[
                e.profile.name
                for e in self._entries
                if e.delete_key and e.had_key and not e.typed_key.strip()
            ],
            active=self._active_name(),
        )

    def accept(self) -> None:
        self._store_form()
        if self._show_first_problem():
            return  # stay open; the message sits next to the field
        super().accept()

    def done(self, result: int) -> None:
        # A late model list must not land in a dialog that is going away.
        self._closed = True
        if self._fetch_task is not None and not self._fetch_task.done():
            self._fetch_task.cancel()
        super().done(result)

    # --- construction -----------------------------------------------------------------------

    def _create_widgets(self) -> None:
        self._list = QListWidget()
        self._list.setAccessibleName("Profiles")
        self._list.setStyleSheet("QListWidget::item { padding: 4px 6px; }")
        self._add_button = QPushButton("&Add")
        self._add_button.setToolTip("Add a new profile")
        self._duplicate_button = QPushButton("&Duplicate")
        self._duplicate_button.setToolTip("Copy the selected profile (without its key)")
        self._remove_button = QPushButton("Remo&ve")
        self._remove_button.setToolTip("Remove the selected profile and its stored key")
        self._name_edit = QLineEdit()
        self._preset_combo = QComboBox()
        self._preset_combo.addItem(CUSTOM_PRESET)
        for preset in PRESETS:
            self._preset_combo.addItem(preset.label)
        self._preset_combo.setToolTip("Fill in the base URL and a model for a known provider")
        self._base_url_edit = QLineEdit()
        self._base_url_edit.setPlaceholderText("https://api.example.com/v1")
        self._model_combo = self._create_model_combo()
        self._fetch_button = QPushButton("&Fetch models")
        self._fetch_button.setToolTip("Ask the endpoint which models it offers")
        self._fetch_status = QLabel()
        self._fetch_status.setWordWrap(True)
        self._key_edit = QLineEdit()
        self._key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._key_edit.setClearButtonEnabled(True)
        self._remove_key_check = QCheckBox("&Remove stored key")
        self._name_error, self._base_url_error, self._model_error = (
            _error_label(),
            _error_label(),
            _error_label(),
        )
        self._create_advanced_widgets()
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )

    def _create_model_combo(self) -> QComboBox:
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

    def _create_advanced_widgets(self) -> None:
        self._first_chunk_spin = self._seconds_spin(0.5, 600.0, "Longest wait for the first chunk")
        self._idle_spin = self._seconds_spin(1.0, 3600.0, "Longest silence between two chunks")
        self._connect_spin = self._seconds_spin(1.0, 300.0, "Longest wait to open the connection")
        self._attempts_spin = QSpinBox()
        self._attempts_spin.setRange(1, 10)
        self._attempts_spin.setToolTip("Tries before the first token arrives (1 = no retry)")
        self._usage_check = QCheckBox("Include &usage (token counts)")
        self._usage_check.setToolTip("Ask for token counts; turn off if the provider rejects it")
        self._thinking_check = QCheckBox("T&hinking (reasoning)")
        self._thinking_check.setToolTip("Ask reasoning models to think before they answer")

    @staticmethod
    def _seconds_spin(minimum: float, maximum: float, tooltip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(minimum, maximum)
        spin.setDecimals(1)
        spin.setSingleStep(1.0)
        spin.setSuffix(" s")
        spin.setToolTip(tooltip)
        spin.setAlignment(Qt.AlignmentFlag.AlignRight)
        return spin

    def _build_layout(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 12)
        root.setSpacing(12)
        if self._keyring_problem is not None:
            root.addWidget(self._keyring_warning(self._keyring_problem))
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addLayout(self._profile_list_column())
        body.addWidget(self._form_column(), 1)
        root.addLayout(body, 1)
        root.addWidget(self._buttons)
        self._set_tab_order()

    def _keyring_warning(self, problem: str) -> QWidget:
        frame = QFrame()
        frame.setObjectName("keyringWarning")
        frame.setStyleSheet(
            "#keyringWarning { background: rgba(241, 196, 15, 0.18);"
            " border: 1px solid rgba(241, 196, 15, 0.6); border-radius: 6px; }"
        )
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(24, 24)
        )
        # The problem already says what happens to keys (core/secrets.py).
        self._keyring_label = QLabel(problem.strip())
        self._keyring_label.setWordWrap(True)
        layout = QHBoxLayout(frame)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self._keyring_label, 1)
        return frame

    def _profile_list_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.setSpacing(6)
        title = QLabel("&Profiles")
        title.setBuddy(self._list)
        column.addWidget(title)
        self._list.setMinimumWidth(200)
        self._list.setMaximumWidth(260)
        column.addWidget(self._list, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self._add_button, self._duplicate_button, self._remove_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        column.addLayout(buttons)
        return column

    def _form_column(self) -> QWidget:
        self._form = QWidget()
        column = QVBoxLayout(self._form)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(12)
        form = self._new_form()
        self._add_row(form, "&Name:", _stack(self._name_edit, self._name_error), self._name_edit)
        self._add_row(form, "Pr&eset:", self._preset_combo, self._preset_combo)
        base_url = _stack(self._base_url_edit, self._base_url_error)
        self._add_row(form, "&Base URL:", base_url, self._base_url_edit)
        self._add_row(form, "&Model:", self._model_row(), self._model_combo)
        key = _stack(self._key_edit, self._remove_key_check)
        self._add_row(form, "API &key:", key, self._key_edit)
        column.addLayout(form)
        column.addWidget(self._advanced_group())
        column.addStretch(1)
        return self._form

    def _model_row(self) -> QWidget:
        line = QWidget()
        layout = QHBoxLayout(line)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._model_combo, 1)
        self._fetch_button.setAutoDefault(False)
        layout.addWidget(self._fetch_button)
        return _stack(line, self._fetch_status, self._model_error)

    def _advanced_group(self) -> QGroupBox:
        group = QGroupBox("Advanced")
        form = self._new_form()
        self._add_row(form, "F&irst-chunk timeout:", self._first_chunk_spin, self._first_chunk_spin)
        self._add_row(form, "Id&le timeout:", self._idle_spin, self._idle_spin)
        self._add_row(form, "Connect &timeout:", self._connect_spin, self._connect_spin)
        self._add_row(form, "Attempt&s:", self._attempts_spin, self._attempts_spin)
        form.addRow("", self._usage_check)
        form.addRow("", self._thinking_check)
        group.setLayout(form)
        return group

    @staticmethod
    def _new_form() -> QFormLayout:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(8)
        return form

    @staticmethod
    def _add_row(form: QFormLayout, text: str, row: QWidget, buddy: QWidget) -> None:
        label = QLabel(text)
        label.setBuddy(buddy)
        form.addRow(label, row)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [
            self._list,
            self._add_button,
            self._duplicate_button,
            self._remove_button,
            self._name_edit,
            self._preset_combo,
            self._base_url_edit,
            self._model_combo,
            self._fetch_button,
            self._key_edit,
            self._remove_key_check,
            self._first_chunk_spin,
            self._idle_spin,
            self._connect_spin,
            self._attempts_spin,
            self._usage_check,
            self._thinking_check,
            self._buttons.button(QDialogButtonBox.StandardButton.Ok),
            self._buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

    def _connect_signals(self) -> None:
        self._list.currentRowChanged.connect(self._on_row_changed)
        self._add_button.clicked.connect(self._add_profile)
        self._duplicate_button.clicked.connect(self._duplicate_profile)
        self._remove_button.clicked.connect(self._remove_profile)
        self._name_edit.textEdited.connect(self._on_name_edited)
        self._preset_combo.activated.connect(self._on_preset_chosen)
        self._base_url_edit.textEdited.connect(self._on_base_url_edited)
        self._model_combo.editTextChanged.connect(lambda _text: self._model_error.hide())
        self._fetch_button.clicked.connect(self._start_fetch)
        self._key_edit.textChanged.connect(self._update_key_controls)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

    # --- the list -------------------------------------------------------------------------

    def _populate_list(self) -> None:
        for entry in self._entries:
            self._list.addItem(self._make_item(entry))
        start = self._active_entry or (self._entries[0] if self._entries else None)
        self._list.setCurrentRow(self._entries.index(start) if start is not None else -1)
        self._update_list_buttons()

    def _make_item(self, entry: ProfileEntry) -> QListWidgetItem:
        item = QListWidgetItem()
        self._refresh_item(item, entry)
        return item

    def _refresh_item(self, item: QListWidgetItem, entry: ProfileEntry) -> None:
        item.setText(entry.profile.name.strip() or "(no name)")
        font = QFont(self._list.font())
        font.setBold(entry is self._active_entry)  # the profile new chats use
        item.setFont(font)
        item.setToolTip("The active profile" if entry is self._active_entry else "")

    def _on_row_changed(self, row: int) -> None:
        self._store_form()
        self._shown = self._entries[row] if 0 <= row < len(self._entries) else None
        self._load_form()
        self._update_list_buttons()

    def _update_list_buttons(self) -> None:
        has_current = self._shown is not None
        self._duplicate_button.setEnabled(has_current)
        self._remove_button.setEnabled(has_current and len(self._entries) > 1)
        self._form.setEnabled(has_current)

    def _taken_names(self) -> list[str]:
        self._store_form()
        return [entry.profile.name for entry in self._entries]

    def _append_entry(self, entry: ProfileEntry) -> None:
        self._entries.append(entry)
        self._list.addItem(self._make_item(entry))
        self._list.setCurrentRow(len(self._entries) - 1)
        self._name_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self._name_edit.selectAll()

    def _add_profile(self) -> None:
        name = unique_name(NEW_PROFILE_NAME, self._taken_names())
        profile = Profile(name=name, base_url="", model="")
        self._append_entry(ProfileEntry(profile, None, name_is_auto=True))

    def _duplicate_profile(self) -> None:
        if self._shown is None:
            return
        source = self._shown
        name = unique_name(f"{source.profile.name.strip()} copy", self._taken_names())
        # The copy starts without a key: keys are never read back out of the keyring.
        copy = ProfileEntry(replace(source.profile, name=name), None, models=list(source.models))
        self._append_entry(copy)

    def _remove_profile(self) -> None:
        entry = self._shown
        if entry is None or len(self._entries) <= 1:
            return
        row = self._entries.index(entry)
        if entry.original_name is not None:
            self._removed.append(entry.original_name)
        self._shown = None  # nothing to store back from the form
        del self._entries[row]
        self._list.takeItem(row)
        self._list.setCurrentRow(min(row, len(self._entries) - 1))

    def _active_name(self) -> str:
        if self._active_entry in self._entries and self._active_entry is not None:
            return self._active_entry.profile.name
        fallback = self._shown or (self._entries[0] if self._entries else None)
        return fallback.profile.name if fallback is not None else ""

    # --- the form -------------------------------------------------------------------------

    def _load_form(self) -> None:
        entry = self._shown
        self._loading = True
        try:
            self._clear_errors()
            if entry is None:
                return
            self._load_endpoint(entry)
            self._load_key(entry)
            self._load_advanced(entry.profile)
        finally:
            self._loading = False

    def _load_endpoint(self, entry: ProfileEntry) -> None:
        profile = entry.profile
        self._name_edit.setText(profile.name)
        self._base_url_edit.setReadOnly(entry.is_demo)
        self._base_url_edit.setText(DEMO_URL_TEXT if entry.is_demo else profile.base_url)
        font = self._base_url_edit.font()
        font.setItalic(entry.is_demo)  # read-only text should not look like something to edit
        self._base_url_edit.setFont(font)
        self._base_url_edit.setToolTip(DEMO_URL_TOOLTIP if entry.is_demo else "")
        self._preset_combo.setEnabled(not entry.is_demo)
        self._sync_preset_combo(profile.base_url)
        self._fill_model_combo(entry.models, profile.model)
        self._fetch_status.setText(entry.fetch_status)
        self._fetch_status.setVisible(bool(entry.fetch_status))
        self._fetch_button.setEnabled(self._fetch_task is None)

    def _load_key(self, entry: ProfileEntry) -> None:
        self._key_edit.setText(entry.typed_key)
        self._key_edit.setEnabled(not entry.is_demo)
        self._key_edit.setPlaceholderText(self._key_placeholder(entry))
        self._remove_key_check.setChecked(entry.delete_key)
        self._remove_key_check.setVisible(entry.had_key)
        self._update_key_controls()

    def _key_placeholder(self, entry: ProfileEntry) -> str:
        if entry.is_demo:
            return KEY_DEMO_PLACEHOLDER
        if entry.had_key:
            return KEY_STORED_PLACEHOLDER
        # Without a keyring, "stored in the system keyring" would not be true.
        return KEY_SESSION_PLACEHOLDER if self._keyring_problem else KEY_PLACEHOLDER

    def _load_advanced(self, profile: Profile) -> None:
        self._first_chunk_spin.setValue(profile.first_chunk_timeout)
        self._idle_spin.setValue(profile.idle_timeout)
        self._connect_spin.setValue(profile.connect_timeout)
        self._attempts_spin.setValue(profile.max_attempts)
        self._usage_check.setChecked(profile.include_usage)
        self._thinking_check.setChecked(profile.thinking)

    def _store_form(self) -> None:
        entry = self._shown
        if entry is None or self._loading:
            return
        entry.profile = self._profile_from_form(entry)
        entry.typed_key = self._key_edit.text()
        entry.delete_key = entry.had_key and self._remove_key_check.isChecked()

    def _profile_from_form(self, entry: ProfileEntry) -> Profile:
        return replace(
            entry.profile,
            name=self._name_edit.text().strip(),
            base_url=DEMO_BASE_URL if entry.is_demo else self._base_url_edit.text().strip(),
            model=self._model_combo.currentText().strip(),
            first_chunk_timeout=self._first_chunk_spin.value(),
            idle_timeout=self._idle_spin.value(),
            connect_timeout=self._connect_spin.value(),
            max_attempts=self._attempts_spin.value(),
            include_usage=self._usage_check.isChecked(),
            thinking=self._thinking_check.isChecked(),
        )

    def _sync_preset_combo(self, base_url: str) -> None:
        wanted = base_url.strip().rstrip("/")
        matches = [i for i, p in enumerate(PRESETS, start=1) if p.base_url.rstrip("/") == wanted]
        self._preset_combo.setCurrentIndex(matches[0] if matches else 0)  # 0 is "Custom"

    def _fill_model_combo(self, models: Sequence[str], typed: str) -> None:
        self._model_combo.blockSignals(True)
        try:
            self._model_combo.clear()
            self._model_combo.addItems(list(models))
            self._model_combo.setCurrentIndex(self._model_combo.findText(typed))
            self._model_combo.setEditText(typed)  # a typed model wins over the list
        finally:
            self._model_combo.blockSignals(False)

    def _on_name_edited(self, text: str) -> None:
        self._name_error.hide()
        if self._shown is None:
            return
        self._shown.name_is_auto = False
        self._shown.profile = replace(self._shown.profile, name=text.strip())
        self._refresh_current_item()

    def _refresh_current_item(self) -> None:
        if self._shown is not None:
            row = self._entries.index(self._shown)
            self._refresh_item(self._list.item(row), self._shown)

    def _on_base_url_edited(self, text: str) -> None:
        self._base_url_error.hide()
        self._sync_preset_combo(text)

    def _on_preset_chosen(self, index: int) -> None:
        entry = self._shown
        if entry is None or index <= 0:
            return  # "Custom" leaves the fields as they are
        preset = PRESETS[index - 1]
        self._base_url_edit.setText(preset.base_url)
        entry.models, entry.fetch_status = [], ""  # those came from another endpoint
        self._fill_model_combo([], preset.model)
        self._fetch_status.hide()
        self._base_url_error.hide()
        self._model_error.hide()
        if entry.name_is_auto:
            self._store_form()
            others = [e.profile.name for e in self._entries if e is not entry]
            self._name_edit.setText(unique_name(preset.label, others))
            self._on_name_edited(self._name_edit.text())
            entry.name_is_auto = True  # still ours until the user types a name

    def _update_key_controls(self) -> None:
        # A newly typed key replaces the stored one; "remove" would contradict it.
        self._remove_key_check.setEnabled(not self._key_edit.text())

    # --- validation -----------------------------------------------------------------------

    def _show_first_problem(self) -> bool:
        """Shows the first problem found (the profile on screen first); True if any."""
        ordered = sorted(self._entries, key=lambda e: e is not self._shown)
        for entry in ordered:
            others = [e.profile.name for e in self._entries if e is not entry]
            errors = validation_errors(entry.profile, others)
            if errors:
                self._list.setCurrentRow(self._entries.index(entry))
                self._show_errors(errors)
                return True
        return False

    def _show_errors(self, errors: dict[str, str]) -> None:
        fields = (
            ("name", self._name_error, self._name_edit),
            ("base_url", self._base_url_error, self._base_url_edit),
            ("model", self._model_error, self._model_combo),
        )
        focused = False
        for key, label, widget in fields:
            label.setText(errors.get(key, ""))
            label.setVisible(key in errors)
            if key in errors and not focused:
                widget.setFocus(Qt.FocusReason.OtherFocusReason)
                focused = True

    def _clear_errors(self) -> None:
        for label in (self._name_error, self._base_url_error, self._model_error):
            label.clear()
            label.hide()

    # --- fetching models --------------------------------------------------------------------

    def _start_fetch(self) -> None:
        entry = self._shown
        if entry is None or self._fetch_task is not None:
            return
        self._store_form()
        profile = entry.profile
        if entry.original_name is not None and not entry.typed_key.strip():
            # The stored key is filed under the name the profile had when the dialog opened.
            profile = replace(profile, name=entry.original_name)
        key = entry.typed_key.strip() or None
        self._set_fetch_status(entry, FETCHING_TEXT)
        self._fetch_button.setEnabled(False)
        self._fetch_task = asyncio.ensure_future(self._fetch(entry, profile, key))

    async def _fetch(self, entry: ProfileEntry, profile: Profile, key: str | None) -> None:
        models: list[str] | None = None
        try:
            models = list(await self._fetch_models(profile, key))
            status = f"{len(models)} model{'' if len(models) == 1 else 's'}"
        except ChatError as error:
            status = error.message
        except Exception:
            # The injected function should only raise ChatError; anything else is a bug to log,
            # not a reason to leave the button disabled.
            logger.exception("fetching the model list failed")
            status = "Could not fetch the models (see the log)."
        finally:
            self._fetch_task = None
        if not self._closed:
            self._show_fetch_result(entry, models, status)

    def _show_fetch_result(
        self, entry: ProfileEntry, models: list[str] | None, status: str
    ) -> None:
        """Puts a finished fetch on screen; the list is kept with the profile it belongs to."""
        if models is not None:
            entry.models = models
        self._set_fetch_status(entry, status)
        self._fetch_button.setEnabled(True)
        if models is not None and entry is self._shown:
            self._fill_model_combo(models, self._model_combo.currentText().strip())

    def _set_fetch_status(self, entry: ProfileEntry, status: str) -> None:
        entry.fetch_status = status
        if entry is self._shown:
            self._fetch_status.setText(status)
            self._fetch_status.setVisible(bool(status))
