"""Import: our JSON export or ChatGPT's conversations.json, merged into the history.

The file is read, parsed and checked whole before anything is written (history_json.py,
chatgpt_import.py), then every conversation goes in within one transaction: a malformed file
is refused with a message that says where, and a failure while writing (the disk full)
leaves the history as it was.

Import merges. A conversation is known by where it came from: (source, source_id), e.g.
("chatgpt", its id). One already in the history is left exactly as it is, never overwritten
nor added twice, so importing the same file again changes nothing. A conversation made in
Deltadesk has no source; exported and imported elsewhere it becomes source "deltadesk" with
a source_id made of its creation time and id, which is stable across exports. Imported back
into the history it was exported from, it is recognised as the very conversation (same id,
same creation time) and skipped.

A conversation comes in with its pin and its settings (system prompt, temperature, ...), and
each answer with how long the model thought, where the file has them (our format version 2).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from deltadesk.core.chatgpt_import import looks_like_chatgpt, parse_chatgpt
from deltadesk.core.history_document import (
    MESSAGE_DETAIL_FIELDS,
    DocConversation,
    DocMessage,
    ImportFormatError,
)
from deltadesk.core.history_json import looks_like_ours, parse_ours
from deltadesk.core.store import Store

__all__ = [
    "MAX_IMPORT_BYTES",
    "ImportFormatError",
    "ImportResult",
    "import_documents",
    "parse_import",
    "read_import_file",
]

MAX_IMPORT_BYTES = 200 * 1024 * 1024
OWN_SOURCE = "deltadesk"
_DEFAULTS = DocMessage(id=0, parent_id=None, role="user", content="")


@dataclass(frozen=True, slots=True)
class ImportResult:
    conversations: int  # added to the history
    messages: int
    already_there: int  # found by their source, left as they were


def read_import_file(path: Path | None, stdin: BinaryIO | None = None) -> bytes:
    """The file's bytes (stdin when `path` is None); ImportFormatError past the size limit.
    OSError (missing, unreadable) goes to the caller, who names the file."""
    if path is None:
        if stdin is None:
            raise ImportFormatError("there is no standard input to read")
        return _bounded(stdin)
    with open(path, "rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if stat.S_ISREG(mode) and os.fstat(file.fileno()).st_size > MAX_IMPORT_BYTES:
            raise ImportFormatError(_too_big())
        return _bounded(file)


def _bounded(stream: BinaryIO) -> bytes:
    data = stream.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFormatError(_too_big())
    return data


def _too_big() -> str:
    return f"the file is over the {MAX_IMPORT_BYTES // (1024 * 1024)} MB import limit"


def parse_import(data: bytes) -> list[DocConversation]:
    """Every conversation of an export, checked; ImportFormatError says what is wrong."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"the file is not UTF-8 text (byte {exc.start})") from None
    try:
        parsed = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ImportFormatError("the file is not valid JSON: it is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or a number too long to read
        raise ImportFormatError(f"the file is not valid JSON: {exc}") from None
    if looks_like_ours(parsed):
        return parse_ours(parsed)
    if looks_like_chatgpt(parsed):
        return parse_chatgpt(parsed)
    raise ImportFormatError(
        "the file is neither a Deltadesk export nor ChatGPT's conversations.json"
    )


def _no_constant(name: str) -> object:
    raise ImportFormatError(f"the file is not valid JSON: it holds {name}")


def identity(conversation: DocConversation) -> tuple[str, str]:
    """(source, source_id): how an imported conversation is known."""
    if conversation.source is not None and conversation.source_id is not None:
        return conversation.source, conversation.source_id
    return OWN_SOURCE, f"{conversation.created_at!r}/{conversation.id}"


def import_documents(store: Store, conversations: Sequence[DocConversation]) -> ImportResult:
    """Adds the conversations not yet in the history, all in one transaction.

    StoreWriteError (read-only, busy, full) leaves the history as it was."""
    added = messages = already = 0
    with store.transaction():
        for conversation in conversations:
            if _already_there(store, conversation):
                already += 1
                continue
            messages += _add(store, conversation)
            added += 1
    return ImportResult(conversations=added, messages=messages, already_there=already)


def _already_there(store: Store, conversation: DocConversation) -> bool:
    if store.find_conversation_by_source(*identity(conversation)) is not None:
        return True
    if conversation.source is not None or conversation.id is None:
        return False
    same_id = store.get_conversation(conversation.id)  # exported from this very history?
    return (
        same_id is not None
        and same_id.source is None
        and same_id.created_at == conversation.created_at
    )


def _add(store: Store, conversation: DocConversation) -> int:
    source, source_id = identity(conversation)
    made = store.create_conversation(
        conversation.title,
        source=source,
        source_id=source_id,
        created_at=conversation.created_at,
        settings=conversation.settings,
    )
    if conversation.pinned:
        store.set_pinned(made.id, True)  # not chat activity: updated_at stays
    new_ids: dict[int, int] = {}
    for message in conversation.messages:  # parents come first
        parent = None if message.parent_id is None else new_ids[message.parent_id]
        stored = store.add_message(
            made.id,
            message.role,
            message.content,
            parent_id=parent,
            status=message.status,
            profile=message.profile,
            model=message.model,
            created_at=message.created_at,
        )
        new_ids[message.id] = stored.id
        details = _details(message)
        updated = message.updated_at
        if details or (updated is not None and updated != stored.updated_at):
            # The file's own time, not now: an imported chat keeps its place in the list.
            store.update_message(stored.id, updated_at=updated or stored.updated_at, **details)
    leaf = (
        new_ids.get(conversation.active_leaf_id)
        if conversation.active_leaf_id is not None
        else None
    )
    if leaf is not None:
        store.set_active_leaf(made.id, leaf)
    return len(new_ids)


def _details(message: DocMessage) -> dict[str, object]:
    """What add_message cannot set: reasoning and the figures that differ from a default."""
    details: dict[str, object] = {"reasoning": message.reasoning} if message.reasoning else {}
    for name in MESSAGE_DETAIL_FIELDS:
        if name in ("status", "profile", "model"):
            continue
        value = getattr(message, name)
        if value != getattr(_DEFAULTS, name):
            details[name] = value
    return details
