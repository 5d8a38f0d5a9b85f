"""The window's own preferences and conveniences, wired once the services are up: zoom and
theme remembered, the window's place and the last conversation restored at start and saved
at quit, the welcome page of an empty new chat, Up recalling the conversation's last prompt.

Built by shell.Deltadesk.__init__ (one line), after the first conversation is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deltadesk.window_state import restore_window, save_window

if TYPE_CHECKING:
    from deltadesk.shell import Deltadesk


class WindowWiring:
    def __init__(self, shell: Deltadesk) -> None:
        self.shell = shell
        window = shell.window
        prefs = shell.services.preferences
        current = prefs.current
        if window.appearance.applied() is None or window.theme_mode() != current.theme:
            window.set_theme(current.theme)
        if not window.isVisible():  # app.py restores it before the first paint
            restore_window(window, current)
        window.set_zoom(current.zoom_percent)
        window.zoom_changed.connect(self._zoom_changed)
        window.theme_chosen.connect(self._theme_chosen)
        window.appearance.changed.connect(self._palette_changed)
        window.composer.set_recall_source(self.last_prompt, self.last_prompt_anywhere)
        self._closed = False
        window.closing.connect(self._window_closed)
        self._restore_conversation(current.last_conversation_id)
        window.set_welcome(self.wants_welcome())

    def wants_welcome(self) -> bool:
        """A new chat with nothing in it yet."""
        shell = self.shell
        return shell.controller.conversation_id is None and not shell.view.message_ids()

    def _restore_conversation(self, conversation_id: int) -> None:
        if conversation_id <= 0:
            return
        if self.shell.services.store.get_conversation(conversation_id) is not None:
            self.shell.open_conversation(conversation_id)
            self.shell.window.sidebar.select(conversation_id)

    def last_prompt(self) -> str | None:
        """The last prompt of the conversation in view (its active path), or None."""
        conversation_id = self.shell.controller.conversation_id
        return None if conversation_id is None else self._last_prompt_of(conversation_id)

    def last_prompt_anywhere(self) -> str | None:
        """The last prompt of the most recently updated conversation (asked only when Up
        finds nothing nearer: a new chat right after a start)."""
        conversations = self.shell.services.store.list_conversations()
        return self._last_prompt_of(conversations[0].id) if conversations else None

    def _last_prompt_of(self, conversation_id: int) -> str | None:
        path = self.shell.services.store.active_path(conversation_id)
        return next((m.content for m in reversed(path) if m.role == "user" and m.content), None)

    def _zoom_changed(self, percent: int) -> None:
        self.shell.services.preferences.update(zoom_percent=percent)

    def _theme_chosen(self, mode: str) -> None:
        self.shell.services.preferences.update(theme=mode)

    def _palette_changed(self, _name: str) -> None:
        """Messages already drawn keep the old colours: draw the conversation again (not
        once the window has closed: its history may be closed too; the theme is the
        application's, so another window's switch still reaches this one)."""
        if self._closed:
            return
        if self.shell.controller.conversation_id is not None:
            self.shell._show_conversation()

    def _window_closed(self) -> None:
        self._closed = True
        self.save()

    def save(self) -> None:
        shell = self.shell
        save_window(shell.window, shell.services.preferences, shell.controller.conversation_id)
