"""Chat history in SQLite: conversations as trees of messages, and full-text search.

One connection in autocommit mode: every public write is its own transaction and is committed
before the method returns, because a streaming answer is saved about once a second and must
survive a crash of the app. WAL with synchronous=NORMAL keeps those commits cheap, and lets a
second Deltadesk on the same folder read while this one writes (writers wait for each other up
to the busy timeout). ``transaction()`` groups several writes into one (an import).

A conversation is a tree (schema 3): each message has a parent, and the conversation keeps
its active leaf, the end of the path shown and sent (active_path). A new message hangs under
the active leaf unless told otherwise and becomes the active leaf; regenerate and edit make a
sibling by naming the parent. The store's tree queries are in store_tree.py (part of Store),
the pure rules of the tree in tree.py; a conversation's title, pin and settings are set by
store_properties.py, and full-text search (schema 4, FTS5) is store_search.py.

A streaming answer is saved by appending (append_partial): each save writes only what arrived
since the last one, so saving a long answer costs time linear in its length. Opening, the
schema, its migrations and the transactions live in store_connection.py and migrations.py.

Every write failure is a StoreWriteError whose ``reason`` says what to do ("busy", "full",
"readonly", "other"); nothing already stored is lost by one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from deltadesk.core import history_rows as sql
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.errors import ChatError
from deltadesk.core.events import Usage
from deltadesk.core.history_rows import (
    Conversation,
    Message,
    check_error_kind,
    check_status,
    conversation_from,
    fold_parts,
    message_from,
    with_parts,
)
from deltadesk.core.migrations import MESSAGE_STATUSES, MIGRATIONS, ROLES, Progress, Upgrade
from deltadesk.core.search_hits import SearchHit
from deltadesk.core.store_connection import Database
from deltadesk.core.store_errors import StoreError, StoreWriteError
from deltadesk.core.store_properties import ConversationProperties, settings_json
from deltadesk.core.store_search import SearchOperations
from deltadesk.core.store_tree import CURRENT_LEAF, CurrentLeaf, TreeOperations, parent_for
from deltadesk.core.text_safety import replace_lone_surrogates

__all__ = [
    "BUSY_TIMEOUT_MS",
    "CURRENT_LEAF",
    "MESSAGE_STATUSES",
    "MIGRATIONS",
    "ROLES",
    "Conversation",
    "CurrentLeaf",
    "Message",
    "SearchHit",
    "Store",
    "StoreError",
    "StoreWriteError",
]

BUSY_TIMEOUT_MS = 5000

UPDATABLE_MESSAGE_FIELDS = frozenset(
    {
        "content",
        "reasoning",
        "status",
        "error_kind",
        "error_message",
        "profile",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "reasoning_tokens",
        "ttft_ms",
        "tokens_per_second",
        "estimated_tokens",
        "reasoning_ms",
    }
)


class Store(TreeOperations, ConversationProperties, SearchOperations):
    """The history database. Not thread-safe: use it from the thread that created it.

    ``busy_timeout_ms`` is how long a write waits for another process holding the database
    before it fails with StoreWriteError("busy"); the window passes a short one so a save
    never holds up the GUI. ``read_only`` is True when the file or its folder cannot be
    written: reading works, every write raises StoreWriteError("readonly").

    ``progress`` is told, about once a second, that a slow upgrade of an older history is
    still going (building the search index of a large one); ``upgrade`` is what opening did
    (None: nothing), whose ``slow`` and ``note()`` are for the window to say afterwards.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        progress: Progress | None = None,
    ) -> None:
        self.path = Path(path)
        self._last_timestamp = 0.0
        self._db = Database(self.path, busy_timeout_ms, progress)
        self._conn = self._db.conn
        self.upgrade: Upgrade | None = self._db.upgrade
        self.read_only = self._db.read_only
        # True when what is read is in memory: no history file exists and none could be made
        # (an empty history stands in, so the app runs and says the history is read-only),
        # or a read-only one of an older schema is read from an upgraded copy.
        self.in_memory = self._db.in_memory

    # -- plumbing ----------------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def copy_to(self, destination: Path) -> None:
        """The whole history as this store reads it, written to `destination`."""
        self._db.copy_to(destination)

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one: all of them are committed at the end, or none if the block
        raises (the exception goes on). Writes inside keep their own checks and errors; one
        that fails leaves the others of the block untouched, so the block may go on.

        The write lock is held for the whole block: keep it short, and do no waiting in it.
        """
        with self._db.write():
            yield

    def _now(self) -> float:
        # Strictly increasing within this store, so "most recently updated" never ties even
        # when two writes land in the same clock tick.
        now = max(time.time(), self._last_timestamp + 1e-6)
        self._last_timestamp = now
        return now

    # -- conversations -----------------------------------------------------------------------

    def create_conversation(
        self,
        title: str = "New chat",
        *,
        source: str | None = None,
        source_id: str | None = None,
        created_at: float | None = None,
        settings: ConversationSettings | None = None,
    ) -> Conversation:
        """A new, empty conversation. ``source`` and ``source_id`` (both or neither) say
        where an imported one came from; a second one from the same place raises StoreError.
        ``created_at`` keeps an imported conversation's own time; ``settings`` (a preset's)
        go with every request of it."""
        if (source is None) != (source_id is None):
            raise ValueError("source and source_id go together")
        title, source, source_id = _safe(title), _safe_or_none(source), _safe_or_none(source_id)
        stamp = self._now() if created_at is None else float(created_at)
        settings = settings or ConversationSettings()
        values = (title, stamp, stamp, source, source_id, settings_json(settings))
        try:
            with self._db.write() as conn:
                cursor = conn.execute(sql.INSERT_CONVERSATION, values)
        except sqlite3.IntegrityError as exc:
            raise StoreError(
                f"A conversation from {source} with id {source_id!r} is already in the history"
            ) from exc
        assert cursor.lastrowid is not None
        return Conversation(
            id=cursor.lastrowid,
            title=title,
            created_at=stamp,
            updated_at=stamp,
            active_leaf_id=None,
            source=source,
            source_id=source_id,
            settings=ConversationSettings.from_json(settings_json(settings)),
        )

    def find_conversation_by_source(self, source: str, source_id: str) -> Conversation | None:
        """The conversation imported from ``source`` with that id, if any."""
        rows = self._db.read(sql.CONVERSATION_BY_SOURCE, (_safe(source), _safe(source_id)))
        return conversation_from(rows[0]) if rows else None

    def list_conversations(self) -> list[Conversation]:
        """All conversations, most recently updated first."""
        return [conversation_from(row) for row in self._db.read(sql.LIST_CONVERSATIONS)]

    def message_counts(self) -> dict[int, int]:
        """How many messages each conversation holds, of every branch, in one query (an
        empty conversation is not in it): for a list, without reading any text."""
        rows = self._db.read(sql.MESSAGE_COUNTS)
        return {int(str(chat)): int(str(count)) for chat, count in rows}

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        rows = self._db.read(sql.SELECT_CONVERSATION, (conversation_id,))
        return conversation_from(rows[0]) if rows else None

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation; its messages go with it (ON DELETE CASCADE)."""
        with self._db.write() as conn:
            conn.execute(sql.DELETE_CONVERSATION, (conversation_id,))

    # -- messages ----------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str = "",
        *,
        parent_id: int | CurrentLeaf | None = CURRENT_LEAF,
        status: str = "done",
        profile: str | None = None,
        model: str | None = None,
        created_at: float | None = None,
    ) -> Message:
        """A new message, which becomes the conversation's active leaf.

        ``parent_id``: CURRENT_LEAF (the default) continues the active path; None makes a
        root; a message id makes a child of that message, beside its other children (a
        regenerated answer, an edited prompt). ``created_at`` keeps an imported message's
        own time (and the conversation's updated time never goes back because of it).
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
        check_status(status)
        content, profile, model = _safe(content), _safe_or_none(profile), _safe_or_none(model)
        stamp = self._now() if created_at is None else float(created_at)
        with self._db.write() as conn:
            parent = parent_for(conn, conversation_id, parent_id)
            values = (conversation_id, parent, role, content, status, profile, model, stamp, stamp)
            cursor = conn.execute(sql.INSERT_MESSAGE, values)
            assert cursor.lastrowid is not None
            conn.execute(sql.TOUCH_CONVERSATION, (stamp, conversation_id))
            conn.execute(sql.SET_ACTIVE_LEAF, (cursor.lastrowid, conversation_id))
        return Message(
            id=cursor.lastrowid,
            conversation_id=conversation_id,
            role=role,
            content=content,
            reasoning="",
            status=status,
            error_kind=None,
            error_message=None,
            profile=profile,
            model=model,
            prompt_tokens=None,
            completion_tokens=None,
            reasoning_tokens=None,
            ttft_ms=None,
            created_at=stamp,
            updated_at=stamp,
            parent_id=parent,
            tokens_per_second=None,
            estimated_tokens=None,
        )

    def append_partial(self, message_id: int, text: str, reasoning: str) -> None:
        """Save what arrived since the last save of a streaming answer: ``text`` and
        ``reasoning`` are the new pieces, not the whole answer so far.

        Costs what is new: one row of parts, however long the answer already is. Reading the
        message (messages, get_message) shows its content with the parts joined. Appending
        to a message that no longer exists does nothing.
        """
        if not text and not reasoning:
            return
        text, reasoning = _safe(text), _safe(reasoning)
        now = self._now()
        with self._db.write() as conn:
            if conn.execute(sql.TOUCH_MESSAGE, (now, message_id)).rowcount == 0:
                return
            conn.execute(sql.INSERT_PART, (message_id, text, reasoning))
            conn.execute(sql.TOUCH_CONVERSATION_OF_MESSAGE, (now, message_id))

    def update_message(self, message_id: int, **fields: object) -> None:
        """Change some columns of a message and commit; unknown names raise ValueError.

        The conversation's updated_at moves too, so it rises in the list. Updating a message
        that no longer exists (its conversation was deleted mid-stream) does nothing. Setting
        content or reasoning sets the whole text: parts appended so far are dropped. Where a
        message sits in the tree is not a field: it never moves.

        ``updated_at`` (a number) is the time to record instead of now, for an import: the
        conversation's own updated time then never goes back because of it.
        """
        stamp = fields.pop("updated_at", None)
        unknown = sorted(set(fields) - UPDATABLE_MESSAGE_FIELDS)
        if unknown:
            raise ValueError(f"cannot update message field(s) {', '.join(unknown)}")
        if "status" in fields:
            check_status(fields["status"])
        if "error_kind" in fields:
            check_error_kind(fields["error_kind"])
        if stamp is not None and not isinstance(stamp, int | float):
            raise ValueError(f"updated_at must be a number, not {stamp!r}")
        values = [_safe(v) if isinstance(v, str) else v for v in fields.values()]
        now = self._now() if stamp is None else float(stamp)
        # Column names come only from the whitelist above; values are always parameters.
        assignments = "".join(f"{name} = ?, " for name in fields)
        update = f"UPDATE messages SET {assignments}updated_at = ? WHERE id = ?"
        with self._db.write() as conn:
            if "content" in fields or "reasoning" in fields:
                fold_parts(
                    conn,
                    message_id,
                    text="content" not in fields,
                    reasoning="reasoning" not in fields,
                )
            conn.execute(update, (*values, now, message_id))
            conn.execute(sql.TOUCH_CONVERSATION_OF_MESSAGE, (now, message_id))

    def finish_answer(
        self,
        message_id: int,
        *,
        content: str,
        reasoning: str,
        status: str,
        error: ChatError | None = None,
        usage: Usage | None = None,
        ttft_ms: float | None = None,
        tokens_per_second: float | None = None,
        estimated_tokens: int | None = None,
        reasoning_ms: float | None = None,
    ) -> None:
        """Writes an answer's final state: its text, how it ended, and what it cost.

        The text given is the whole answer; the parts appended while it streamed go.
        ``estimated_tokens``: the deltas counted, for a provider that sent no usage;
        ``reasoning_ms``: how long the model thought before its answer.
        """
        self.update_message(
            message_id,
            content=content,
            reasoning=reasoning,
            status=status,
            error_kind=error.kind.value if error else None,
            error_message=error.message if error else None,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            reasoning_tokens=usage.reasoning_tokens if usage else None,
            ttft_ms=ttft_ms,
            tokens_per_second=tokens_per_second,
            estimated_tokens=estimated_tokens,
            reasoning_ms=reasoning_ms,
        )

    def get_message(self, message_id: int) -> Message | None:
        rows = self._db.read(sql.SELECT_MESSAGE, (message_id,))
        if not rows:
            return None
        parts = self._db.read(sql.PARTS_OF_MESSAGE, (message_id,))
        return with_parts([message_from(rows[0])], parts)[0]

    def delete_message(self, message_id: int) -> None:
        """Delete one message and keep the rest: its children move up to its parent, and an
        active leaf there moves to the parent too. A message already gone is fine."""
        with self._db.write() as conn:
            place = conn.execute(sql.PLACE_OF_MESSAGE, (message_id,)).fetchone()
            if place is None:
                return
            parent = place[1]
            conn.execute(sql.ADOPT_CHILDREN, (parent, message_id))
            conn.execute(sql.MOVE_ACTIVE_LEAF, (parent, message_id))
            conn.execute(sql.DELETE_MESSAGE, (message_id,))

    def recover_interrupted(self) -> int:
        """Mark answers left 'streaming' by a crash as 'interrupted'; return how many.

        Their appended parts are folded into their content first. A read-only history is
        left as it is (reading still shows the parts joined); that returns 0.
        """
        if self.read_only:
            return 0
        with self._db.write() as conn:
            for (message_id,) in conn.execute(sql.MESSAGES_WITH_PARTS).fetchall():
                fold_parts(conn, int(message_id))
            return int(conn.execute(sql.RECOVER_STREAMING, (self._now(),)).rowcount)


def _safe(text: str) -> str:
    """Text SQLite can store: a lone surrogate would make the driver raise mid-save."""
    return replace_lone_surrogates(text)


def _safe_or_none(text: str | None) -> str | None:
    return None if text is None else _safe(text)
