"""The sidebar's wishes carried out: full-text search, opening a hit on its branch, rename,
pin, and the deletion offered for undo (the open conversation leaves the view at once; the
history deletes it when the undo time is up, or when the window closes).

An answer still streaming in a conversation deleted with undo goes on while the undo bar
shows (Undo gives it back unharmed); it stops when the deletion really happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deltadesk.core.store_errors import StoreError, StoreWriteError

if TYPE_CHECKING:
    from deltadesk.shell import Deltadesk


class SidebarWiring:
    """Made once by the shell, for its window's sidebar."""

    def __init__(self, shell: Deltadesk) -> None:
        self._shell = shell
        self._query = ""  # the last full-text query, to highlight its words in a hit
        sidebar = shell.window.sidebar
        sidebar.search_requested.connect(self.search)
        sidebar.hit_activated.connect(self.open_hit)
        sidebar.rename_requested.connect(self.rename)
        sidebar.pin_requested.connect(self.pin)
        sidebar.deletion_pending.connect(self._leave_if_open)
        # Before the app's own slot on `closing` (which ends the loop): connected first.
        shell.window.closing.connect(sidebar.commit_pending_delete)

    def search(self, query: str) -> None:
        self._query = query
        try:
            hits = self._shell.services.store.search_hits(query)
        except StoreError as exc:  # a locked or damaged history: said, the list stays empty
            self._shell.window.show_notice(f"Search failed: {exc}")
            hits = []
        self._shell.window.sidebar.set_search_results(hits)

    def open_hit(self, conversation_id: int, message_id: int) -> None:
        """The conversation, on the branch that holds the message, scrolled to it."""
        shell = self._shell
        store, controller = shell.services.store, shell.controller
        message = store.get_message(message_id) if message_id >= 0 else None
        if message is not None and message.conversation_id != conversation_id:
            message = None
        if message is not None:
            on_path = {m.id for m in store.active_path(conversation_id)}
            # Not on the path shown: the path through it (down to its newest leaf) becomes
            # the active one. On it: the path stays, whatever follows the message.
            if message.id not in on_path:
                controller.choose(message.id)  # shows it again if it is in view
        if controller.conversation_id != conversation_id:
            shell.open_conversation(conversation_id)
        if controller.conversation_id != conversation_id:
            return  # gone meanwhile
        shell.window.sidebar.select(conversation_id)
        if message is not None:  # scrolled to, its words highlighted (even if not laid out)
            shell.view.reveal_message(message.id, self._query)

    def rename(self, conversation_id: int, title: str) -> None:
        shell = self._shell
        try:
            shell.services.store.rename_conversation(conversation_id, title)
        except StoreWriteError as exc:
            shell.window.show_banner(f"{exc} The title was not changed.")
        shell.refresh_conversations()
        conversation = shell.services.store.get_conversation(conversation_id)
        if conversation is not None and shell.controller.conversation_id == conversation_id:
            shell.window.set_title(conversation.title)

    def pin(self, conversation_id: int, pinned: bool) -> None:
        shell = self._shell
        try:
            shell.services.store.set_pinned(conversation_id, pinned)
        except StoreWriteError as exc:
            shell.window.show_banner(f"{exc} The conversation was not {'un' * (not pinned)}pinned.")
        shell.refresh_conversations()

    def _leave_if_open(self, conversation_id: int) -> None:
        """Hidden for deletion: a new chat takes its place in view (Undo opens it again)."""
        if self._shell.controller.conversation_id == conversation_id:
            self._shell.new_chat()
