"""The store's side of the tree: reading paths and branches, choosing the active one.

Part of Store (a mixin, so the history stays one object with one connection); the pure rules
are in tree.py. Reads go up or down by parent, so their cost is the path's length, not the
conversation's.
"""

from __future__ import annotations

import enum
import sqlite3
from typing import Final, cast

from deltadesk.core import history_rows as sql
from deltadesk.core.history_rows import Message, message_from, with_parts
from deltadesk.core.store_connection import Database
from deltadesk.core.store_errors import StoreError
from deltadesk.core.tree import MessageTree


class CurrentLeaf(enum.Enum):
    """The type of CURRENT_LEAF (an enum, so type checkers know it is one value)."""

    CURRENT_LEAF = "the conversation's active leaf"


# add_message's default parent: the end of the active path, so a plain add continues it.
CURRENT_LEAF: Final = CurrentLeaf.CURRENT_LEAF


class TreeOperations:
    """The reads and choices of the tree, as methods of Store (which opens ``_db``)."""

    _db: Database

    def messages(self, conversation_id: int) -> list[Message]:
        """Every message of one conversation, of every branch, oldest (lowest id) first."""
        rows = self._db.read(sql.LIST_MESSAGES, (conversation_id,))
        return self._joined([message_from(row) for row in rows])

    def active_path(self, conversation_id: int) -> list[Message]:
        """Root -> active leaf: what the window shows and what the next prompt continues.

        Reads only the path, however many other branches there are. A conversation with no
        messages (or none at all) gives [].
        """
        rows = self._db.read(sql.ACTIVE_LEAF, (conversation_id,))
        if not rows:
            return []
        leaf = leaf_or_last(self._db.conn, conversation_id, rows[0][0])
        if leaf is None:
            return []
        found = [message_from(row) for row in self._db.read(sql.PATH_TO, (leaf,))]
        return self._joined(found)

    def tree(self, conversation_id: int) -> MessageTree[Message]:
        """Every message of the conversation as a tree, to ask many questions of at once
        (the sibling position of each message on the path, for instance)."""
        return MessageTree(self.messages(conversation_id))

    def sibling_positions(self, conversation_id: int) -> dict[int, tuple[int, int]]:
        """Every message's (index, count) among its siblings, the index 1-based: the "2/3"
        of a branch switcher (count 1: no switcher), for all of a conversation at once."""
        rows = cast(
            "list[tuple[int, int | None]]",
            self._db.read(sql.PLACES_IN_CONVERSATION, (conversation_id,)),
        )
        positions: dict[int, tuple[int, int]] = {}
        start = 0
        for end in range(1, len(rows) + 1):  # rows come grouped by parent
            if end == len(rows) or rows[end][1] != rows[start][1]:
                count = end - start
                for index in range(start, end):
                    positions[rows[index][0]] = (index - start + 1, count)
                start = end
        return positions

    def children(self, message_id: int) -> list[Message]:
        """The messages directly under ``message_id``, oldest first."""
        rows = self._db.read(sql.CHILDREN, (message_id,))
        return self._joined([message_from(row) for row in rows])

    def siblings(self, message_id: int) -> list[Message]:
        """The message and the others with its parent (for a root, the conversation's other
        roots), oldest first; [] if there is no such message."""
        place = self._db.read(sql.PLACE_OF_MESSAGE, (message_id,))
        if not place:
            return []
        conversation_id, parent = place[0]
        if parent is None:
            rows = self._db.read(sql.ROOTS, (conversation_id,))
        else:
            rows = self._db.read(sql.CHILDREN, (parent,))
        return self._joined([message_from(row) for row in rows])

    def set_active_leaf(self, conversation_id: int, message_id: int) -> None:
        """Make the path to ``message_id`` the active one (it need not be a leaf: the path
        then ends there). Not chat activity: the conversation keeps its place in the list."""
        with self._db.write() as conn:
            place = conn.execute(sql.PLACE_OF_MESSAGE, (message_id,)).fetchone()
            if place is None or place[0] != conversation_id:
                raise StoreError(f"No message {message_id} in conversation {conversation_id}")
            conn.execute(sql.SET_ACTIVE_LEAF, (message_id, conversation_id))

    def switch_branch(self, message_id: int) -> int:
        """Make the path through ``message_id`` the active one, going on below it by the
        newest child each time down to a leaf; return that leaf's id."""
        with self._db.write() as conn:
            place = conn.execute(sql.PLACE_OF_MESSAGE, (message_id,)).fetchone()
            if place is None:
                raise StoreError(f"No message {message_id} to switch to")
            leaf = int(conn.execute(sql.NEWEST_LEAF_UNDER, (message_id,)).fetchone()[0])
            conn.execute(sql.SET_ACTIVE_LEAF, (leaf, place[0]))
        return leaf

    def _joined(self, found: list[Message]) -> list[Message]:
        """``found`` (all of one conversation) with the parts of a streaming answer joined."""
        if not found:
            return found
        parts = self._db.read(sql.PARTS_OF_CONVERSATION, (found[0].conversation_id,))
        return with_parts(found, parts)


def parent_for(
    conn: sqlite3.Connection, conversation_id: int, parent_id: int | CurrentLeaf | None
) -> int | None:
    """The parent a new message of ``conversation_id`` gets, checked, in the caller's
    transaction (so another instance cannot move the leaf in between)."""
    row = conn.execute(sql.ACTIVE_LEAF, (conversation_id,)).fetchone()
    if row is None:
        raise StoreError(f"No conversation {conversation_id} to add a message to")
    if parent_id is CURRENT_LEAF:
        return leaf_or_last(conn, conversation_id, row[0])
    if parent_id is None:
        return None
    place = conn.execute(sql.PLACE_OF_MESSAGE, (parent_id,)).fetchone()
    if place is None or place[0] != conversation_id:
        raise StoreError(f"No message {parent_id} in conversation {conversation_id}")
    return int(parent_id)


def leaf_or_last(conn: sqlite3.Connection, conversation_id: int, leaf: object) -> int | None:
    """The recorded leaf; with none recorded but messages there (a raw deletion set it
    NULL), the last message, as the upgrade from a list does."""
    if leaf is None:
        leaf = conn.execute(sql.LAST_MESSAGE, (conversation_id,)).fetchone()[0]
    return None if leaf is None else int(str(leaf))
