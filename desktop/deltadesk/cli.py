"""The command line: global options, which work before or after any subcommand, and the
subcommands themselves.

argparse gives an option defined on both the main parser and a subparser the subparser's
default whenever the subcommand is used without it, silently dropping a value given before
the subcommand (`deltadesk --data-dir D ask …` used the real history). So a subparser's copy
of a global option has no default at all (argparse.SUPPRESS): it only sets the value when it
is actually given there.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def data_dir_value(text: str) -> str:
    """An empty --data-dir would silently mean the current directory: refuse it."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a directory (it is empty)")
    return text


def add_global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """--data-dir and --verbose; a subcommand's copies only set what is given there."""
    unset: object = argparse.SUPPRESS
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=data_dir_value,
        default=unset if in_subcommand else None,
        help="keep history, profiles and the log under DIR",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        default=unset if in_subcommand else False,
        help="debug logging",
    )


def conversation_id(text: str) -> int:
    """A conversation id as `history list` shows it: a whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a conversation id (see: history list)")
    return value


def add_history_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`deltadesk history list|show|export|import|search` (run by history_cli.py)."""
    history = commands.add_parser("history", help="list, show, export, import or search chats")
    add_global_options(history, in_subcommand=True)
    actions = history.add_subparsers(
        dest="history_command", required=True, metavar="{list,show,export,import,search}"
    )

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text, description=help_text)
        add_global_options(parser, in_subcommand=True)
        return parser

    listing = action("list", "one line per conversation: id, updated, messages, title")
    listing.add_argument("--json", action="store_true", help="a JSON list instead")
    show = action("show", "print a conversation's active path")
    show.add_argument("id", metavar="ID", type=conversation_id)
    export = action("export", "write one conversation, or all, as JSON or Markdown")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("id", metavar="ID", nargs="?", type=conversation_id)
    which.add_argument("--all", action="store_true", help="every conversation")
    export.add_argument(
        "--format",
        choices=("json", "md"),
        help="json: the whole tree (importable); md: the active path (default: from the "
        "-o file's suffix, else json)",
    )
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    imports = action("import", "add the chats of our JSON or ChatGPT's conversations.json")
    imports.add_argument("file", metavar="FILE", help="the file ('-' reads standard input)")
    search = action(
        "search", "messages (every branch) and titles with every word of QUERY, best first"
    )
    search.add_argument("query", metavar="QUERY", nargs="+")
    search.add_argument("--json", action="store_true", help="a JSON list instead")
    search.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N hits (default 50)"
    )


def build_parser() -> argparse.ArgumentParser:
    from deltadesk.ask import add_ask_arguments

    parser = argparse.ArgumentParser(
        prog="deltadesk", description="A desktop client for streaming LLM answers."
    )
    add_global_options(parser, in_subcommand=False)
    parser.add_argument("--self-test", action="store_true", help="stream one demo answer offscreen")
    commands = parser.add_subparsers(dest="command")
    ask = commands.add_parser("ask", help="stream one answer to standard output")
    add_global_options(ask, in_subcommand=True)
    add_ask_arguments(ask)
    add_history_commands(commands)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)
