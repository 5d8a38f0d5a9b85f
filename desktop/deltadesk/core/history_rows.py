"""The rows of the history (conversations, messages) and the SQL that reads and writes them.

Kept apart from store.py so the Store class reads as what it does, not as SQL text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields, replace
from typing import Final

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.errors import ErrorKind
from deltadesk.core.migrations import MESSAGE_STATUSES

ERROR_KINDS = frozenset(kind.value for kind in ErrorKind)
DEFAULT_SETTINGS: Final = ConversationSettings()


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    title: str
    created_at: float
    updated_at: float
    # Schema 3. Defaults only so a row can be built by hand (tests, imports); the store
    # always fills them.
    active_leaf_id: int | None = None  # the end of the path shown and sent; None: no message
    source: str | None = None  # where an imported conversation came from ("chatgpt", ...)
    source_id: str | None = None  # its id there; (source, source_id) is unique
    # Schema 4.
    pinned: bool = False  # kept at the top of the list
    # Sent with every request. One shared default: it is frozen.
    settings: ConversationSettings = DEFAULT_SETTINGS


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
    # Schema 3 (defaults as for Conversation).
    parent_id: int | None = None  # None: a root
    tokens_per_second: float | None = None
    estimated_tokens: int | None = None  # counted from the deltas when no usage was sent
    # Schema 4: how long the model thought before its answer (ms); None: unknown or none.
    reasoning_ms: float | None = None


# Column lists follow the dataclass field order so a row unpacks straight into the dataclass.
CONVERSATION_COLUMNS = ", ".join(f.name for f in fields(Conversation))
MESSAGE_COLUMNS = ", ".join(f.name for f in fields(Message))

SELECT_CONVERSATION = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"
LIST_CONVERSATIONS = (
    f"SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"
)
CONVERSATION_BY_SOURCE = (
    f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE source = ? AND source_id = ?"
)
INSERT_CONVERSATION = (
    "INSERT INTO conversations (title, created_at, updated_at, source, source_id, settings)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
MESSAGE_COUNTS = "SELECT conversation_id, count(*) FROM messages GROUP BY conversation_id"
# A rename is not chat activity: it does not move the conversation up the list.
RENAME_CONVERSATION = "UPDATE conversations SET title = ? WHERE id = ?"
# Neither is chat activity either.
SET_PINNED = "UPDATE conversations SET pinned = ? WHERE id = ?"
SET_SETTINGS = "UPDATE conversations SET settings = ? WHERE id = ?"
# max(): an imported message with its own (older) time does not move the conversation back.
TOUCH_CONVERSATION = "UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?"
TOUCH_CONVERSATION_OF_MESSAGE = (
    "UPDATE conversations SET updated_at = max(updated_at, ?)"
    " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"
)
DELETE_CONVERSATION = "DELETE FROM conversations WHERE id = ?"
ACTIVE_LEAF = "SELECT active_leaf_id FROM conversations WHERE id = ?"
SET_ACTIVE_LEAF = "UPDATE conversations SET active_leaf_id = ? WHERE id = ?"
LAST_MESSAGE = "SELECT max(id) FROM messages WHERE conversation_id = ?"
INSERT_MESSAGE = (
    "INSERT INTO messages (conversation_id, parent_id, role, content, status, profile, model,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"
PLACE_OF_MESSAGE = "SELECT conversation_id, parent_id FROM messages WHERE id = ?"
LIST_MESSAGES = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"
CHILDREN = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE parent_id = ? ORDER BY id"
ROOTS = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? AND parent_id IS NULL"
    " ORDER BY id"
)
# Up from the leaf by parent (the primary key), so the cost is the path's length, not the
# conversation's: other branches are never read.
PATH_TO = f"""
WITH RECURSIVE path (id, depth) AS (
    SELECT id, 0 FROM messages WHERE id = ?
    UNION ALL
    SELECT messages.parent_id, path.depth + 1 FROM messages JOIN path ON messages.id = path.id
    WHERE messages.parent_id IS NOT NULL
)
SELECT {", ".join(f"messages.{f.name}" for f in fields(Message))}
FROM path JOIN messages ON messages.id = path.id ORDER BY path.depth DESC
"""
# Down by the newest child; a child's id is above its parent's, so the leaf is the highest.
NEWEST_LEAF_UNDER = """
WITH RECURSIVE down (id) AS (
    SELECT ?
    UNION ALL
    SELECT (SELECT max(child.id) FROM messages AS child WHERE child.parent_id = down.id)
    FROM down WHERE down.id IS NOT NULL
)
SELECT max(id) FROM down
"""
# Each message's parent, grouped by parent: ids only, from the messages_by_place index alone,
# so a long conversation's branch switchers cost a few milliseconds, not a read of its text.
PLACES_IN_CONVERSATION = (
    "SELECT id, parent_id FROM messages WHERE conversation_id = ? ORDER BY parent_id, id"
)
# Deleting one message keeps the rest: its children move up to its parent.
ADOPT_CHILDREN = "UPDATE messages SET parent_id = ? WHERE parent_id = ?"
MOVE_ACTIVE_LEAF = "UPDATE conversations SET active_leaf_id = ? WHERE active_leaf_id = ?"
DELETE_MESSAGE = "DELETE FROM messages WHERE id = ?"
RECOVER_STREAMING = (
    "UPDATE messages SET status = 'interrupted', updated_at = ? WHERE status = 'streaming'"
)
TOUCH_MESSAGE = "UPDATE messages SET updated_at = ? WHERE id = ?"
INSERT_PART = "INSERT INTO message_parts (message_id, text, reasoning) VALUES (?, ?, ?)"
PARTS_OF_MESSAGE = (
    "SELECT message_id, text, reasoning FROM message_parts WHERE message_id = ? ORDER BY id"
)
PARTS_OF_CONVERSATION = (
    "SELECT message_id, text, reasoning FROM message_parts WHERE message_id IN"
    " (SELECT id FROM messages WHERE conversation_id = ?) ORDER BY id"
)
MESSAGES_WITH_PARTS = "SELECT DISTINCT message_id FROM message_parts"
DROP_PARTS = "DELETE FROM message_parts WHERE message_id = ?"
FOLD_PARTS = "UPDATE messages SET content = content || ?, reasoning = reasoning || ? WHERE id = ?"


def check_status(status: object) -> None:
    if status not in MESSAGE_STATUSES:
        raise ValueError(f"unknown message status {status!r}; expected one of {MESSAGE_STATUSES}")


def check_error_kind(error_kind: object) -> None:
    if error_kind is not None and error_kind not in ERROR_KINDS:
        raise ValueError(f"unknown error kind {error_kind!r}")


def with_parts(found: list[Message], parts: list[tuple[object, ...]]) -> list[Message]:
    """``found`` with each message's appended parts joined onto its content and reasoning."""
    if not parts:
        return found
    texts: dict[object, list[str]] = {}
    reasonings: dict[object, list[str]] = {}
    for message_id, text, reasoning in parts:
        texts.setdefault(message_id, []).append(str(text))
        reasonings.setdefault(message_id, []).append(str(reasoning))
    return [
        replace(
            message,
            content=message.content + "".join(texts[message.id]),
            reasoning=message.reasoning + "".join(reasonings[message.id]),
        )
        if message.id in texts
        else message
        for message in found
    ]


