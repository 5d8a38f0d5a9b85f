"""ChatGPT's data export (`conversations.json`) read into DocConversation records.

Each conversation there is a `mapping` of nodes by id; a node has its `parent`, its
`children` and (except the root) a `message` with an author role and typed content. Every
branch is kept (a regenerated answer or an edited prompt is a second child), and
`current_node` becomes the active leaf. What the user never saw is left out: nodes with no
message, hidden system nodes (`metadata.is_visually_hidden_from_conversation`), custom
instructions and memory context, "Thought for 5 seconds" recaps. A `thoughts` node is kept
as the reasoning of the answer that follows it; an image becomes "[image not included]".

The tree is walked with explicit stacks, never recursion: a conversation may be thousands of
turns deep.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from deltadesk.core.history_document import DocConversation, DocMessage, ImportFormatError

SOURCE = "chatgpt"
IMAGE_NOTE = "[image not included]"
MAX_TITLE_CHARS = 500

# Content types that carry nothing to show: context the user set up once, or a summary line.
_SKIPPED_CONTENT = frozenset({"user_editable_context", "model_editable_context", "reasoning_recap"})
_STATUS = {
    "finished_successfully": "done",
    "finished_partial_completion": "stopped",
    "in_progress": "interrupted",
}
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "tool": "assistant"}


def looks_like_chatgpt(data: object) -> bool:
    """A conversation of ChatGPT's (a `mapping`), or a list with one among its first."""
    if isinstance(data, dict):
        return "mapping" in data
    return isinstance(data, list) and any(
        isinstance(item, dict) and "mapping" in item for item in data[:5]
    )


def parse_chatgpt(data: object) -> list[DocConversation]:
    """Every conversation of the export, or ImportFormatError naming the first problem."""
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ImportFormatError("a ChatGPT export is a list of conversations")
    return [_conversation(item, index) for index, item in enumerate(items, 1)]


@dataclass(slots=True)
class _Node:
    key: str
    parent: str | None
    children: list[str]
    message: dict[str, Any] | None


@dataclass(slots=True)
class _Kept:
    """A kept message, the node it came from, and how many kept messages hang under it."""

    message: DocMessage
    key: str
    child_count: int = 0


def _conversation(item: object, index: int) -> DocConversation:
    where = f"conversation {index}"
    if not isinstance(item, dict):
        raise ImportFormatError(f"{where} is not an object")
    source_id = item.get("id") or item.get("conversation_id")
    if not isinstance(source_id, str) or not source_id:
        raise ImportFormatError(f"{where} has no id")
    where = f"conversation {index} ({_label(source_id)})"
    created = _time(item.get("create_time"), where, "create_time") or 0.0
    updated = _time(item.get("update_time"), where, "update_time") or created
    nodes = _nodes(item.get("mapping"), where)
    kept, keys = _kept_messages(nodes, created, where)
    messages, leaf = _fold_thoughts(kept, keys.get(_current_key(item, nodes, where)))
    title = item.get("title")
    return DocConversation(
        id=None,
        title=_title(title if isinstance(title, str) else ""),
        created_at=created,
        updated_at=max(updated, created),
        active_leaf_id=leaf,
        source=SOURCE,
        source_id=source_id,
        messages=tuple(messages),
    )


def _label(key: str) -> str:
    """An id from the file as named in an error message: short (it may be any length)."""
    return key if len(key) <= 60 else f"{key[:57]}…"


def _title(title: str) -> str:
    cleaned = " ".join(title.split())[:MAX_TITLE_CHARS]
    return cleaned or "ChatGPT conversation"


