"""The window's wiring: what the window asks for goes to the controller and services, and
their news comes back to the widgets. Loaded after the window's first paint (see app.run_gui),
when the widget modules are imported already; only the settings dialog waits until it opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from deltadesk.chat_settings_wiring import ChatSettingsWiring
from deltadesk.compare_wiring import Comparisons
from deltadesk.core.profiles import Profile
from deltadesk.core.store import Message, StoreWriteError
from deltadesk.figures import format_stats, live_figures
from deltadesk.message_views import path_in_view, to_message_view
from deltadesk.profile_changes import apply_profile_edits
from deltadesk.services import Services
from deltadesk.sidebar_wiring import SidebarWiring
from deltadesk.ui.profile_edits import ProfileEdits
from deltadesk.ui.sidebar import ConversationItem
from deltadesk.window_wiring import WindowWiring

if TYPE_CHECKING:
    from deltadesk.controller import ChatController, StreamStats
    from deltadesk.ui.main_window import MainWindow

# Where they were before: tests and scripts import them from here.
__all__ = ["Deltadesk", "apply_profile_edits", "build_window", "format_stats"]


class Deltadesk:
    """Connects the window's wishes to the controller and services, and their news back."""

    def __init__(self, services: Services, controller: ChatController, window: MainWindow) -> None:
        self.services = services
        self.controller = controller
        self.window = window
        self.view = window.chat_view
        self._tasks: set[asyncio.Future[object]] = set()
        self._live_figures: dict[int, str] = {}  # the last figures line of each streaming answer
        self._connect_window()
        self._connect_controller()
        self.chat_settings = ChatSettingsWiring(self)  # per-chat settings, model picker, presets
        self.sidebar_wiring = SidebarWiring(self)  # search, rename, pin, delete with undo
        self.refresh_profiles()
        self.refresh_conversations()
        self._apply_preferences()
        self.new_chat()
        self._show_keyring_notice()
        self._show_history_notice(services.history_notice_at_start)  # else the lasting one
        self.window_wiring = WindowWiring(self)  # zoom, theme, place, last chat, welcome, Up

    def _connect_window(self) -> None:
        w, c = self.window, self.controller
        # Send, Stop and Esc act on the conversation in view, whichever others stream.
        w.prompt_submitted.connect(lambda text: self._run(c.send(c.conversation_id, text)))
        # Compare: its button, each column's Stop and choice, shown again on return.
        self.comparisons = Comparisons(self.services, c, w, self._run, self._live_figures.get)
        w.compare_view.dismissed.connect(self._show_conversation)  # with what it did not show
        w.stop_requested.connect(lambda: c.stop(c.conversation_id))
        w.new_chat_requested.connect(self.new_chat)
        w.profile_selected.connect(self.select_profile)
        w.settings_requested.connect(self.open_settings)
        w.sidebar.selected.connect(self.open_conversation)
        w.sidebar.delete_requested.connect(self.delete_conversation)
        w.keep_reasoning_toggled.connect(self.keep_reasoning_open)
        v = self.view
        v.retry_requested.connect(lambda mid: self._run(c.retry(mid)))
        v.regenerate_requested.connect(lambda mid: self._run(c.regenerate(mid)))
        v.continue_requested.connect(lambda mid: self._run(c.continue_(mid)))
        v.edit_submitted.connect(lambda mid, text: self._run(c.edit_and_resend(mid, text)))
        v.branch_requested.connect(self.switch_branch)

    def _connect_controller(self) -> None:
        c, v, columns = self.controller, self.view, self.window.compare_view
        c.conversation_changed.connect(self._on_conversation_changed)
        c.message_added.connect(self._on_message_added)
        # Message ids route the text: a view that does not show the message ignores it.
        for view in (v, columns):
            c.text_appended.connect(view.append_text)
            c.reasoning_appended.connect(view.append_reasoning)
            c.waiting_note.connect(view.set_waiting_note)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.stats_changed.connect(self._show_stats)
        c.busy_changed.connect(self.window.set_streaming)
        c.busy_changed.connect(v.set_busy)  # no Edit, Regenerate... while the chat streams
        c.branch_changed.connect(self._on_branch_changed)
        c.figures_changed.connect(self._on_figures)
        c.marks_changed.connect(self.window.sidebar.set_marks)
        c.history_notice.connect(self._show_history_notice)

    def _run(self, coroutine: object) -> None:
        """Starts a coroutine from a Qt slot and keeps a reference until it ends."""
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _show_history_notice(self, text: str | None) -> None:
        """What the user must know about the history (read-only, not saved, saved again);
        a read-only history stays said whatever else comes and goes."""
        lasting = self.services.history_problem
        self.window.show_banner(text or lasting)

    def _apply_preferences(self) -> None:
        keep_open = self.services.preferences.current.keep_reasoning_open
        self.view.keep_reasoning_open = keep_open
        self.window.keep_reasoning_box.setChecked(keep_open)

    def keep_reasoning_open(self, keep_open: bool) -> None:
        self.view.keep_reasoning_open = keep_open
        if keep_open != self.services.preferences.current.keep_reasoning_open:
            self.services.preferences.update(keep_reasoning_open=keep_open)

    # conversations

    def new_chat(self) -> None:
        self._switch_to(None)
        self.view.clear_messages()
        self.window.sidebar.select(None)
        self.window.set_title("New chat")
        self.window.set_welcome(True)
        self.window.composer.focus_input()

    def open_conversation(self, conversation_id: int) -> None:
        conversation = self.services.store.get_conversation(conversation_id)
        if conversation is None:
            self.refresh_conversations()
            return
        self._switch_to(conversation_id)
        self.window.set_welcome(False)
        self.window.set_title(conversation.title)
        self.comparisons.show_again(conversation_id)  # one not decided yet: its columns
        self._show_conversation()

    def _switch_to(self, conversation_id: int | None) -> None:
        """The view moves to another conversation: each keeps its own draft; what streams
        elsewhere goes on (and is not shown here; a comparison goes on in the chat view)."""
        if conversation_id != self.controller.conversation_id:
            self.window.show_chat()
            self.window.compare_view.clear()
        composer = self.window.composer
        self.controller.session.draft = composer.text()
        self.controller.open_conversation(conversation_id)
        composer.set_text(self.controller.session.draft)

    def _show_conversation(self) -> None:
        """The active path of the conversation in view; an answer still streaming on it is
        shown live, with what has come so far."""
        conversation_id = self.controller.conversation_id
        if conversation_id is None:
            self.view.clear_messages()
            return
        shown = path_in_view(
            self.services.store,
            conversation_id,
            is_streaming=self.controller.is_streaming,
            unsaved=self.controller.unsaved_answer,
        )
        self.view.show_messages(shown.views)
        for message_id in shown.streaming:  # only the end of a path streams
            if not self._in_columns(message_id):
                self._show_streaming(message_id, shown.positions[message_id])

    def _in_columns(self, message_id: int) -> bool:
        """A compare answer the columns show. The chat behind them does not lay it out as
        well (a second rendering of a long answer, at full cost, for a page no one sees):
        it is drawn when the chat is shown again (an answer chosen, or Back to the chat)."""
        window = self.window
        return window.is_comparing() and message_id in window.compare_view.message_ids()

    def _show_streaming(self, message_id: int, position: tuple[int, int] | None = None) -> None:
        text, reasoning = self.controller.live_text(message_id)
        self.view.begin_streaming(message_id)
        if position is not None:
            self.view.set_siblings(message_id, *position)
        if reasoning:
            self.view.append_reasoning(message_id, reasoning)
        if text:
            self.view.append_text(message_id, text)
        figures = self._live_figures.get(message_id)
        if figures:
            self.view.set_message_figures(message_id, figures)

    def switch_branch(self, message_id: int, step: int) -> None:
        """◀ or ▶ on a message: its previous or next sibling's branch becomes the path."""
        siblings = [m.id for m in self.services.store.siblings(message_id)]
        if message_id not in siblings:
            return
        target = siblings.index(message_id) + step
        if 0 <= target < len(siblings):
            top = self.view.message_top(message_id)  # the switcher clicked stays put
            # choose says branch_changed: the path is shown again (at the bottom)
            if self.controller.choose(siblings[target]) and top is not None:
                self.view.place_message(siblings[target], top)

    def delete_conversation(self, conversation_id: int) -> None:
        store = self.services.store
        doomed = [m.id for m in store.messages(conversation_id)]
        try:
            store.delete_conversation(conversation_id)
        except StoreWriteError as exc:  # locked, full, read-only: it stays, and that is said
            self._show_history_notice(f"{exc} The conversation is still there.")
            return
        self.controller.forget_conversation(conversation_id)  # its answers stop
        self.controller.history.forget(doomed)
        if self.controller.conversation_id == conversation_id:
            self.new_chat()
        self.refresh_conversations()

    def refresh_conversations(self) -> None:
        c = self.controller
        items = [
            ConversationItem(
                conversation.id,
                conversation.title,
                conversation.updated_at,
                streaming=c.conversation_streams(conversation.id),
                unseen=c.conversation_unseen(conversation.id),
                pinned=conversation.pinned,
            )
            for conversation in self.services.store.list_conversations()
        ]
        self.window.sidebar.set_conversations(items)
        self.window.sidebar.select(self.controller.conversation_id)

    def _on_conversation_changed(self, conversation_id: int) -> None:
        self.refresh_conversations()
        conversation = self.services.store.get_conversation(conversation_id)
        if conversation is not None:
            self.window.set_title(conversation.title)

    def _on_message_added(self, message: Message) -> None:
        """A prompt or an answer: added below the last message shown if it continues the
        path in view; a new branch (regenerate, edit) shows the new path; a compare answer
        beside the one shown, or a message of another conversation, is not for this view."""
        if message.conversation_id != self.controller.conversation_id:
            return
        # However it was sent (the prompt box, Compare, a script): the chat is not empty now.
        self.window.set_welcome(False)
        shown = self.view.message_ids()
        last = shown[-1] if shown else None
        if message.id == last or message.parent_id == last:  # the usual case: no query
            self._show_message(message)
            return
        path = [m.id for m in self.services.store.active_path(message.conversation_id)]
        if message.id in path:  # a new branch in view
            self._show_conversation()

    def _show_message(self, message: Message) -> None:
        """Below the last one shown, with its place among its siblings (a compare answer)."""
        if self._in_columns(message.id):
            return
        if message.id in self.view.message_ids():  # continued: it streams in its place
            self._show_streaming(message.id)
            return
        position = self._sibling_position(message)
        if self.controller.is_streaming(message.id):
            self._show_streaming(message.id, position)
        else:
            self.view.add_message(to_message_view(message, position=position))

    def _sibling_position(self, message: Message) -> tuple[int, int]:
        siblings = [m.id for m in self.services.store.siblings(message.id)]
        if message.id not in siblings:
            return (1, 1)
        return siblings.index(message.id) + 1, len(siblings)

    def compare(self, text: str) -> None:
        """The Compare button (compare_wiring.py): the prompt to each checked profile."""
        self.comparisons.compare(text)

    def _on_branch_changed(self, conversation_id: int) -> None:
        if conversation_id == self.controller.conversation_id:
            self._show_conversation()

    def _on_figures(self, message_id: int, stats: StreamStats) -> None:
        line = live_figures(stats)
        self._live_figures[message_id] = line
        if stats.reasoning_ms is not None:  # "Thought for 3.2 s"
            self.view.set_thought_for(message_id, stats.reasoning_ms)
        self.view.set_message_figures(message_id, line)
        self.window.compare_view.set_figures(message_id, line)

    def _on_finished(self, message_id: int, status: str) -> None:
        self.view.end_streaming(message_id, status)
        self.window.compare_view.end_streaming(message_id, status)
        self._ended(message_id)

    def _on_failed(self, message_id: int, status: str, kind: str, message: str) -> None:
        self.view.end_streaming(message_id, status, kind, message)
        self.window.compare_view.end_streaming(message_id, status, kind, message)
        self._ended(message_id)

    def _ended(self, message_id: int) -> None:
        figures = self._live_figures.pop(message_id, "")
        if figures:  # the line as it ended, under the answer as it is now shown
            self.view.set_message_figures(message_id, figures)
        self.refresh_conversations()

    # profiles

    def refresh_profiles(self) -> None:
        profiles = self.services.profiles
        self.window.set_profiles([p.name for p in profiles.profiles()], profiles.active_name)
        self._show_profile_status()

    def _show_stats(self, stats: StreamStats | None) -> None:
        """The status line: the latest answer of the conversation in view, else the profile."""
        if stats is None:
            self._show_profile_status()
        else:
            self.window.set_status(format_stats(stats))

    def _show_profile_status(self) -> None:
        profile = self.services.profiles.active
        where = "built-in demo, offline" if profile.is_demo else profile.base_url
        self.window.set_status(f"{profile.model} · {where}")

    def select_profile(self, name: str) -> None:
        self.services.profiles.set_active(name)
        self._show_profile_status()
        self._show_keyring_notice()

    def _show_keyring_notice(self) -> None:
        """The keyring's problem when the active profile needs a key, and whether profile
        changes can be saved (a read-only folder: they last for this session)."""
        secrets = self.services.secrets
        active = self.services.profiles.active
        needs = active.needs_key and not secrets.available
        problems = [secrets.problem if needs else None, self.services.profiles.save_problem]
        self.window.show_notice(" ".join(p for p in problems if p) or None)

    def open_settings(self) -> None:
        from deltadesk.ui.settings_dialog import SettingsDialog

        services = self.services
        dialog = SettingsDialog(
            services.profiles.profiles(),
            services.profiles.active_name,
            has_key=services.has_key,
            fetch_models=self.chat_settings.fetch_models,  # the model picker keeps the list
            keyring_problem=services.secrets.problem,
            usage_refusals=services.usage_refusals,
            reset_usage_refusals=services.reset_usage_refusals,
            parent=self.window,
        )
        dialog.accepted.connect(lambda: self._apply_settings(dialog.edits()))
        dialog.open()  # not exec(): a nested event loop would stall the asyncio tasks

    def _apply_settings(self, edits: ProfileEdits) -> None:
        errors = apply_profile_edits(self.services, edits)
        self.chat_settings.follow_renames(edits.renamed)  # chats and presets keep their profile
        self.refresh_profiles()
        self._show_keyring_notice()
        if errors:
            problems = [*errors, self.services.profiles.save_problem]
            self.window.show_notice(" ".join(p for p in problems if p))


def build_window(
    services: Services,
    active_profile: Callable[[], Profile] | None = None,
    window: MainWindow | None = None,
) -> Deltadesk:
    """The window (a new one, or the one already shown) wired to a controller and services."""
    from deltadesk.controller import ChatController
    from deltadesk.ui.main_window import MainWindow

    window = window or MainWindow()
    controller = ChatController(
        services.store,
        client_for=services.client_for,
        active_profile=active_profile or (lambda: services.profiles.active),
        parent=window,
        profile_named=services.profiles.get,
    )
    return Deltadesk(services, controller, window)
