"""Storage faults met by the real app and `ask`, as processes: a read-only data folder, a
damaged history, a data folder that cannot be made, and the log's privacy. Never a traceback;
what is stored is left as it was."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.modes import obeying_modes
from tests.core.test_store_faults import make_damaged_history
from tests.sse_script import answer_chunks, streaming
from tests.test_app_quit import run_app_and_quit
from tests.test_ask import deltadesk, process_env


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def read_only_home(tmp_path: Path, serve: Any) -> Iterator[Path]:
    """A data folder with one answer in its history, then made read-only (folder and files)."""
    home = tmp_path / "home"
    url = serve(streaming(answer_chunks(["stored before"]))).base_url
    first = deltadesk("ask", "--base-url", url, "--model", "m", "earlier", data_dir=home)
    assert first.returncode == 0, first.stderr
    for path in home.iterdir():
        path.chmod(0o444)
    home.chmod(0o555)
    yield home
    home.chmod(0o700)
    for path in home.iterdir():
        path.chmod(0o600)


def ask_without_root_powers(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*obeying_modes(), sys.executable, "-m", "deltadesk", "ask", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=process_env(home),
    )


def test_ask_with_a_read_only_history_says_so_and_answers(read_only_home: Path, serve: Any) -> None:
    before = digest(read_only_home / "history.sqlite3")
    url = serve(streaming(answer_chunks(["still ", "answered"]))).base_url
    result = ask_without_root_powers(read_only_home, "--base-url", url, "--model", "m", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "still answered\n"
    assert "read-only" in result.stderr and "not saved" in result.stderr
    assert "Traceback" not in result.stderr
    assert digest(read_only_home / "history.sqlite3") == before


def test_the_window_with_a_read_only_history_shows_a_banner_and_streams(
    tmp_path: Path, read_only_home: Path, serve: Any
) -> None:
    before = digest(read_only_home / "history.sqlite3")
    url = serve(streaming(answer_chunks(["shown ", "not saved"]))).base_url
    result = run_app_and_quit(
        tmp_path, "report", url, data_dir=read_only_home, prefix=obeying_modes()
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    banner = next(line for line in result.stdout.splitlines() if line.startswith("banner:"))
    assert "read-only" in banner and "not saved" in banner
    view = next(line for line in result.stdout.splitlines() if line.startswith("view:"))
    assert "shown not saved" in view
    assert digest(read_only_home / "history.sqlite3") == before


def test_ask_with_a_damaged_history_fails_clearly(tmp_path: Path) -> None:
    make_damaged_history(tmp_path / "history.sqlite3")
    before = digest(tmp_path / "history.sqlite3")
    result = deltadesk("ask", "hello", data_dir=tmp_path)
    assert result.returncode == 1
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert digest(tmp_path / "history.sqlite3") == before


def test_the_window_with_a_damaged_history_shows_a_dialog_and_exits_1(
    tmp_path: Path, serve: Any
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    make_damaged_history(home / "history.sqlite3")
    url = serve(streaming(answer_chunks(["never"]))).base_url
    result = run_app_and_quit(tmp_path, "idle", url)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    dialog = next(line for line in result.stdout.splitlines() if line.startswith("dialog:"))
    assert "cannot open its history" in dialog and "damaged" in dialog
    assert dialog.endswith("| plain")  # the message names a path: shown literally


def test_a_data_folder_that_cannot_be_made_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    result = deltadesk("--data-dir", str(blocker / "home"), "ask", "hi", data_dir=tmp_path)
    assert result.returncode == 1
    assert "data folder" in result.stderr and "Traceback" not in result.stderr


def test_the_log_is_private(tmp_path: Path, serve: Any) -> None:
    url = serve(streaming(answer_chunks(["ok"]))).base_url
    result = deltadesk("ask", "--base-url", url, "--model", "m", "hi", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    log = tmp_path / "deltadesk.log"
    assert log.exists()
    if os.name == "posix":
        assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_log_widened_by_an_older_version_is_made_private(tmp_path: Path, serve: Any) -> None:
    log = tmp_path / "deltadesk.log"
    log.write_text("older lines\n")
    log.chmod(0o644)
    url = serve(streaming(answer_chunks(["ok"]))).base_url
    assert (
        deltadesk("ask", "--base-url", url, "--model", "m", "hi", data_dir=tmp_path).returncode == 0
    )
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_text().startswith("older lines\n")


def test_the_window_in_an_empty_read_only_folder_starts_and_streams(
    tmp_path: Path, serve: Any
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)  # not even a history file can be made
    url = serve(streaming(answer_chunks(["from ", "memory"]))).base_url
    try:
        result = run_app_and_quit(tmp_path, "report", url, data_dir=home, prefix=obeying_modes())
    finally:
        home.chmod(0o700)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "read-only" in next(line for line in result.stdout.splitlines() if "banner:" in line)
    assert "from memory" in next(line for line in result.stdout.splitlines() if "view:" in line)
    assert list(home.iterdir()) == []
