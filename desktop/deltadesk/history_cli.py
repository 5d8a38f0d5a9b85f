"""`deltadesk history list|show|export|import|search`: the history on the command line.

No Qt, no network. Exit codes: 0 done, 1 a file or data problem (no such conversation, a
file that cannot be read or written, a malformed import, a damaged or read-only history),
2 a usage error (argparse's own). Every problem is one line on stderr, never a traceback.

Text from the history is outside text: what goes to a terminal loses its control characters
(ask_output.SafeStream), and titles in `list` always do, their tabs and newlines becoming
spaces, so one conversation is always one tab-separated line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deltadesk.ask_output import SafeStream, never_fail_to_encode
from deltadesk.core.exporters import documents, one_line, to_json, to_markdown
from deltadesk.core.history_document import ImportFormatError
from deltadesk.core.importers import import_documents, parse_import, read_import_file
from deltadesk.core.paths import AppPaths, create_private_file
from deltadesk.core.store import Conversation, SearchHit, Store, StoreError
from deltadesk.core.text_safety import replace_lone_surrogates, strip_control_chars

EXIT_DONE = 0
EXIT_PROBLEM = 1


class HistoryProblem(Exception):
    """Something the user can act on; said on stderr, exit 1."""


def run_history(args: argparse.Namespace, paths: AppPaths) -> int:
    never_fail_to_encode(sys.stdout)
    never_fail_to_encode(sys.stderr)
    errors = SafeStream(sys.stderr)
    command: Callable[[Store, argparse.Namespace], None] = COMMANDS[args.history_command]
    try:
        # A slow upgrade (building the search index of a large history) says how it goes.
        with Store(paths.db, progress=lambda text: errors.note(f"deltadesk: {text}")) as store:
            command(store, args)
    except (HistoryProblem, StoreError) as exc:
        errors.note(f"deltadesk history {args.history_command}: {exc}")
        return EXIT_PROBLEM
    except BrokenPipeError:  # `deltadesk history list | head`: the reader has had enough
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (so the exit flush cannot fail)
    return EXIT_DONE


def iso_time(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def clean_title(title: str) -> str:
    return one_line(strip_control_chars(replace_lone_surrogates(title)))


def _out() -> SafeStream:
    return SafeStream(sys.stdout)


def _write_json(value: Any) -> None:
    # ensure_ascii: every control character of outside text arrives escaped.
    _out().write(json.dumps(value, ensure_ascii=True, indent=1) + "\n")


def _conversation(store: Store, conversation_id: int) -> Conversation:
    found = store.get_conversation(conversation_id)
    if found is None:
        raise HistoryProblem(f"there is no conversation {conversation_id} (see: history list)")
    return found


# -- the commands ------------------------------------------------------------------------


def list_command(store: Store, args: argparse.Namespace) -> None:
    counts = store.message_counts()  # one query, no text read
    rows = [(c, counts.get(c.id, 0)) for c in store.list_conversations()]
    if args.json:
        _write_json([_listed(conversation, count) for conversation, count in rows])
        return
    out = _out()
    for conversation, count in rows:
        title = clean_title(conversation.title)
        out.write(f"{conversation.id}\t{iso_time(conversation.updated_at)}\t{count}\t{title}\n")


def _listed(conversation: Conversation, count: int) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": iso_time(conversation.created_at),
        "updated_at": iso_time(conversation.updated_at),
        "messages": count,
        "source": conversation.source,
        "source_id": conversation.source_id,
        "pinned": conversation.pinned,
    }


def show_command(store: Store, args: argparse.Namespace) -> None:
    conversation = _conversation(store, args.id)
    _out().write(to_markdown(documents(store, [conversation]), branch_notes=True))


def export_command(store: Store, args: argparse.Namespace) -> None:
    chosen = store.list_conversations() if args.all else [_conversation(store, args.id)]
    chosen.sort(key=lambda conversation: conversation.id)  # the order they were made
    form = args.format or ("md" if str(args.output or "").endswith(".md") else "json")
    docs = documents(store, chosen)
    text = to_json(docs) if form == "json" else to_markdown(docs)
    if args.output in (None, "-"):
        _out().write(text)
        return
    _write_file(Path(args.output), text)
    SafeStream(sys.stderr).note(f"Exported {len(docs)} conversation(s) to {args.output}.")


def _write_file(path: Path, text: str) -> None:
    """Written whole or not at all (a temporary file renamed), readable by its owner only:
    an export holds the whole history."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        create_private_file(partial)
        with open(partial, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)
    except OSError as exc:
        if partial.exists():
            partial.unlink(missing_ok=True)
        raise HistoryProblem(f"cannot write {path}: {exc.strerror or exc}") from None


def import_command(store: Store, args: argparse.Namespace) -> None:
    name = args.file
    try:
        stdin = getattr(sys.stdin, "buffer", None)
        data = read_import_file(None if name == "-" else Path(name), stdin)
        conversations = parse_import(data)
    except OSError as exc:
        raise HistoryProblem(f"cannot read {name}: {exc.strerror or exc}") from None
    except ImportFormatError as exc:
        raise HistoryProblem(f"{name} was not imported: {exc}. Nothing was changed.") from None
    if store.read_only:
        raise HistoryProblem("the history is read-only; nothing was imported")
    result = import_documents(store, conversations)
    said = f"Imported {result.conversations} conversation(s), {result.messages} message(s)"
    if result.already_there:
        said += f"; {result.already_there} already in the history, left as they were"
    _out().write(said + ".\n")


def search_command(store: Store, args: argparse.Namespace) -> None:
    """Full-text search, best first: one tab-separated line per hit (conversation id,
    message id or '-' for a title hit, the time, the title, the snippet), or a JSON list."""
    hits = store.search_hits(" ".join(args.query), limit=args.limit)
    if args.json:
        _write_json([_hit(hit) for hit in hits])
        return
    out = _out()
    for hit in hits:
        message = "-" if hit.message_id is None else str(hit.message_id)
        fields = (str(hit.conversation_id), message, iso_time(hit.updated_at))
        texts = (clean_title(hit.title), clean_title(hit.snippet))
        out.write("\t".join((*fields, *texts)) + "\n")


def _hit(hit: SearchHit) -> dict[str, Any]:
    return {
        "conversation_id": hit.conversation_id,
        "message_id": hit.message_id,
        "role": hit.role,
        "title": hit.title,
        "snippet": hit.snippet,
        "highlights": [list(pair) for pair in hit.highlights],
        "updated_at": iso_time(hit.updated_at),
    }


COMMANDS: dict[str, Callable[[Store, argparse.Namespace], None]] = {
    "list": list_command,
    "show": show_command,
    "export": export_command,
    "import": import_command,
    "search": search_command,
}
