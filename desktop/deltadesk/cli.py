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
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)
