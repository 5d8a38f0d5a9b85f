"""Export: conversations from the history as plain data, as our JSON, or as Markdown.

JSON (history_json.py) holds the whole tree. Markdown is for reading: the active path (what
the window shows), each message under a heading, its reasoning folded in a `<details>`
block (summary "Thought for 3.2 s" when the time is known, "Thinking" when not), and a line
for an answer that did not end well. Labels (the title, model names) go on one line without
control characters; the messages are kept as stored (a terminal is protected where the text
is printed). Nothing in it depends on when it was exported, so an
export -> import -> export round trip gives the same text.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from deltadesk.core.durations import thought_time
from deltadesk.core.history_document import DocConversation, DocMessage, active_path
from deltadesk.core.history_json import to_json
from deltadesk.core.history_rows import Conversation, Message
from deltadesk.core.store import Store
from deltadesk.core.text_safety import strip_control_chars

__all__ = ["document_of", "documents", "to_json", "to_markdown"]

FORMATS = ("json", "md")
ROLE_HEADINGS = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_LINES = {
    "stopped": "*Stopped before the end.*",
    "interrupted": "*Interrupted: the answer was cut off.*",
    "streaming": "*Still being written when this was exported.*",
    "failed": "*Failed.*",
}


def documents(store: Store, conversations: Iterable[Conversation]) -> list[DocConversation]:
    return [
        document_of(conversation, store.messages(conversation.id)) for conversation in conversations
    ]


def document_of(conversation: Conversation, messages: Sequence[Message]) -> DocConversation:
    return DocConversation(
        id=conversation.id,
        title=conversation.title,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        active_leaf_id=conversation.active_leaf_id,
        source=conversation.source,
        source_id=conversation.source_id,
        messages=tuple(_doc_message(message) for message in messages),
        pinned=conversation.pinned,
        settings=conversation.settings,
    )


def _doc_message(message: Message) -> DocMessage:
    return DocMessage(
        id=message.id,
        parent_id=message.parent_id,
        role=message.role,
        content=message.content,
        reasoning=message.reasoning,
        status=message.status,
        error_kind=message.error_kind,
        error_message=message.error_message,
        profile=message.profile,
        model=message.model,
        prompt_tokens=message.prompt_tokens,
        completion_tokens=message.completion_tokens,
        reasoning_tokens=message.reasoning_tokens,
        ttft_ms=message.ttft_ms,
        reasoning_ms=message.reasoning_ms,
        tokens_per_second=message.tokens_per_second,
        estimated_tokens=message.estimated_tokens,
        created_at=message.created_at,
        updated_at=message.updated_at,
    )


# -- Markdown ------------------------------------------------------------------------------


def to_markdown(conversations: Sequence[DocConversation], *, branch_notes: bool = False) -> str:
    """The active path of each conversation. `branch_notes` adds "answer 2 of 3" to the
    heading of a message that has siblings (for `history show`)."""
    return "\n---\n\n".join(_conversation_markdown(c, branch_notes) for c in conversations)


def _conversation_markdown(conversation: DocConversation, branch_notes: bool) -> str:
    started = datetime.fromtimestamp(conversation.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = one_line(strip_control_chars(conversation.title)) or "Untitled"
    blocks = [f"# {title}", f"*Started {started}*"]
    siblings = Counter(message.parent_id for message in conversation.messages)
    position: dict[int, int] = {}
    seen: Counter[int | None] = Counter()
    for message in conversation.messages:  # siblings in the order they were made
        seen[message.parent_id] += 1
        position[message.id] = seen[message.parent_id]
    for message in active_path(conversation):
        heading = _heading(message)
        count = siblings[message.parent_id]
        if branch_notes and count > 1:
            heading += f" ({_kind(message)} {position[message.id]} of {count})"
        blocks += [f"## {heading}", *_body(message)]
    return "\n\n".join(blocks) + "\n"


def _heading(message: DocMessage) -> str:
    heading = ROLE_HEADINGS.get(message.role, message.role.title())
    if message.role == "assistant" and message.model:
        heading += f" · {one_line(strip_control_chars(message.model))}"
    return heading


def _kind(message: DocMessage) -> str:
    return "answer" if message.role == "assistant" else "version"


def _body(message: DocMessage) -> list[str]:
    """The message's blocks of Markdown: reasoning, text, how it ended."""
    blocks: list[str] = []
    if message.reasoning.strip():
        # Escaped, so reasoning that holds "</details>" or other markup stays inside.
        thinking = html.escape(message.reasoning.strip(), quote=False)
        summary = _reasoning_summary(message.reasoning_ms)
        blocks.append(f"<details><summary>{summary}</summary>\n\n{thinking}\n\n</details>")
    if message.content.strip():
        blocks.append(message.content.strip())
    ending = STATUS_LINES.get(message.status)
    if message.status == "failed" and message.error_message:
        ending = f"*Failed: {one_line(message.error_message)}*"
    if ending:
        blocks.append(ending)
    return blocks or ["*(empty)*"]


def _reasoning_summary(ms: float | None) -> str:
    """ "Thought for 3.2 s", as the window says it; "Thinking" when the time is unknown (an
    older answer), never a made-up figure."""
    return "Thinking" if ms is None else f"Thought for {thought_time(ms)}"


def one_line(text: str) -> str:
    """Text on one line: tabs, newlines and runs of spaces become one space."""
    return " ".join(text.split())
