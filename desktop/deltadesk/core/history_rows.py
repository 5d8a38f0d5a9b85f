"""The rows of the history (conversations, messages) and the SQL that reads and writes them.

Kept apart from store.py so the Store class reads as what it does, not as SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from deltadesk.core.errors import ErrorKind
from deltadesk.core.migrations import MESSAGE_STATUSES

ERROR_KINDS = frozenset(kind.value for kind in ErrorKind)


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
CONVERSATION_COLUMNS = ", ".join(f.name for f in fields(Conversation))
MESSAGE_COLUMNS = ", ".join(f.name for f in fields(Message))

SELECT_CONVERSATION = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"
LIST_CONVERSATIONS = (
    f"SELECT {CONVERSATION_COLUMNS} FROM conversations ORDER BY updated_at DESC, id DESC"
)
INSERT_CONVERSATION = "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)"
# A rename is not chat activity: it does not move the conversation up the list.
RENAME_CONVERSATION = "UPDATE conversations SET title = ? WHERE id = ?"
TOUCH_CONVERSATION = "UPDATE conversations SET updated_at = ? WHERE id = ?"
TOUCH_CONVERSATION_OF_MESSAGE = (
    "UPDATE conversations SET updated_at = ?"
    " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)"
)
DELETE_CONVERSATION = "DELETE FROM conversations WHERE id = ?"
INSERT_MESSAGE = (
    "INSERT INTO messages (conversation_id, role, content, status, profile, model,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SELECT_MESSAGE = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"
LIST_MESSAGES = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"
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
SEARCH_MESSAGES = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE content LIKE ? ESCAPE '\\'"
    " ORDER BY id DESC LIMIT ?"
)


def escape_like(text: str) -> str:
    """Make every character of ``text`` literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