def _time(value: object, where: str, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
        return float(value)
    if not isinstance(value, float) or not math.isfinite(value):
        raise ImportFormatError(f"{where}: {name} is not a time")
    return value


def _nodes(mapping: object, where: str) -> dict[str, _Node]:
    if not isinstance(mapping, dict) or not mapping:
        raise ImportFormatError(f"{where} has no mapping of messages")
    nodes: dict[str, _Node] = {}
    for key, raw in mapping.items():
        if not isinstance(raw, dict):
            raise ImportFormatError(f"{where}: node {_label(key)} is not an object")
        parent, children, message = raw.get("parent"), raw.get("children", []), raw.get("message")
        if parent is not None and not isinstance(parent, str):
            raise ImportFormatError(f"{where}: node {_label(key)} has a parent that is not an id")
        if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
            raise ImportFormatError(f"{where}: node {_label(key)} has children that are not ids")
        if message is not None and not isinstance(message, dict):
            raise ImportFormatError(
                f"{where}: node {_label(key)} has a message that is not an object"
            )
        nodes[key] = _Node(key, parent, children, message)
    for node in nodes.values():
        if node.parent is not None and node.parent not in nodes:
            raise ImportFormatError(
                f"{where}: node {_label(node.key)} names a parent that is not there"
            )
    return nodes


def _current_key(item: Mapping[str, Any], nodes: Mapping[str, _Node], where: str) -> str | None:
    current = item.get("current_node")
    if current is None:
        return None
    if not isinstance(current, str) or current not in nodes:
        raise ImportFormatError(f"{where}: current_node is not one of its nodes")
    return current


def _tree_order(nodes: Mapping[str, _Node], where: str) -> Iterator[_Node]:
    """Parents before children, siblings in their `children` order; every node once."""
    children: dict[str | None, list[str]] = {}
    for node in nodes.values():
        children.setdefault(node.parent, []).append(node.key)
    for parent, keys in children.items():
        listed = nodes[parent].children if parent is not None else []
        rank = {key: position for position, key in enumerate(listed)}
        keys.sort(key=lambda k: rank.get(k, len(rank)))
    stack = list(reversed(children.get(None, [])))
    seen = 0
    while stack:
        node = nodes[stack.pop()]
        seen += 1
        yield node
        stack.extend(reversed(children.get(node.key, [])))
    if seen != len(nodes):
        raise ImportFormatError(f"{where}: its nodes do not form a tree (a parent loop)")


def _kept_messages(
    nodes: Mapping[str, _Node], created: float, where: str
) -> tuple[list[_Kept], dict[str | None, int | None]]:
    """The messages worth keeping, each under its nearest kept ancestor, and the id each
    node stands for (a skipped node stands for that ancestor)."""
    stands_for: dict[str | None, int | None] = {None: None}
    times: dict[str | None, float] = {None: created}
    kept: list[_Kept] = []
    for node in _tree_order(nodes, where):
        parent_id = stands_for[node.parent]
        made = _message(node, len(kept) + 1, parent_id, times[node.parent], where)
        if made is None:
            stands_for[node.key], times[node.key] = parent_id, times[node.parent]
            continue
        kept.append(_Kept(made, node.key))
        stands_for[node.key] = made.id
        times[node.key] = made.created_at or times[node.parent]
    for entry in kept:
        if entry.message.parent_id is not None:
            kept[entry.message.parent_id - 1].child_count += 1
    return kept, stands_for


def _message(
    node: _Node, new_id: int, parent_id: int | None, parent_time: float, where: str
) -> DocMessage | None:
    raw = node.message
    if raw is None:
        return None
    where = f"{where}: node {_label(node.key)}"
    author = raw.get("author")
    role = author.get("role") if isinstance(author, dict) else None
    content = raw.get("content")
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    if role not in _ROLES or not isinstance(content, dict):
        raise ImportFormatError(f"{where} has no author role or no content")
    kind = content.get("content_type")
    if kind in _SKIPPED_CONTENT or metadata.get("is_visually_hidden_from_conversation"):
        return None
    text, reasoning = _text(content, where)
    if role == "tool" and text:
        text = f"*Tool output:*\n\n{text}"
    if not text and not reasoning:
        return None  # an empty system prompt, or an answer that never began
    created = _time(raw.get("create_time"), where, "create_time")
    updated = _time(raw.get("update_time"), where, "update_time")
    status = raw.get("status")
    model = metadata.get("model_slug")
    return DocMessage(
        id=new_id,
        parent_id=parent_id,
        role=_ROLES[role],
        content=text,
        reasoning=reasoning,
        status=_STATUS.get(status, "done") if isinstance(status, str) else "done",
        model=model if isinstance(model, str) and model else None,
        created_at=created if created is not None else parent_time,
        updated_at=updated if updated is not None else created,
    )


def _text(content: Mapping[str, Any], where: str) -> tuple[str, str]:
    """(text, reasoning) of one message's content, by its content_type."""
    kind = content.get("content_type")
    if kind == "thoughts":
        return "", _thoughts(content.get("thoughts"), where)
    if kind in ("code", "execution_output"):
        body = content.get("text")
        return (_fenced(body, content.get("language")) if isinstance(body, str) else ""), ""
    if kind == "tether_quote":
        pieces = [content.get(name) for name in ("text", "title", "url")]
        return "\n\n".join(p for p in pieces if isinstance(p, str) and p), ""
    if "parts" in content:
        return _parts(content["parts"], where), ""
    for name in ("text", "result"):
        if isinstance(content.get(name), str):
            return str(content[name]), ""
    return f"[{kind or 'unknown'} content not included]", ""


def _parts(parts: object, where: str) -> str:
    if not isinstance(parts, list):
        raise ImportFormatError(f"{where}: content parts are not a list")
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            if part:
                pieces.append(part)
        elif isinstance(part, dict) and "pointer" in str(part.get("content_type", "")):
            pieces.append(
                IMAGE_NOTE if "image" in str(part["content_type"]) else "[file not included]"
            )
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        elif part is not None:
            pieces.append("[attachment not included]")
    return "\n\n".join(pieces)


def _thoughts(thoughts: object, where: str) -> str:
    if not isinstance(thoughts, list):
        raise ImportFormatError(f"{where}: thoughts are not a list")
    pieces: list[str] = []
    for thought in thoughts:
        if not isinstance(thought, dict):
            continue
        summary, body = thought.get("summary"), thought.get("content")
        if isinstance(summary, str) and summary:
            pieces.append(f"**{summary}**")
        if isinstance(body, str) and body:
            pieces.append(body)
    return "\n\n".join(pieces)


def _fenced(body: str, language: object) -> str:
    # "unknown" is what ChatGPT writes when it did not name one.
    known = isinstance(language, str) and language.isalnum() and language != "unknown"
    tag = str(language) if known else ""
    fence = "```"
    while fence in body:
        fence += "`"
    return f"{fence}{tag}\n{body}\n{fence}"


def _fold_thoughts(kept: list[_Kept], leaf: int | None) -> tuple[list[DocMessage], int | None]:
    """A thoughts-only answer whose one child is the answer joins it as its reasoning, as it
    was shown. Ids are renumbered densely afterwards, in the same (tree) order."""
    removed: dict[int, DocMessage] = {}  # folded id -> the message that took it in
    for entry in kept:
        message = entry.message
        # Ids are still the kept list's positions (1-based); a parent folded earlier into
        # its own parent already carries that one's parent_id and reasoning.
        parent = kept[message.parent_id - 1] if message.parent_id is not None else None
        if (
            parent is not None
            and message.role == "assistant"
            and parent.message.role == "assistant"
            and not parent.message.content
            and parent.child_count == 1
        ):
            reasoning = "\n\n".join(r for r in (parent.message.reasoning, message.reasoning) if r)
            entry.message = replace(
                message, parent_id=parent.message.parent_id, reasoning=reasoning
            )
            removed[parent.message.id] = entry.message
    renumber: dict[int, int] = {}
    result: list[DocMessage] = []
    for entry in kept:
        if entry.message.id in removed:
            continue
        renumber[entry.message.id] = len(result) + 1
        parent_id = entry.message.parent_id
        result.append(
            replace(
                entry.message,
                id=renumber[entry.message.id],
                parent_id=renumber[parent_id] if parent_id is not None else None,
            )
        )
    while leaf is not None and leaf in removed:
        leaf = removed[leaf].id
    return result, renumber.get(leaf) if leaf is not None else None
