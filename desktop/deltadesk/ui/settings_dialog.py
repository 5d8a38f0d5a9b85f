"""The profiles dialog: edit provider profiles and keys; the caller applies the result.

The dialog never touches the keyring or the network itself. It only learns whether a key is
stored (`has_key`), lists models through an injected coroutine function and, when given,
which models refused to report usage; what the user changed comes back as one `ProfileEdits`
value. Its parts: the profile list (profile_list.py), the form (profile_form.py, with the
Advanced group in profile_advanced.py) and the keyring notice (keyring_notice.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QVBoxLayout, QWidget

from deltadesk.core.errors import ChatError
from deltadesk.core.model_cache import usable_model_names
from deltadesk.core.profiles import PRESETS, Profile
from deltadesk.ui.keyring_notice import KeyringNotice
from deltadesk.ui.profile_advanced import ResetUsageRefusals, UsageRefusals
from deltadesk.ui.profile_edits import (
    ProfileEdits,
    ProfileEntry,
    unique_name,
    validation_errors,
)
from deltadesk.ui.profile_form import (
    KEY_PLACEHOLDER,
    KEY_STORED_PLACEHOLDER,
    ProfileForm,
)
from deltadesk.ui.profile_list import ProfileList

__all__ = [
    "FETCHING_TEXT",
    "KEY_PLACEHOLDER",
    "KEY_STORED_PLACEHOLDER",
    "SettingsDialog",
    "usable_model_names",
]

logger = logging.getLogger(__name__)

FetchModels = Callable[[Profile, str | None], Awaitable[list[str]]]

NEW_PROFILE_NAME = "New profile"
FETCHING_TEXT = "Fetching…"
CHOOSE_TEXT = "choose one from the Model list"


def fetch_status(models: Sequence[str], left_out: int, typed: str) -> str:
    """What a finished fetch says: how many, and what to do with them."""
    status = f"{len(models)} model{'' if len(models) == 1 else 's'}"
    if models and not typed:
        status += f": {CHOOSE_TEXT}"
    if left_out:
        status += f" ({left_out} left out: names too long or repeated)"
    return status


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
        usage_refusals: UsageRefusals | None = None,
        reset_usage_refusals: ResetUsageRefusals | None = None,
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
        self._list = ProfileList()
        self._form = ProfileForm(
            keyring_problem=keyring_problem,
            usage_refusals=usage_refusals,
            reset_usage_refusals=reset_usage_refusals,
        )
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._build_layout()
        self._connect_signals()
        self._populate_list()
        self.resize(780, 600)

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

    def _build_layout(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 12)
        root.setSpacing(12)
        if self._keyring_problem is not None:
            root.addWidget(KeyringNotice(self._keyring_problem))
        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self._list)
        body.addWidget(self._form, 1)
        root.addLayout(body, 1)
        root.addWidget(self._buttons)
        chain: list[QWidget] = [
            self._list.list,
            self._list.add_button,
            self._list.duplicate_button,
            self._list.remove_button,
            *self._form.focus_chain(),
            self._buttons.button(QDialogButtonBox.StandardButton.Ok),
            self._buttons.button(QDialogButtonBox.StandardButton.Cancel),
        ]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)

    def _connect_signals(self) -> None:
        form = self._form
        self._list.list.currentRowChanged.connect(self._on_row_changed)
        self._list.add_button.clicked.connect(self._add_profile)
        self._list.duplicate_button.clicked.connect(self._duplicate_profile)
        self._list.remove_button.clicked.connect(self._remove_profile)
        form.name_edit.textEdited.connect(self._on_name_edited)
        form.preset_combo.activated.connect(self._on_preset_chosen)
        form.base_url_edit.textEdited.connect(self._on_base_url_edited)
        form.fetch_button.clicked.connect(self._start_fetch)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

    # --- the list -------------------------------------------------------------------------

    def _populate_list(self) -> None:
        for entry in self._entries:
            self._list.add_row(entry.profile.name, active=entry is self._active_entry)
        start = self._active_entry or (self._entries[0] if self._entries else None)
        self._list.list.setCurrentRow(self._entries.index(start) if start is not None else -1)
        self._update_list_buttons()

    def _on_row_changed(self, row: int) -> None:
        self._store_form()
        self._shown = self._entries[row] if 0 <= row < len(self._entries) else None
        self._load_form()
        self._update_list_buttons()

    def _update_list_buttons(self) -> None:
        has_current = self._shown is not None
        self._list.duplicate_button.setEnabled(has_current)
        self._list.remove_button.setEnabled(has_current and len(self._entries) > 1)
        self._form.setEnabled(has_current)

    def _taken_names(self) -> list[str]:
        self._store_form()
        return [entry.profile.name for entry in self._entries]

    def _append_entry(self, entry: ProfileEntry) -> None:
        self._entries.append(entry)
        self._list.add_row(entry.profile.name, active=False)
        self._list.list.setCurrentRow(len(self._entries) - 1)
        self._form.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self._form.name_edit.selectAll()

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
        self._list.list.takeItem(row)
        self._list.list.setCurrentRow(min(row, len(self._entries) - 1))

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
            if entry is None:
                self._form.clear_errors()
                return
            self._form.load(entry, fetching=self._fetch_task is not None)
        finally:
            self._loading = False

    def _store_form(self) -> None:
        entry = self._shown
        if entry is None or self._loading:
            return
        self._form.store(entry)

    def _on_name_edited(self, text: str) -> None:
        self._form.name_error.hide()
        if self._shown is None:
            return
        self._shown.name_is_auto = False
        self._shown.profile = replace(self._shown.profile, name=text.strip())
        self._refresh_current_item()

    def _refresh_current_item(self) -> None:
        if self._shown is not None:
            row = self._entries.index(self._shown)
            self._list.show_row(
                row, self._shown.profile.name, active=self._shown is self._active_entry
            )

    def _on_base_url_edited(self, text: str) -> None:
        self._form.base_url_error.hide()
        self._form.sync_preset_combo(text)

    def _on_preset_chosen(self, index: int) -> None:
        entry = self._shown
        if entry is None or index <= 0:
            return  # "Custom" leaves the fields as they are
        form = self._form
        preset = PRESETS[index - 1]
        form.base_url_edit.setText(preset.base_url)
        form.advanced.local_check.setChecked(preset.local_server)
        entry.models, entry.fetch_status = [], ""  # those came from another endpoint
        form.fill_model_combo([], preset.model)
        form.show_fetch_status("")
        form.base_url_error.hide()
        form.model_error.hide()
        if entry.name_is_auto:
            self._store_form()
            others = [e.profile.name for e in self._entries if e is not entry]
            form.name_edit.setText(unique_name(preset.label, others))
            self._on_name_edited(form.name_edit.text())
            entry.name_is_auto = True  # still ours until the user types a name

    # --- validation -----------------------------------------------------------------------

    def _show_first_problem(self) -> bool:
        """Shows the first problem found (the profile on screen first); True if any."""
        ordered = sorted(self._entries, key=lambda e: e is not self._shown)
        for entry in ordered:
            others = [e.profile.name for e in self._entries if e is not entry]
            errors = validation_errors(entry.profile, others)
            if errors:
                self._list.list.setCurrentRow(self._entries.index(entry))
                self._form.show_errors(errors)
                return True
        return False

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
        self._form.fetch_button.setEnabled(False)
        self._fetch_task = asyncio.ensure_future(self._fetch(entry, profile, key))

    async def _fetch(self, entry: ProfileEntry, profile: Profile, key: str | None) -> None:
        models: list[str] | None = None
        try:
            models, left_out = usable_model_names(list(await self._fetch_models(profile, key)))
            typed = entry.profile.model.strip()
            if entry is self._shown:
                typed = self._form.model_combo.currentText().strip()
            status = fetch_status(models, left_out, typed)
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
        self._form.fetch_button.setEnabled(True)
        if models is not None and entry is self._shown:
            typed = self._form.model_combo.currentText().strip()
            self._form.fill_model_combo(models, typed)
            if models and not typed and self.isVisible():
                # An empty Model field: the list opens to choose from (issue 9, item 6).
                self._form.model_combo.setFocus(Qt.FocusReason.OtherFocusReason)
                self._form.model_combo.showPopup()

    def _set_fetch_status(self, entry: ProfileEntry, status: str) -> None:
        entry.fetch_status = status
        if entry is self._shown:
            self._form.show_fetch_status(status)
