"""The history database's schema, one script per version, and the upgrade between them.

PRAGMA user_version holds the schema number. Migration N (1-based) takes a database from
schema N-1 to schema N. Append new scripts; never edit one that has shipped.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

from deltadesk.core.paths import create_private_file
from deltadesk.core.store_errors import StoreError

log = logging.getLogger(__name__)

ROLES = ("user", "assistant", "system")
MESSAGE_STATUSES = ("streaming", "done", "stopped", "failed", "interrupted")

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

# Schema 2: a streaming answer is saved by appending what arrived since the last save, one
# row per save, instead of rewriting the whole text every second (quadratic disk work for a
# long answer). The parts are joined on reading and folded into messages.content when the
# answer ends (or by recovery after a crash).
_SCHEMA_V2 = """
CREATE TABLE message_parts (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    text TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT ''
);
CREATE INDEX message_parts_by_message ON message_parts (message_id, id);
"""

# Schema 3: a conversation is a tree. Each message has a parent (NULL for a root) and the
# conversation remembers its active leaf, the path shown and sent. An older history was one
# list: each message's parent is the one before it in its conversation, the active leaf is the
# last one, and an answer still 'streaming' is one a crash cut off (no app of this schema can
# be streaming into it). parent_id has no ON DELETE action on purpose: a cascade down a long
# chain is a trigger per level and fails past SQLite's recursion limit (1,000); the store
# deletes a message by hand, and a conversation's messages go by their own cascade.
# source/source_id say where an imported conversation came from, once ("chatgpt", its id).
_SCHEMA_V3 = """
ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages (id);
ALTER TABLE messages ADD COLUMN tokens_per_second REAL;
ALTER TABLE messages ADD COLUMN estimated_tokens INTEGER;
ALTER TABLE conversations ADD COLUMN active_leaf_id INTEGER
    REFERENCES messages (id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN source TEXT;
ALTER TABLE conversations ADD COLUMN source_id TEXT;
UPDATE messages SET parent_id = (
    SELECT max(earlier.id) FROM messages AS earlier
    WHERE earlier.conversation_id = messages.conversation_id AND earlier.id < messages.id
);
UPDATE messages SET status = 'interrupted' WHERE status = 'streaming';
UPDATE conversations SET active_leaf_id = (
    SELECT max(id) FROM messages WHERE messages.conversation_id = conversations.id
);
CREATE INDEX messages_by_parent ON messages (parent_id, id);
CREATE INDEX messages_by_place ON messages (conversation_id, parent_id, id);
CREATE INDEX conversations_by_leaf ON conversations (active_leaf_id);
CREATE UNIQUE INDEX conversations_by_source ON conversations (source, source_id);
"""

MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3)


def known_version() -> int:
    """The newest schema this version of Deltadesk understands (read at call time, so a
    test can stand in an older or a newer list of migrations)."""
    return len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the database to the known version, in one transaction, after a backup.

    The write lock is taken first and the version read again under it, so two instances
    starting at once do not both run the same script. On any failure the file stays exactly
    at the version it had.
    """
    target = known_version()
    from_version = schema_version(conn)
    if from_version >= target:
        return  # the usual case: no lock taken, so opening never waits for another writer
    try:
        conn.execute("BEGIN IMMEDIATE")
        from_version = schema_version(conn)
        if from_version >= target:
            conn.execute("COMMIT")
            return
        started = time.monotonic()
        if from_version > 0:
            backup(path, path.with_name(f"{path.name}.bak-v{from_version}"))
        for script in MIGRATIONS[from_version:]:
            for statement in statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target:d}")
        conn.execute("COMMIT")
        if from_version > 0:  # a new history is made, not upgraded: nothing to tell
            log.info(
                "history: %s upgraded from schema %d to %d in %.0f ms (backup beside it)",
                path,
                from_version,
                target,
                (time.monotonic() - started) * 1000,
            )
    except BaseException as exc:
        if conn.in_transaction:
            # SQLite may have rolled back by itself; the first error is the one to report.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise StoreError(
                f"Could not upgrade the history database {path} from schema "
                f"{from_version} to {target}: {exc}. It was left as it was."
            ) from exc
        raise


def statements(script: str) -> list[str]:
    """The SQL statements of ``script``, one by one.

    Executed one at a time because executescript commits any open transaction first, and
    the migration must stay inside the one that holds the write lock.
    """
    found: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"unfinished SQL statement: {pending.strip()[:60]!r}")
    return found


def backup(path: Path, destination: Path) -> None:
    """Copy the database as it is now to ``destination`` (private, like the history).

    A separate connection reads it: in WAL mode it sees the last committed state while the
    migrating connection holds the write lock.
    """
    try:
        create_private_file(destination)
        source = sqlite3.connect(path)
        try:
            copy = sqlite3.connect(destination)
            try:
                source.backup(copy)
            finally:
                copy.close()
        finally:
            source.close()
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"Could not back up {path} to {destination}: {exc}") from exc
