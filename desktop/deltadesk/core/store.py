"""Chat history in SQLite: conversations, messages, schema migrations and search.

One connection in autocommit mode: every public write is its own transaction and is committed
before the method returns, because a streaming answer is saved about once a second and must
survive a crash of the app. WAL with synchronous=NORMAL keeps those commits cheap.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Usage

ROLES = ("user", "assistant", "system")
MESSAGE_STATUSES = ("streaming", "done", "stopped", "failed", "interrupted")
ERROR_KINDS = frozenset(kind.value for kind in ErrorKind)
BUSY_TIMEOUT_MS = 5000

_SCHEMA_V1 = f"""
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX conversations_by_update ON conversations (updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN {ROLES!r}),
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'done' CHECK (status IN {MESSAGE_STATUSES!r}),
    error_kind TEXT,
    error_message TEXT,
    profile TEXT,
    model TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    reasoning_tokens INTEGER,
    ttft_ms REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
"""

# Migration N (1-based) takes a database from schema N-1 to schema N; PRAGMA user_version
# holds the schema number. Append new scripts; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1,)

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


class StoreError(Exception):
    """The history database cannot be opened, migrated or written as asked."""


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    conversation_id: int
    role: str
    content: str
    reasoning: str
    status: str
    error_kind: str | None
    error_message: str | None
    profile: str | None
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    ttft_ms: float | None
    created_at: float
    updated_at: float


# Column lists follow the dataclass field order so a row unpacks straight into the dataclass.
_CONVERSATION_COLUMNS = ", ".join(f.name for f in fields(Conversation))
_MESSAGE_COLUMNS = ", ".join(f.name for f in fields(Message))

_SELECT_CONVERSATION = f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"
_LIST_CONVERSATIONS = (
    f"SELECT {_CONVERSATION_COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"
)
_INSERT_CONVERSATION = "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)"
# A rename is not chat activity: it does not move the conversation up the list.
_RENAME_CONVERSATION = "UPDATE conversations SET title = ? WHERE id = ?"
_TOUCH_CONVERSATION = "UPDATE conversations SET updated_at = ? WHERE id = ?"
_TOUCH_CONVERSATION_OF_MESSAGE = (
    "UPDATE conversations SET updated_at = ?"
    " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"
)
_DELETE_CONVERSATION = "DELETE FROM conversations WHERE id = ?"
_INSERT_MESSAGE = (
    "INSERT INTO messages (conversation_id, role, content, status, profile, model,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SELECT_MESSAGE = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?"
_LIST_MESSAGES = f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"
_DELETE_MESSAGE = "DELETE FROM messages WHERE id = ?"
_RECOVER_STREAMING = (
    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE status = 'streaming'"
)
_SEARCH_MESSAGES = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE content LIKE ? ESCAPE '\\'"
    " ORDER BY id DESC LIMIT ?"
)


def _escape_like(text: str) -> str:
    """Make every character of ``text`` literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_status(status: object) -> None:
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"unknown message status {status!r}; expected one of {MESSAGE_STATUSES}")


def _check_error_kind(error_kind: object) -> None:
    if error_kind is not None and error_kind not in ERROR_KINDS:
        raise ValueError(f"unknown error kind {error_kind!r}")


