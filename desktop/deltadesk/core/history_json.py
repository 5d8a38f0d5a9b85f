"""Deltadesk's own history file: `{"format": "deltadesk-history", "version": 2, ...}`.

Written by `history export --format json`, read back by `history import`. It holds the whole
tree of each conversation (every branch, the active leaf), reasoning and how long it took,
statuses, figures, the profile and model names, and each conversation's pin and settings
(system prompt, temperature, max tokens, reasoning effort, profile, model). Never a key: the
history holds none to begin with, and the settings are written field by field from a fixed
list (SETTINGS_KEYS), so a field added to them later is not exported unseen.

Version 1 (before pins, settings and reasoning times) is read too: those are the defaults.
What version 2 added is read tolerantly, as the settings column is: a bad value is the
default, never a refusal.

The text is JSON with non-ASCII kept readable, but with every control character escaped
(C1 controls and DEL included, which json.dumps leaves raw), so the file can be shown on a
terminal as it is, and its meaning is unchanged.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from typing import Any

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.errors import ErrorKind
from deltadesk.core.history_document import (
    DEFAULT_SETTINGS,
    DocConversation,
    DocMessage,
    ImportFormatError,
)
from deltadesk.core.migrations import MESSAGE_STATUSES, ROLES

FORMAT = "deltadesk-history"
VERSION = 2  # 2: pinned, settings, reasoning_ms
CONVERSATION_KEYS = (
    "id",
    "title",
    "created_at",
    "updated_at",
    "active_leaf_id",
    "source",
    "source_id",
    "pinned",
)
# The settings written, in this order; null: the profile's default.
SETTINGS_KEYS = ("system", "temperature", "max_tokens", "reasoning_effort", "profile", "model")
MESSAGE_KEYS = tuple(f.name for f in fields(DocMessage))
_LARGEST = 2**63 - 1  # SQLite's INTEGER
_ERROR_KINDS = frozenset(kind.value for kind in ErrorKind)
# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal would obey or choke on.
_ESCAPES = {code: f"\\u{code:04x}" for code in (0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)}


def looks_like_ours(data: object) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def to_json(conversations: Sequence[DocConversation]) -> str:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "conversations": [_conversation_object(c) for c in conversations],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).translate(_ESCAPES) + "\n"


def _conversation_object(conversation: DocConversation) -> dict[str, Any]:
    shown = {key: getattr(conversation, key) for key in CONVERSATION_KEYS}
    shown["settings"] = {key: getattr(conversation.settings, key) for key in SETTINGS_KEYS}
    shown["messages"] = [asdict(message) for message in conversation.messages]
    return shown


# -- reading -------------------------------------------------------------------------------


def parse_ours(data: Mapping[str, Any]) -> list[DocConversation]:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ImportFormatError("the file has no format version")
    if version < 1:
        raise ImportFormatError(f"the file is format version {version}, which never existed")
    if version > VERSION:
        raise ImportFormatError(
            f"the file is format version {version}, from a newer Deltadesk (this one reads "
            f"version {VERSION})"
        )
    conversations = data.get("conversations")
    if not isinstance(conversations, list):
        raise ImportFormatError("the file has no list of conversations")
    return [_conversation(item, index) for index, item in enumerate(conversations, 1)]


def _conversation(item: object, index: int) -> DocConversation:
    where = f"conversation {index}"
    if not isinstance(item, dict):
        raise ImportFormatError(f"{where} is not an object")
    read = _Reader(item, where)
    messages = item.get("messages")
    if not isinstance(messages, list):
        raise ImportFormatError(f"{where} has no list of messages")
    parsed = [_message(raw, f"{where}, message {n}") for n, raw in enumerate(messages, 1)]
    ordered = _parents_first(parsed, where)
    active = read.integer("active_leaf_id")
    if active is not None and active not in {m.id for m in ordered}:
        raise ImportFormatError(f"{where}: active_leaf_id is not one of its messages")
    source, source_id = read.text("source"), read.text("source_id")
    if (source is None) != (source_id is None):
        raise ImportFormatError(f"{where}: source and source_id go together")
    created = read.number("created_at", required=True)
    assert created is not None
    return DocConversation(
        id=read.integer("id"),
        title=read.text("title") or "",
        created_at=created,
        updated_at=read.number("updated_at") or created,
        active_leaf_id=active,
        source=source,
        source_id=source_id,
        messages=tuple(ordered),
        pinned=item.get("pinned") is True,
        settings=_settings(item.get("settings")),
    )


def _settings(raw: object) -> ConversationSettings:
    """The conversation's settings; each bad value (and a settings that is no object) is the
    default, as when the history's own column is read."""
    if not isinstance(raw, dict):
        return DEFAULT_SETTINGS
    return ConversationSettings.from_mapping({k: raw.get(k) for k in SETTINGS_KEYS})


