"""Chat history in SQLite: conversations, messages and search.

One connection in autocommit mode: every public write is its own transaction and is committed
before the method returns, because a streaming answer is saved about once a second and must
survive a crash of the app. WAL with synchronous=NORMAL keeps those commits cheap, and lets a
second Deltadesk on the same folder read while this one writes (writers wait for each other up
to the busy timeout).

A streaming answer is saved by appending (append_partial): each save writes only what arrived
since the last one, so saving a long answer costs time linear in its length. Opening, the
schema and its migrations live in store_connection.py and migrations.py.

Every write failure is a StoreWriteError whose ``reason`` says what to do ("busy", "full",
"readonly", "other"); nothing already stored is lost by one.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType

from deltadesk.core import history_rows as sql
from deltadesk.core.errors import ChatError
from deltadesk.core.events import Usage
from deltadesk.core.history_rows import (
    Conversation,
    Message,
    check_error_kind,
    check_status,
    escape_like,
    with_parts,
)
from deltadesk.core.migrations import MESSAGE_STATUSES, MIGRATIONS, ROLES
from deltadesk.core.store_connection import open_database
from deltadesk.core.store_errors import (
    StoreError,
    StoreWriteError,
    read_only_error,
    write_error,
)
from deltadesk.core.text_safety import replace_lone_surrogates

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MESSAGE_STATUSES",
    "MIGRATIONS",
    "ROLES",
    "Conversation",
    "Message",
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
    }
)


class Store:
    """The history database. Not thread-safe: use it from the thread that created it.

    ``busy_timeout_ms`` is how long a write waits for another process holding the database
    before it fails with StoreWriteError("busy"); the window passes a short one so a save
    never holds up the GUI. ``read_only`` is True when the file or its folder cannot be
    written: reading works, every write raises StoreWriteError("readonly").
    """

    def __init__(self, path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
        self.path = Path(path)
        self._last_timestamp = 0.0
        opened = open_database(self.path, busy_timeout_ms)
        self._conn = opened.conn
        self.read_only = opened.read_only
        # True when no history file exists and none could be made: an empty history in
        # memory stands in, so the app runs (and says the history is read-only).
        self.in_memory = opened.in_memory

    # -- plumbing ----------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

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
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; an SQLite failure becomes a StoreWriteError.

        IntegrityError (a constraint) passes through for the caller to explain.
        """
        if self.read_only:
            raise read_only_error(self.path)
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                self._rollback_quietly()
                raise
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as exc:
            raise write_error(exc, self.path) from exc

    def _rollback_quietly(self) -> None:
        # After "disk is full" SQLite may already have rolled the transaction back; then the
        # ROLLBACK itself fails ("no transaction is active") and would hide the real error.
        if not self._conn.in_transaction:
            return
        with suppress(sqlite3.Error):
            self._conn.execute("ROLLBACK")

    def _read(self, query: str, parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self._conn.execute(query, parameters).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot read the history database {self.path}: {exc}") from exc

    def _now(self) -> float:
        # Strictly increasing within this store, so "most recently updated" never ties even
        # when two writes land in the same clock tick.
        now = max(time.time(), self._last_timestamp + 1e-6)
        self._last_timestamp = now
        return now

    # -- conversations -----------------------------------------------------------------------

    def create_conversation(self, title: str = "New chat") -> Conversation:
        title = _safe(title)
        now = self._now()
        with self._transaction() as conn:
            cursor = conn.execute(sql.INSERT_CONVERSATION, (title, now, now))
        assert cursor.lastrowid is not None
        return Conversation(id=cursor.lastrowid, title=title, created_at=now, updated_at=now)

    def list_conversations(self) -> list[Conversation]:
        """All conversations, most recently updated first."""
        return [Conversation(*row) for row in self._read(sql.LIST_CONVERSATIONS)]  # type: ignore[arg-type]

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        rows = self._read(sql.SELECT_CONVERSATION, (conversation_id,))
        return Conversation(*rows[0]) if rows else None  # type: ignore[arg-type]

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with self._transaction() as conn:
            conn.execute(sql.RENAME_CONVERSATION, (_safe(title), conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation; its messages go with it (ON DELETE CASCADE)."""
        with self._transaction() as conn:
            conn.execute(sql.DELETE_CONVERSATION, (conversation_id,))

    # -- messages ----------------------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str = "",
        *,
        status: str = "done",
        profile: str | None = None,
        model: str | None = None,
    ) -> Message:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
        check_status(status)
        content, profile, model = _safe(content), _safe_or_none(profile), _safe_or_none(model)
        now = self._now()
        values = (conversation_id, role, content, status, profile, model, now, now)
        try:
            with self._transaction() as conn:
                cursor = conn.execute(sql.INSERT_MESSAGE, values)
                conn.execute(sql.TOUCH_CONVERSATION, (now, conversation_id))
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"No conversation {conversation_id} to add a message to") from exc
        assert cursor.lastrowid is not None
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
            created_at=now,
            updated_at=now,
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
        with self._transaction() as conn:
            if conn.execute(sql.TOUCH_MESSAGE, (now, message_id)).rowcount == 0:
                return
            conn.execute(sql.INSERT_PART, (message_id, text, reasoning))
            conn.execute(sql.TOUCH_CONVERSATION_OF_MESSAGE, (now, message_id))

    def update_message(self, message_id: int, **fields: object) -> None:
        """Change some columns of a message and commit; unknown names raise ValueError.

        The conversation's updated_at moves too, so it rises in the list. Updating a message
        that no longer exists (its conversation was deleted mid-stream) does nothing. Setting
        content or reasoning sets the whole text: parts appended so far are dropped.
        """
        unknown = sorted(set(fields) - UPDATABLE_MESSAGE_FIELDS)
        if unknown:
            raise ValueError(f"cannot update message field(s) {', '.join(unknown)}")
        if "status" in fields:
            check_status(fields["status"])
        if "error_kind" in fields:
            check_error_kind(fields["error_kind"])
        values = [_safe(v) if isinstance(v, str) else v for v in fields.values()]
        now = self._now()
        # Column names come only from the whitelist above; values are always parameters.
        assignments = "".join(f"{name} = ?, " for name in fields)
        update = f"UPDATE messages SET {assignments}updated_at = ? WHERE id = ?"
        with self._transaction() as conn:
            if "content" in fields or "reasoning" in fields:
                self._fold_parts(
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
    ) -> None:
        """Writes an answer's final state: its text, how it ended, and what it cost.

        The text given is the whole answer; the parts appended while it streamed go.
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
        )

    def get_message(self, message_id: int) -> Message | None:
        rows = self._read(sql.SELECT_MESSAGE, (message_id,))
        if not rows:
            return None
        return with_parts([Message(*rows[0])], self._read(sql.PARTS_OF_MESSAGE, (message_id,)))[0]  # type: ignore[arg-type]

    def messages(self, conversation_id: int) -> list[Message]:
        """The messages of one conversation, oldest first."""
        found = [Message(*row) for row in self._read(sql.LIST_MESSAGES, (conversation_id,))]  # type: ignore[arg-type]
        return with_parts(found, self._read(sql.PARTS_OF_CONVERSATION, (conversation_id,)))

    def delete_message(self, message_id: int) -> None:
        with self._transaction() as conn:
            conn.execute(sql.DELETE_MESSAGE, (message_id,))

    def recover_interrupted(self) -> int:
        """Mark answers left 'streaming' by a crash as 'interrupted'; return how many.

        Their appended parts are folded into their content first. A read-only history is
        left as it is (reading still shows the parts joined); that returns 0.
        """
        if self.read_only:
            return 0
        with self._transaction() as conn:
            for (message_id,) in conn.execute(sql.MESSAGES_WITH_PARTS).fetchall():
                self._fold_parts(conn, int(message_id))
            return int(conn.execute(sql.RECOVER_STREAMING, (self._now(),)).rowcount)

    @staticmethod
    def _fold_parts(
        conn: sqlite3.Connection, message_id: int, *, text: bool = True, reasoning: bool = True
    ) -> None:
        """Move a message's parts into its own columns and drop them, in the caller's
        transaction. ``text``/``reasoning`` False: that column is being replaced, so its
        parts are dropped without being written first."""
        parts = conn.execute(sql.PARTS_OF_MESSAGE, (message_id,)).fetchall()
        if not parts:
            return
        joined_text = "".join(str(part[1]) for part in parts) if text else ""
        joined_reasoning = "".join(str(part[2]) for part in parts) if reasoning else ""
        if joined_text or joined_reasoning:
            conn.execute(sql.FOLD_PARTS, (joined_text, joined_reasoning, message_id))
        # The parts are a copy of text now kept in the message: zeroing their pages on delete
        # (secure_delete, on in many SQLite builds) would only double the final save's I/O.
        previous = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
        conn.execute("PRAGMA secure_delete = FAST")
        try:
            conn.execute(sql.DROP_PARTS, (message_id,))
        finally:
            conn.execute(f"PRAGMA secure_delete = {previous:d}")

    def search(self, text: str, limit: int = 50) -> list[Message]:
        """Messages whose content contains ``text``, newest first.

        Case folding is SQLite's LIKE: ASCII letters only. Wildcards in ``text`` are literal.
        The text of an answer still streaming is found once it ends.
        """
        if not text:
            return []
        pattern = f"%{escape_like(text)}%"
        rows = self._read(sql.SEARCH_MESSAGES, (pattern, limit))
        return [Message(*row) for row in rows]  # type: ignore[arg-type]


def _safe(text: str) -> str:
    """Text SQLite can store: a lone surrogate would make the driver raise mid-save."""
    return replace_lone_surrogates(text)


def _safe_or_none(text: str | None) -> str | None:
    return None if text is None else _safe(text)