def fold_parts(
    conn: sqlite3.Connection, message_id: int, *, text: bool = True, reasoning: bool = True
) -> None:
    """Move a message's parts into its own columns and drop them, in the caller's
    transaction. ``text``/``reasoning`` False: that column is being replaced, so its parts
    are dropped without being written first."""
    parts = conn.execute(PARTS_OF_MESSAGE, (message_id,)).fetchall()
    if not parts:
        return
    joined_text = "".join(str(part[1]) for part in parts) if text else ""
    joined_reasoning = "".join(str(part[2]) for part in parts) if reasoning else ""
    if joined_text or joined_reasoning:
        conn.execute(FOLD_PARTS, (joined_text, joined_reasoning, message_id))
    # The parts are a copy of text now kept in the message: zeroing their pages on delete
    # (secure_delete, on in many SQLite builds) would only double the final save's I/O.
    previous = int(conn.execute("PRAGMA secure_delete").fetchone()[0])
    conn.execute("PRAGMA secure_delete = FAST")
    try:
        conn.execute(DROP_PARTS, (message_id,))
    finally:
        conn.execute(f"PRAGMA secure_delete = {previous:d}")


def message_from(row: tuple[object, ...]) -> Message:
    """A row of MESSAGE_COLUMNS as a Message (the columns follow the fields)."""
    return Message(*row)  # type: ignore[arg-type]


def conversation_from(row: tuple[object, ...]) -> Conversation:
    """A row of CONVERSATION_COLUMNS as a Conversation (settings parsed, tolerantly)."""
    chat_id, title, created_at, updated_at, leaf, source, source_id, pinned, settings = row
    return Conversation(
        id=int(str(chat_id)),
        title=str(title),
        created_at=float(str(created_at)),
        updated_at=float(str(updated_at)),
        active_leaf_id=None if leaf is None else int(str(leaf)),
        source=None if source is None else str(source),
        source_id=None if source_id is None else str(source_id),
        pinned=bool(pinned),
        settings=ConversationSettings.from_json(settings if isinstance(settings, str) else None),
    )
