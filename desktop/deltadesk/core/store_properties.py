"""The store's side of a conversation's own properties: its title, its pin, its settings.

Part of Store (a mixin, like store_tree.py). None of these is chat activity: the conversation
keeps its place in time (updated_at) when one changes.
"""

from __future__ import annotations

from deltadesk.core import history_rows as sql
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.store_connection import Database
from deltadesk.core.text_safety import replace_lone_surrogates


class ConversationProperties:
    """Title, pin and settings, as methods of Store (which opens ``_db``)."""

    _db: Database

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with self._db.write() as conn:
            conn.execute(sql.RENAME_CONVERSATION, (replace_lone_surrogates(title), conversation_id))

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """Pin a conversation to the top of the list, or not."""
        with self._db.write() as conn:
            conn.execute(sql.SET_PINNED, (1 if pinned else 0, conversation_id))

    def set_conversation_settings(
        self, conversation_id: int, settings: ConversationSettings
    ) -> None:
        """What the conversation sends with every request from now on (the defaults are
        stored as NULL)."""
        with self._db.write() as conn:
            conn.execute(sql.SET_SETTINGS, (settings_json(settings), conversation_id))


def settings_json(settings: ConversationSettings) -> str | None:
    """The settings column's text. Through from_mapping first, so a value set by hand on the
    dataclass is checked as one read from the file would be, and a lone surrogate in a system
    prompt is made storable."""
    system = None if settings.system is None else replace_lone_surrogates(settings.system)
    return settings.with_changes(system=system).to_json()