class Store:
    """The history database. Not thread-safe: use it from the thread that created it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._last_timestamp = 0.0
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"Cannot open the history database {self.path}: {exc}") from exc
        try:
            self._open()
        except BaseException:
            self._conn.close()
            raise

    # -- opening and migrating ---------------------------------------------------------------

    def _open(self) -> None:
        # Read the version before anything writes: a newer database must stay byte-for-byte as
        # it was, and switching to WAL would already change its header.
        version = self._schema_version()
        known = len(MIGRATIONS)
        if version > known:
            raise StoreError(
                f"The history database {self.path} was made by a newer Deltadesk "
                f"(schema {version}); this version understands up to {known}."
            )
        self._configure()
        if version < known:
            self._migrate(version)

    def _schema_version(self) -> int:
        try:
            row = self._conn.execute("PRAGMA user_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a readable history database ({exc}). "
                "Move it away to start a fresh history."
            ) from exc
        return int(row[0])

    def _configure(self) -> None:
        conn = self._conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"Cannot switch {self.path} to WAL mode (got {mode!r}).")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")

    def _migrate(self, from_version: int) -> None:
        if from_version > 0:
            self._backup(self.path.with_name(f"{self.path.name}.bak-v{from_version}"))
        target = len(MIGRATIONS)
        pending = "\n".join(MIGRATIONS[from_version:])
        # One transaction for every pending step: the file ends at the new version or, on any
        # failure, exactly where it was. executescript runs BEGIN/COMMIT as written.
        script = f"BEGIN IMMEDIATE;\n{pending}\nPRAGMA user_version = {target:d};\nCOMMIT;"
        try:
            self._conn.executescript(script)
        except sqlite3.Error as exc:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise StoreError(
                f"Could not upgrade the history database {self.path} from schema "
                f"{from_version} to {target}: {exc}"
            ) from exc

    def _backup(self, destination: Path) -> None:
        try:
            copy = sqlite3.connect(destination)
            try:
                self._conn.backup(copy)
            finally:
                copy.close()
        except sqlite3.Error as exc:
            raise StoreError(f"Could not back up {self.path} to {destination}: {exc}") from exc

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
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _now(self) -> float:
        # Strictly increasing within this store, so "most recently updated" never ties even
        # when two writes land in the same clock tick.
        now = max(time.time(), self._last_timestamp + 1e-6)
        self._last_timestamp = now
        return now

    # -- conversations -----------------------------------------------------------------------

    def create_conversation(self, title: str = "New chat") -> Conversation:
        now = self._now()
        cursor = self._conn.execute(_INSERT_CONVERSATION, (title, now, now))
        assert cursor.lastrowid is not None
        return Conversation(id=cursor.lastrowid, title=title, created_at=now, updated_at=now)

    def list_conversations(self) -> list[Conversation]:
        """All conversations, most recently updated first."""
        return [Conversation(*row) for row in self._conn.execute(_LIST_CONVERSATIONS)]

    def get_conversation(self, conversation_id: int) -> Conversation | None:
        row = self._conn.execute(_SELECT_CONVERSATION, (conversation_id,)).fetchone()
        return Conversation(*row) if row else None

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        self._conn.execute(_RENAME_CONVERSATION, (title, conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        """Delete a conversation; its messages go with it (ON DELETE CASCADE)."""
        self._conn.execute(_DELETE_CONVERSATION, (conversation_id,))

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
        _check_status(status)
        now = self._now()
        values = (conversation_id, role, content, status, profile, model, now, now)
        try:
            with self._transaction() as conn:
                cursor = conn.execute(_INSERT_MESSAGE, values)
                conn.execute(_TOUCH_CONVERSATION, (now, conversation_id))
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

    def update_message(self, message_id: int, **fields: object) -> None:
        """Change some columns of a message and commit; unknown names raise ValueError.

        The conversation's updated_at moves too, so it rises in the list. Updating a message
        that no longer exists (its conversation was deleted mid-stream) does nothing.
        """
        unknown = sorted(set(fields) - UPDATABLE_MESSAGE_FIELDS)
        if unknown:
            raise ValueError(f"cannot update message field(s) {', '.join(unknown)}")
        if "status" in fields:
            _check_status(fields["status"])
        if "error_kind" in fields:
            _check_error_kind(fields["error_kind"])
        now = self._now()
        # Column names come only from the whitelist above; values are always parameters.
        assignments = "".join(f"{name} = ?, " for name in fields)
        sql = f"UPDATE messages SET {assignments}updated_at = ? WHERE id = ?"
        with self._transaction() as conn:
            conn.execute(sql, (*fields.values(), now, message_id))
            conn.execute(_TOUCH_CONVERSATION_OF_MESSAGE, (now, message_id))

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
        """Writes an answer's final state: its text, how it ended, and what it cost."""
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
        row = self._conn.execute(_SELECT_MESSAGE, (message_id,)).fetchone()
        return Message(*row) if row else None

    def messages(self, conversation_id: int) -> list[Message]:
        """The messages of one conversation, oldest first."""
        return [Message(*row) for row in self._conn.execute(_LIST_MESSAGES, (conversation_id,))]

    def delete_message(self, message_id: int) -> None:
        self._conn.execute(_DELETE_MESSAGE, (message_id,))

    def recover_interrupted(self) -> int:
        """Mark answers left 'streaming' by a crash as 'interrupted'; return how many."""
        return self._conn.execute(_RECOVER_STREAMING, (self._now(),)).rowcount

    def search(self, text: str, limit: int = 50) -> list[Message]:
        """Messages whose content contains ``text``, newest first.

        Case folding is SQLite's LIKE: ASCII letters only. Wildcards in ``text`` are literal.
        """
        if not text:
            return []
        pattern = f"%{_escape_like(text)}%"
        rows = self._conn.execute(_SEARCH_MESSAGES, (pattern, limit))
        return [Message(*row) for row in rows]
