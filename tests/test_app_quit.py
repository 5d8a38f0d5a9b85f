"""Quitting the real app: `app.main` in its own process, offscreen, driven through its window.

The driver below wraps shell.build_window (as run_gui calls it) to point the window at a
test server, send a prompt and then trigger the window's own Quit action (Ctrl+Q), exactly
what a user does. The process must exit 0 with no traceback, and the history must say what
happened to the answer.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.sse_script import answer_chunks, endless, streaming
from tests.test_ask import process_env

DRIVER = """
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from deltadesk import app, shell
from deltadesk.core.profiles import Profile


def shown(box):  # a modal dialog would wait forever: report it instead
    plain = box.textFormat() == Qt.TextFormat.PlainText
    text = box.text().replace("\\n", " ")
    print("dialog:", box.windowTitle(), "|", text, "| plain" if plain else "", flush=True)
    return QMessageBox.StandardButton.Ok


QMessageBox.exec = shown

data_dir, scenario, url = sys.argv[1:4]
build_window = shell.build_window


def press_quit(window):
    if not window.isVisible():  # once is enough
        return
    (quit_action,) = [a for a in window.actions() if a.text() == "Quit"]
    print("quitting", flush=True)
    quit_action.trigger()


def later(ms, action):
    QTimer.singleShot(ms, action)


def driven(*args, **kwargs):
    deltadesk = build_window(*args, **kwargs)
    profiles = deltadesk.services.profiles
    profiles.upsert(Profile(name="Test", base_url=url, model="m", max_attempts=1,
                            first_chunk_timeout=30.0))
    profiles.set_active("Test")
    window, controller = deltadesk.window, deltadesk.controller
    if scenario == "idle":
        later(300, lambda: press_quit(window))
    elif scenario == "after an answer":
        controller.finished.connect(lambda *_: later(100, lambda: press_quit(window)))
        later(300, lambda: window.prompt_submitted.emit("hi"))
    elif scenario == "report":  # what the window shows after one answer, then quit
        def report(*_):
            print("banner:", window.banner_label.text(), flush=True)
            print("view:", window.chat_view.toPlainText().replace("\\n", " "), flush=True)
            later(100, lambda: press_quit(window))

        controller.finished.connect(report)
        controller.failed.connect(report)
        later(300, lambda: window.prompt_submitted.emit("hi"))
    else:  # mid-answer: quit once the first words are on screen
        controller.text_appended.connect(lambda *_: later(200, lambda: press_quit(window)))
        later(300, lambda: window.prompt_submitted.emit("hi"))
    return deltadesk


shell.build_window = driven
sys.exit(app.main(["--data-dir", data_dir]))
"""


def run_app_and_quit(
    tmp_path: Path,
    scenario: str,
    url: str,
    *,
    data_dir: Path | None = None,
    prefix: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Runs the app (`prefix` before the interpreter, e.g. setpriv) through a scenario."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    data_dir = data_dir or tmp_path / "home"
    return subprocess.run(
        [*prefix, sys.executable, str(driver), str(data_dir), scenario, url],
        capture_output=True,
        text=True,
        timeout=60,
        env=process_env(data_dir),
    )


def answers(data_dir: Path) -> list[tuple[str, str | None, str | None, str]]:
    with sqlite3.connect(data_dir / "history.sqlite3") as db:
        return db.execute(
            "SELECT status, error_kind, error_message, content FROM messages"
            " WHERE role = 'assistant'"
        ).fetchall()


@pytest.mark.parametrize("scenario", ["idle", "after an answer"])
def test_quit_exits_0_without_a_traceback(tmp_path: Path, serve: Any, scenario: str) -> None:
    server = serve(streaming(answer_chunks(["Hello ", "there"])))
    result = run_app_and_quit(tmp_path, scenario, server.base_url)
    assert "quitting" in result.stdout  # the quit really came through the window
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    expected = [] if scenario == "idle" else [("done", None, None, "Hello there")]
    assert answers(tmp_path / "home") == expected


def test_quit_mid_answer_keeps_the_partial_as_interrupted(tmp_path: Path, serve: Any) -> None:
    server = serve(endless(words_per_second=100))
    result = run_app_and_quit(tmp_path, "mid-answer", server.base_url)
    assert "quitting" in result.stdout
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    ((status, kind, message, content),) = answers(tmp_path / "home")
    assert (status, kind) == ("interrupted", "other")
    assert message == "Interrupted: Deltadesk was closed during the answer"
    assert content.startswith("word0 ")
    assert server.wait_for_disconnect(5.0)  # the stream was closed, not left to run on
