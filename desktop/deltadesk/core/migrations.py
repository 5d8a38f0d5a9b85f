"""The history database's schema, one script per version, and the upgrade between them.

PRAGMA user_version holds the schema number. Migration N (1-based) takes a database from
schema N-1 to schema N. Append new scripts; never edit one that has shipped.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

# Schema 4: per-conversation settings (JSON from ConversationSettings.to_json(), NULL for the
# defaults) and a pin; how long the model thought before answering; and full-text search.
# The indexes are external-content FTS5 tables: they hold only the index, the text stays in
# the messages and conversations, and triggers keep them in step. The 'delete' command must be
# given the text exactly as it was indexed, which the OLD row always is: every change of
# content goes through these triggers (a streaming answer's parts live in message_parts until
# they are folded into content, which is an UPDATE like any other, so the index holds the
# answer as folded; a partial answer is found once it ends). Every branch is indexed, since
# every message is. A message's first INDEXED_CHARS characters are indexed (the view
# messages_indexed is the index's content table): a 10 MB answer would take a second to index
# when it ends, and FTS5's highlight and snippet cost grows with the text. unicode61 with
# remove_diacritics 2 finds "cafe" in "Café"; prefix='2 3' keeps the typing-as-you-search
# prefix queries off a scan of the whole term list. The last two statements build the index
# of the messages and titles already there.
INDEXED_CHARS = 100_000
_SCHEMA_V4 = f"""
ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN settings TEXT;
ALTER TABLE messages ADD COLUMN reasoning_ms REAL;
CREATE VIEW messages_indexed (id, content) AS
    SELECT id, substr(content, 1, {INDEXED_CHARS:d}) FROM messages;
CREATE VIRTUAL TABLE messages_fts USING fts5(
    content, content='messages_indexed', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE VIRTUAL TABLE titles_fts USING fts5(
    title, content='conversations', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2', prefix='2 3'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content)
        VALUES (new.id, substr(new.content, 1, {INDEXED_CHARS:d}));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, substr(old.content, 1, {INDEXED_CHARS:d}));
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        VALUES ('delete', old.id, substr(old.content, 1, {INDEXED_CHARS:d}));
    INSERT INTO messages_fts (rowid, content)
        VALUES (new.id, substr(new.content, 1, {INDEXED_CHARS:d}));
END;
CREATE TRIGGER titles_fts_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
END;
CREATE TRIGGER titles_fts_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
END;
CREATE TRIGGER titles_fts_update AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.id, old.title);
    INSERT INTO titles_fts (rowid, title) VALUES (new.id, new.title);
END;
CREATE INDEX conversations_by_pin ON conversations (pinned, updated_at);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO titles_fts (titles_fts) VALUES ('rebuild');
"""

MIGRATIONS: tuple[str, ...] = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3, _SCHEMA_V4)

# A migration that takes longer than this is told about as it goes (log, and the caller's
# progress callback about once a second) and afterwards (Upgrade.slow).
SLOW_UPGRADE_SECONDS = 1.0
# How many SQLite virtual-machine steps between two looks at the clock while upgrading.
_PROGRESS_STEPS = 100_000

# Called with a short sentence for the user while a slow upgrade runs (a window's banner).
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What opening the history did to its schema: for the note a window shows afterwards."""

    from_version: int
    to_version: int
    seconds: float
    messages: int  # how many messages the history held (what the search index was built of)

    @property
    def slow(self) -> bool:
        return self.seconds > SLOW_UPGRADE_SECONDS

    def note(self) -> str:
        built = (
            f" and built its search index of {self.messages:,} messages"
            if self.from_version < 4 <= self.to_version
            else ""
        )
        return (
            f"Deltadesk upgraded your history{built} in {self.seconds:.1f} s "
            "(once; a backup of the old file is beside it)."
        )


def known_version() -> int:
    """The newest schema this version of Deltadesk understands (read at call time, so a
    test can stand in an older or a newer list of migrations)."""
    return len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    path: Path,
    progress: Progress | None = None,
    *,
    backup_first: bool = True,
) -> Upgrade | None:
    """Bring the database to the known version, in one transaction, after a backup (unless
    `backup_first` is False: a copy in memory of a file left as it is); return what was done
    (None: nothing was, or a new history was made).

    The write lock is taken first and the version read again under it, so two instances
    starting at once do not both run the same script. On any failure the file stays exactly
    at the version it had. A slow upgrade (building the search index of a large history) is
    told about as it goes: in the log and through ``progress``, about once a second.
    """
    target = known_version()
    from_version = schema_version(conn)
    if from_version >= target:
        return None  # the usual case: no lock taken, so opening never waits for another writer
    check_fts5(conn, path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        from_version = schema_version(conn)
        if from_version >= target:
            conn.execute("COMMIT")
            return None
        started = time.monotonic()
        if from_version > 0 and backup_first:
            backup(path, path.with_name(f"{path.name}.bak-v{from_version}"))
        messages = _message_count(conn) if from_version > 0 else 0
        with _telling_progress(conn, path, messages, started, progress):
            for script in MIGRATIONS[from_version:]:
                for statement in statements(script):
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {target:d}")
        conn.execute("COMMIT")
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
    if from_version == 0:  # a new history is made, not upgraded: nothing to tell
        return None
    upgrade = Upgrade(from_version, target, time.monotonic() - started, messages)
    log.info(
        "history: %s upgraded from schema %d to %d in %.0f ms%s",
        path,
        from_version,
        target,
        upgrade.seconds * 1000,
        " (backup beside it)" if backup_first else " (a copy in memory)",
    )
    return upgrade


def check_fts5(conn: sqlite3.Connection, path: Path) -> None:
    """Schema 4 needs SQLite's FTS5 (full-text search): say so plainly if it is missing."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        conn.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.Error as exc:
        raise StoreError(
            f"The history database {path} needs SQLite's full-text search (FTS5), which "
            f"this Python's sqlite3 (SQLite {sqlite3.sqlite_version}) lacks: {exc}. Use a "
            "Python whose SQLite has FTS5 (the python.org and distribution builds do). "
            "The history was left as it was."
        ) from exc


def _message_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])


@contextlib.contextmanager
def _telling_progress(
    conn: sqlite3.Connection,
    path: Path,
    messages: int,
    started: float,
    progress: Progress | None,
) -> Iterator[None]:
    """While the scripts run, say about once a second (after the first) that they still do.

    SQLite's progress handler is called every _PROGRESS_STEPS steps of its virtual machine,
    from inside the statement that runs: it only looks at the clock and tells, never touches
    the database (returning 0 lets the statement go on).
    """
    last_told = started

    def tick() -> int:
        nonlocal last_told
        now = time.monotonic()
        if now - last_told >= SLOW_UPGRADE_SECONDS:
            last_told = now
            sentence = (
                f"Upgrading the history and building its search index of {messages:,} "
                f"messages (once): {now - started:.0f} s so far…"
            )
            log.info("history: %s: %s", path, sentence)
            if progress is not None:
                with contextlib.suppress(Exception):  # a window's trouble must not fail it
                    progress(sentence)
        return 0

    conn.set_progress_handler(tick, _PROGRESS_STEPS)
    try:
        yield
    finally:
        conn.set_progress_handler(None, 0)


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
