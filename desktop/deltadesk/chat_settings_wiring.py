"""The wiring of the per-chat settings: the chat settings panel, the model picker beside the
profile picker, and the chat presets.

- The conversation in view shows its settings in the panel, its profile in the window's
  profile picker and its model in the model picker; a change in any of them is kept with
  the conversation (a new chat's, in its session until its first prompt) and goes with its
  next request (ChatController.set_settings).
- The model picker's list is the profile's `/models`, cached per profile (core/model_cache.py)
  and fetched in the background when the user looks at the picker and the list is missing or
  has aged: never blocking the window; a list that cannot be fetched is said quietly in the
  picker's tooltip.
- Presets (core/presets.py): a new chat from one (the ⋯ button's menu, or the presets
  dialog), the chat's settings saved as one, renamed, deleted.

Built by the shell (shell.Deltadesk) with one line; widget code stays in ui/.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMenu

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.errors import ChatError
from deltadesk.core.model_cache import MODEL_CACHE_FILE_NAME, ModelCache, cache_key
from deltadesk.core.presets import PRESETS_FILE_NAME, PresetStore, preset_name
from deltadesk.core.profiles import Profile
from deltadesk.core.store import StoreWriteError
from deltadesk.ui.chat_settings_panel import (
    PANEL_SHORTCUT,
    ChatSettingsPanel,
    FloatingFollower,
    fit_dock,
    settings_dock,
)
from deltadesk.ui.plain_text import one_line
from deltadesk.ui.presets_dialog import PresetsDialog

if TYPE_CHECKING:
    from deltadesk.shell import Deltadesk

log = logging.getLogger(__name__)

RETRY_FAILED_FETCH_S = 60.0  # a list that could not be fetched is asked for again after this
FETCHING_NOTE = "Fetching the model list…"
STATUS_MS = 5000


class ChatSettingsWiring:
    def __init__(self, shell: Deltadesk) -> None:
        self.shell = shell
        self.services = shell.services
        self.controller = shell.controller
        self.window = shell.window
        config = self.services.paths.config
        self.presets = PresetStore(config / PRESETS_FILE_NAME)
        self.models = ModelCache(config / MODEL_CACHE_FILE_NAME)
        self.panel = ChatSettingsPanel()
        self.dock = settings_dock(self.panel, self.window)
        self.window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.follower = FloatingFollower(self.dock, self.window)  # floating: moves with it
        self.toggle_action = QAction("Chat settings", self.window)
        self.toggle_action.setShortcut(QKeySequence(PANEL_SHORTCUT))
        self.toggle_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.window.addAction(self.toggle_action)  # Ctrl+Shift+S anywhere in the window
        self.picker = self.window.model_picker
        self.button = self.window.chat_settings_button
        self.presets_dialog: PresetsDialog | None = None
        self._fetching: dict[str, asyncio.Future[None]] = {}
        self._failed_at: dict[str, float] = {}
        self._view_due = False
        self._connect()
        self._add_to_chat_menu()
        self.button.set_presets(self.presets.names())
        self.show_view()

    def _connect(self) -> None:
        c, w = self.controller, self.window
        c.view_changed.connect(lambda _cid: self.show_view())
        c.settings_changed.connect(self._on_settings_changed)
        c.busy_changed.connect(lambda busy: self.picker.setEnabled(not busy))
        self.panel.edited.connect(self._on_panel_edited)
        self.panel.reset_requested.connect(self._reset)
        # What is being typed in the system prompt goes with a prompt sent at once (the send
        # task runs after these slots).
        w.prompt_submitted.connect(lambda _text: self.panel.commit())
        w.compare_requested.connect(lambda _text: self.panel.commit())
        w.profile_selected.connect(self._on_profile_selected)
        w.new_chat_requested.connect(self._on_new_chat)
        # The profile list filled again (Settings changed the profiles; it then shows the
        # active one): the chat in view shows its own again, once the shell is done.
        w.profile_box.model().rowsInserted.connect(self._show_view_soon)
        self.picker.model_chosen.connect(self._on_model_chosen)
        self.picker.list_wanted.connect(lambda: self.load_models(self.base_profile()))
        self.button.toggled.connect(self._show_dock)
        self.toggle_action.triggered.connect(self.button.toggle)
        self.dock.visibilityChanged.connect(self._on_dock_visibility)
        self.button.preset_chosen.connect(self.new_chat_from_preset)
        self.button.save_preset_requested.connect(self.ask_preset_name)
        self.button.manage_presets_requested.connect(self.open_presets)

    def _add_to_chat_menu(self) -> None:
        """The window's Chat menu (when it has one) offers them too, after New chat."""
        menus = [a.menu() for a in self.window.menuBar().actions() if a.text() == "&Chat"]
        chat = next((m for m in menus if isinstance(m, QMenu)), None)
        if chat is None:
            return
        actions = chat.actions()
        after_new = next((i for i, a in enumerate(actions) if a.text() == "New chat"), -1)
        before = actions[after_new + 1] if 0 <= after_new < len(actions) - 1 else None
        for action in (
            self.button.presets_menu.menuAction(),
            self.button.save_action,
            self.button.manage_action,
            self.toggle_action,
        ):
            chat.insertAction(before, action)  # type: ignore[arg-type]

    # -- the conversation in view ----------------------------------------------------------

    def _settings(self) -> ConversationSettings:
        return self.controller.settings_of(self.controller.conversation_id)

    def _set(self, settings: ConversationSettings) -> None:
        self.controller.set_settings(self.controller.conversation_id, settings)

    def base_profile(self) -> Profile:
        """The conversation's profile as the profiles file has it (its own model)."""
        name = self._settings().profile
        found = self.services.profiles.get(name) if name else None
        return found or self.services.profiles.active

    def show_view(self) -> None:
        """The settings, profile and model of the conversation in view, on screen."""
        settings = self._settings()
        answering = self.controller.answering_profile(self.controller.conversation_id)
        self.panel.show_settings(
            settings,
            reasoning_effort=answering.accepts_reasoning_effort,
            answering=f"{answering.name} · {answering.model}",
        )
        box = self.window.profile_box
        if box.findText(answering.name) >= 0:
            box.setCurrentText(answering.name)  # says nothing: `activated` is the user's
        self.picker.set_model(answering.model)
        if self.controller.session.figures is None:  # no answer yet: who will answer
            where = "built-in demo, offline" if answering.is_demo else answering.base_url
            self.window.set_status(f"{answering.model} · {where}")
        self.picker.set_models(self.models.get(self.base_profile()) or [])

    def _show_view_soon(self) -> None:
        if not self._view_due:
            self._view_due = True
            QTimer.singleShot(0, self._show_view_due)

    def _show_view_due(self) -> None:
        self._view_due = False
        self.show_view()

    def _on_settings_changed(self, conversation_id: object, _settings: object) -> None:
        if conversation_id == self.controller.conversation_id:
            self.show_view()

    def _on_panel_edited(self, settings: ConversationSettings) -> None:
        self._set(settings)

    def _reset(self) -> None:
        kept = self._settings()
        self._set(ConversationSettings(profile=kept.profile, model=kept.model))

    def _on_profile_selected(self, name: str) -> None:
        """The window's profile picker: the conversation's profile (with its own model)."""
        if self.services.profiles.get(name) is not None:
            self._set(self._settings().with_changes(profile=name, model=None))

    def _on_model_chosen(self, model: str) -> None:
        base = self.base_profile()
        chosen = None if not model or model == base.model else model
        self._set(self._settings().with_changes(profile=base.name, model=chosen))

    def _on_new_chat(self) -> None:
        """A new chat starts from the defaults (the shell has switched to it already)."""
        self.controller.set_settings(None, ConversationSettings())
        self.show_view()

    def _show_dock(self, visible: bool) -> None:
        if visible:
            fit_dock(self.dock, self.window)
        self.dock.setVisible(visible)
        if visible:
            self.panel.system_edit.setFocus()
        else:
            self.window.composer.focus_input()  # the keys go back to the prompt

    def _on_dock_visibility(self, visible: bool) -> None:
        self.button.blockSignals(True)
        self.button.setChecked(visible)
        self.button.blockSignals(False)
        if not visible:
            self.panel.commit()

    # -- the model list --------------------------------------------------------------------

    def load_models(self, profile: Profile) -> None:
        """The cached list at once; a fresh one fetched in the background when it aged (or
        was never fetched). Called when the user looks at the picker: switching chats asks
        the network nothing."""
        cached = self.models.get(profile)
        self.picker.set_models(cached or [])
        key = cache_key(profile)
        failed_at = self._failed_at.get(key)
        recently_failed = failed_at is not None and time.monotonic() - failed_at < (
            RETRY_FAILED_FETCH_S
        )
        if self.models.is_fresh(profile) or key in self._fetching or recently_failed:
            if not recently_failed:
                self.picker.set_note(FETCHING_NOTE if key in self._fetching else None)
            return
        self.picker.set_note(FETCHING_NOTE)
        task = asyncio.ensure_future(self._fetch(profile))
        self._fetching[key] = task

    async def fetch_models(self, profile: Profile, typed_key: str | None) -> list[str]:
        """Services.fetch_models for the settings dialog's Fetch models, the list then kept
        for the model picker too."""
        models = await self.services.fetch_models(profile, typed_key)
        self.models.put(profile, models)
        self._failed_at.pop(cache_key(profile), None)
        if cache_key(self.base_profile()) == cache_key(profile):
            self.picker.set_models(self.models.get(profile) or [])
        return models

    async def _fetch(self, profile: Profile) -> None:
        key = cache_key(profile)
        note: str | None = None
        try:
            models = self.models.put(profile, await self.services.fetch_models(profile, None))
            self._failed_at.pop(key, None)
        except ChatError as error:
            models, note = None, f"The model list could not be fetched: {error.message}"
        except Exception:
            log.exception("fetching the model list of %s failed", profile.name)
            models, note = None, "The model list could not be fetched (see the log)."
        finally:
            self._fetching.pop(key, None)
        if note is not None:
            self._failed_at[key] = time.monotonic()
        if cache_key(self.base_profile()) != key:
            return  # the view moved on to another profile
        if models is not None:
            self.picker.set_models(models)
        self.picker.set_note(note)

    async def aclose(self) -> None:
        """Stops the fetches still running (at exit)."""
        for task in list(self._fetching.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def follow_renames(self, renamed: Mapping[str, str]) -> None:
        """Profiles renamed in Settings: the chats and presets that name them follow (else
        they would quietly be answered by the active profile)."""
        if not renamed:
            return

        def moved(settings: ConversationSettings | None) -> ConversationSettings | None:
            name = settings.profile if settings is not None else None
            if settings is None or name is None or name not in renamed:
                return None
            return settings.with_changes(profile=renamed[name])

        sessions = self.controller.sessions
        for session in [*sessions, sessions.get(None)]:
            session.settings = moved(session.settings) or session.settings
        store = self.services.store
        for conversation in store.list_conversations():
            settings = moved(conversation.settings)
            if settings is not None:
                try:
                    store.set_conversation_settings(conversation.id, settings)
                except StoreWriteError as exc:
                    log.warning("chat %d keeps its old profile name: %s", conversation.id, exc)
        for preset in self.presets.presets():
            settings = moved(preset.settings)
            if settings is not None:
                self.presets.save(preset.name, settings)
        self._presets_changed()
        self.show_view()

    # -- presets ---------------------------------------------------------------------------

    def new_chat_from_preset(self, name: str) -> None:
        preset = self.presets.get(name)
        if preset is None:
            self._presets_changed()
            return
        self.shell.new_chat()  # says view_changed: shown with the defaults first
        self.controller.set_settings(None, preset.settings)
        self.show_view()
        self.window.statusBar().showMessage(
            f"New chat from preset “{one_line(name, 80)}”", STATUS_MS
        )

    def ask_preset_name(self) -> None:
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Save chat settings as preset")
        dialog.setLabelText("Preset name:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
        dialog.textValueSelected.connect(self.save_preset)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()  # not exec(): a nested event loop would stall the asyncio tasks

    def save_preset(self, name: str) -> str | None:
        """The chat's settings (with the profile that answers it) as a preset; the problem
        if it could not be made."""
        self.panel.commit()
        settings = self._settings()
        settings = settings.with_changes(profile=settings.profile or self.base_profile().name)
        try:
            preset = self.presets.save(name, settings)
        except ValueError as exc:
            return self._say_preset_problem(str(exc))
        self._presets_changed(select=preset.name)
        problem = self.presets.save_problem
        if problem:
            return self._say_preset_problem(problem)
        self.window.statusBar().showMessage(
            f"Preset “{one_line(preset.name, 80)}” saved", STATUS_MS
        )
        return None

    def open_presets(self) -> PresetsDialog:
        if self.presets_dialog is None:
            dialog = PresetsDialog(self.window)
            dialog.start_requested.connect(self.new_chat_from_preset)
            dialog.save_requested.connect(self.save_preset)
            dialog.rename_requested.connect(self._rename_preset)
            dialog.delete_requested.connect(self._delete_preset)
            self.presets_dialog = dialog
        self.presets_dialog.set_presets(self.presets.presets())
        self.presets_dialog.show_problem(None)
        self.presets_dialog.open()
        return self.presets_dialog

    def _rename_preset(self, old: str, new: str) -> None:
        try:
            self.presets.rename(old, new)
        except ValueError as exc:
            self._say_preset_problem(str(exc))
            return
        self._presets_changed(select=preset_name(new))

    def _delete_preset(self, name: str) -> None:
        self.presets.delete(name)
        self._presets_changed()

    def _presets_changed(self, select: str | None = None) -> None:
        self.button.set_presets(self.presets.names())
        if self.presets_dialog is not None:
            self.presets_dialog.set_presets(self.presets.presets(), select)
            self.presets_dialog.show_problem(self.presets.save_problem)

    def _say_preset_problem(self, text: str) -> str:
        if self.presets_dialog is not None and self.presets_dialog.isVisible():
            self.presets_dialog.show_problem(text)
        else:
            self.window.statusBar().showMessage(text, STATUS_MS)
        return text


__all__ = ["ChatSettingsWiring"]
