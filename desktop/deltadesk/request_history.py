"""What a request carries: the active path of the conversation, as the model should see it.

Only the path from the root to the message being answered is sent, never the other branches.
A continued answer is sent as it stands, followed by a "continue" turn that exists only in
the request: it is never stored, so it never shows up as a bubble.
"""

from __future__ import annotations

from collections.abc import Sequence

from deltadesk.core.client import ChatMessage
from deltadesk.core.store import Message

# What a previous answer contributes to the history sent with the next prompt.
SENDABLE_STATUSES = frozenset({"done", "stopped", "interrupted"})
CONTINUE_PROMPT = "Continue exactly where you stopped, without repeating anything."


def sendable(path: Sequence[Message]) -> list[ChatMessage]:
    """The path as chat messages: prompts, and answers that have text worth sending."""
    return [
        {"role": m.role, "content": m.content}
        for m in path
        if m.role == "user" or (m.content and m.status in SENDABLE_STATUSES)
    ]


def up_to(path: Sequence[Message], message_id: int) -> list[Message]:
    """The path before ``message_id`` (all of it if the message is not on it)."""
    ids = [m.id for m in path]
    return list(path[: ids.index(message_id)]) if message_id in ids else list(path)


def continuation(path: Sequence[Message], answer: Message) -> list[ChatMessage]:
    """The request that asks the model to go on with ``answer`` (the path's end)."""
    before = sendable(up_to(path, answer.id))
    return [
        *before,
        {"role": "assistant", "content": answer.content},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