def _message(raw: object, where: str) -> DocMessage:
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where} is not an object")
    read = _Reader(raw, where)
    role = read.text("role")
    if role not in ROLES:
        raise ImportFormatError(f"{where}: role must be one of {', '.join(ROLES)}")
    status = read.text("status") or "done"
    if status not in MESSAGE_STATUSES:
        raise ImportFormatError(f"{where}: unknown status {status[:40]!r}")
    error_kind = read.text("error_kind")
    if error_kind is not None and error_kind not in _ERROR_KINDS:
        raise ImportFormatError(f"{where}: unknown error_kind {error_kind[:40]!r}")
    message_id = read.integer("id", required=True)
    assert message_id is not None
    return DocMessage(
        id=message_id,
        parent_id=read.integer("parent_id"),
        role=role,
        content=read.text("content") or "",
        reasoning=read.text("reasoning") or "",
        # An answer exported mid-stream can never be finished by this history.
        status="interrupted" if status == "streaming" else status,
        error_kind=error_kind,
        error_message=read.text("error_message"),
        profile=read.text("profile"),
        model=read.text("model"),
        prompt_tokens=read.integer("prompt_tokens"),
        completion_tokens=read.integer("completion_tokens"),
        reasoning_tokens=read.integer("reasoning_tokens"),
        ttft_ms=read.number("ttft_ms"),
        reasoning_ms=_duration(raw.get("reasoning_ms")),
        tokens_per_second=read.number("tokens_per_second"),
        estimated_tokens=read.integer("estimated_tokens"),
        created_at=read.number("created_at"),
        updated_at=read.number("updated_at"),
    )


def _duration(value: object) -> float | None:
    """A time in ms (reasoning_ms); anything but a finite number >= 0 is unknown (None)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        ms = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return ms if math.isfinite(ms) and ms >= 0 else None


def _parents_first(messages: list[DocMessage], where: str) -> list[DocMessage]:
    """The messages with every parent before its children, otherwise in id order (which is
    the order they were made, so an import keeps the history's own order); ImportFormatError
    for a repeated id, a missing parent, or a loop. No recursion."""
    by_id: dict[int, DocMessage] = {}
    for message in messages:
        if message.id in by_id:
            raise ImportFormatError(f"{where}: message id {message.id} is used twice")
        by_id[message.id] = message
    children: dict[int | None, list[int]] = {}
    for message in messages:
        if message.parent_id is not None and message.parent_id not in by_id:
            raise ImportFormatError(
                f"{where}: message {message.id} has parent {message.parent_id}, which is not there"
            )
        children.setdefault(message.parent_id, []).append(message.id)
    ordered: list[DocMessage] = []
    ready = list(children.get(None, []))
    heapq.heapify(ready)
    while ready:
        message = by_id[heapq.heappop(ready)]
        ordered.append(message)
        for child in children.get(message.id, []):
            heapq.heappush(ready, child)
    if len(ordered) != len(messages):
        raise ImportFormatError(f"{where}: its messages' parents form a loop")
    return ordered


class _Reader:
    """Typed fields of one JSON object, each wrong type named in an ImportFormatError."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where

    def _value(self, key: str, required: bool) -> Any:
        value = self.raw.get(key)
        if value is None and required:
            raise ImportFormatError(f"{self.where} has no {key}")
        return value

    def text(self, key: str) -> str | None:
        value = self._value(key, False)
        if value is not None and not isinstance(value, str):
            raise ImportFormatError(f"{self.where}: {key} is not text")
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self._value(key, required)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or abs(value) > _LARGEST
        ):
            raise ImportFormatError(f"{self.where}: {key} is not a whole number SQLite can hold")
        return value

    def number(self, key: str, *, required: bool = False) -> float | None:
        value = self._value(key, required)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _LARGEST:
            return float(value)
        if not isinstance(value, float) or not math.isfinite(value):
            raise ImportFormatError(f"{self.where}: {key} is not a number")
        return float(value)
