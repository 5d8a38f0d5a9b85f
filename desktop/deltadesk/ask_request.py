"""What `deltadesk ask` sends: the options beyond the prompt (--system, --temperature,
--max-tokens) and, with --continue ID, the conversation so far.

Continuing follows the conversation's active path, as the window does: every message from
the root to the active leaf is sent as history, and the new prompt hangs under that leaf
(its answer under the prompt). Messages with no text (an answer that failed before its
first token) are left out of what is sent; they stay in the tree.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

from deltadesk.cli import conversation_id
from deltadesk.core.client import ChatMessage, RequestOptions
from deltadesk.core.store import Store


class ContinueError(Exception):
    """--continue names no conversation of this history."""


def temperature_value(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a temperature (a number from 0)")
    return value


def max_tokens_value(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of tokens above 0")
    return value


def system_value(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the system message is empty")
    return text


def add_request_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--system", metavar="TEXT", type=system_value, help="a system message")
    parser.add_argument("--temperature", metavar="T", type=temperature_value)
    parser.add_argument("--max-tokens", metavar="N", type=max_tokens_value)
    parser.add_argument(
        "--continue",
        dest="continue_id",
        metavar="ID",
        type=conversation_id,
        help="continue conversation ID (see: history list) from its active leaf",
    )


def request_options(args: argparse.Namespace) -> RequestOptions:
    return RequestOptions(
        system=args.system, temperature=args.temperature, max_tokens=args.max_tokens
    )


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where the new prompt goes: a conversation and the leaf it hangs under (None: a new
    conversation), and the history sent before it."""

    conversation_id: int | None = None
    leaf_id: int | None = None
    history: list[ChatMessage] = field(default_factory=list)


def continuation(store: Store, conversation_id: int | None) -> Continuation:
    if conversation_id is None:
        return Continuation()
    if store.get_conversation(conversation_id) is None:
        raise ContinueError(f"there is no conversation {conversation_id} (see: history list)")
    path = store.active_path(conversation_id)
    history: list[ChatMessage] = [
        {"role": message.role, "content": message.content}
        for message in path
        if message.content.strip()
    ]
    return Continuation(conversation_id, path[-1].id if path else None, history)
