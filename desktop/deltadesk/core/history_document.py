"""Conversations as plain data, apart from the database: what export writes and import reads.

An exported file, our own JSON or ChatGPT's conversations.json, is turned into these records
first and written into the history only once the whole file has been read and checked, so a
malformed file never leaves half an import behind. Message ids here are local to one
conversation of the document (our export keeps the database ids; ChatGPT's node ids are
numbered in tree order); `parent_id` refers to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deltadesk.core.conversation_settings import ConversationSettings

DEFAULT_SETTINGS = ConversationSettings()


class ImportFormatError(ValueError):
    """The file is not one import can read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class DocMessage:
    id: int
    parent_id: int | None
    role: str
    content: str
    reasoning: str = ""
    status: str = "done"
    error_kind: str | None = None
    error_message: str | None = None
    profile: str | None = None
    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    ttft_ms: float | None = None
    reasoning_ms: float | None = None  # how long the model thought; None: unknown
    tokens_per_second: float | None = None
    estimated_tokens: int | None = None
    created_at: float | None = None
    updated_at: float | None = None


@dataclass(frozen=True, slots=True)
class DocConversation:
    """One conversation tree. `messages` lists every parent before its children, siblings in
    the order they were made. `source`/`source_id` name where it came from (None for a
    conversation made in Deltadesk). `pinned` and `settings` (what it sends with every
    request: system prompt, temperature, ...) are the defaults for a file without them."""

    id: int | None
    title: str
    created_at: float
    updated_at: float
    active_leaf_id: int | None
    source: str | None
    source_id: str | None
    messages: tuple[DocMessage, ...] = field(default=())
    pinned: bool = False
    settings: ConversationSettings = DEFAULT_SETTINGS


# Fields of DocMessage that hold figures and outcome, beyond role, text and place in the tree.
MESSAGE_DETAIL_FIELDS = (
    "status",
    "error_kind",
    "error_message",
    "profile",
    "model",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "ttft_ms",
    "reasoning_ms",
    "tokens_per_second",
    "estimated_tokens",
)


def active_path(conversation: DocConversation) -> list[DocMessage]:
    """Root -> active leaf (the last message when no leaf is named). Walks parent links in a
    loop, so a deep tree cannot exhaust the stack; a cycle ends the walk."""
    by_id = {message.id: message for message in conversation.messages}
    leaf_id = conversation.active_leaf_id
    if leaf_id not in by_id:
        leaf_id = conversation.messages[-1].id if conversation.messages else None
    path: list[DocMessage] = []
    seen: set[int] = set()
    while leaf_id is not None and leaf_id in by_id and leaf_id not in seen:
        seen.add(leaf_id)
        message = by_id[leaf_id]
        path.append(message)
        leaf_id = message.parent_id
    path.reverse()
    return path
