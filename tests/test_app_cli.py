"""The global options (--data-dir, --verbose) work before or after a subcommand."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from deltadesk.cli import parse_args
from tests.sse_script import answer_chunks, streaming
from tests.test_ask import deltadesk


def stored_prompts(data_dir: Path) -> list[str]:
    db_path = data_dir / "history.sqlite3"
    if not db_path.exists():
        return []
    with sqlite3.connect(db_path) as db:
        return [row[0] for row in db.execute("SELECT content FROM messages WHERE role = 'user'")]


@pytest.mark.parametrize("before", [True, False], ids=["before ask", "after ask"])
def test_data_dir_is_used_in_either_position(tmp_path: Path, serve: Any, before: bool) -> None:
    url = serve(streaming(answer_chunks(["fine"]))).base_url
    chosen, elsewhere = tmp_path / "chosen", tmp_path / "elsewhere"
    data_dir = ["--data-dir", str(chosen)]
    ask = ["ask", "--base-url", url, "--model", "m", "where am I"]
    argv = [*data_dir, *ask] if before else [ask[0], *data_dir, *ask[1:]]
    # DELTADESK_HOME points elsewhere: the option must win over it, wherever it is written.
    result = deltadesk(*argv, data_dir=elsewhere)
    assert result.returncode == 0, result.stderr
    assert stored_prompts(chosen) == ["where am I"]
    assert stored_prompts(elsewhere) == []


def test_an_empty_data_dir_is_a_usage_error(tmp_path: Path) -> None:
    for argv in (["--data-dir", "", "ask", "hi"], ["ask", "--data-dir", "", "hi"]):
        result = deltadesk(*argv, data_dir=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "--data-dir" in result.stderr and "Traceback" not in result.stderr
    assert list(Path.cwd().glob("history.sqlite3")) == []


@pytest.mark.parametrize(
    ("argv", "data_dir", "verbose"),
    [
        (["ask", "hi"], None, False),
        (["--verbose", "ask", "hi"], None, True),
        (["ask", "--verbose", "hi"], None, True),
        (["--data-dir", "A", "ask", "--verbose", "hi"], "A", True),
        (["--verbose", "ask", "--data-dir", "B", "hi"], "B", True),
        (["--data-dir", "A", "ask", "--data-dir", "B", "hi"], "B", False),  # the later wins
        (["--data-dir", "A"], "A", False),
    ],
)
def test_global_options_parse_the_same_in_both_positions(
    argv: list[str], data_dir: str | None, verbose: bool
) -> None:
    args = parse_args(argv)
    assert (args.data_dir, args.verbose) == (data_dir, verbose)
