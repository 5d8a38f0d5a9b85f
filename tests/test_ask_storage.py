"""`deltadesk ask` with a history locked by another process: the answer streams on, it is
said once, and the answer is in the history once the lock goes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.sse_script import answer_chunks, streaming
from tests.test_ask import history, process_env

WORDS = [f"w{i} " for i in range(50)]


def start_ask(url: str, data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "deltadesk", "ask", "--base-url", url, "--model", "m", "go"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(data_dir),
    )


def read_until(process: subprocess.Popen[str], text: str) -> str:
    assert process.stdout is not None
    seen = ""
    while text not in seen:
        piece = process.stdout.read(1)
        assert piece, f"the output ended before {text!r}: {seen!r}"
        seen += piece
    return seen


def test_a_lock_mid_answer_is_said_once_and_the_answer_is_saved(tmp_path: Path, serve: Any) -> None:
    url = serve(streaming(answer_chunks(WORDS), delay=0.06)).base_url
    process = start_ask(url, tmp_path)
    seen = read_until(process, "w3 ")
    other = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        locked_at = time.monotonic()
        seen += read_until(process, "w30 ")  # the answer goes on meanwhile
        assert time.monotonic() - locked_at < 10
    finally:
        other.execute("COMMIT")
        other.close()
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert seen + out == "".join(WORDS) + "\n"
    assert err.count("locked by another program") == 1
    assert "Traceback" not in err
    assert history(tmp_path)[-1] == ("assistant", "".join(WORDS), "done", None)


def test_a_lock_at_the_end_is_waited_out_and_the_answer_is_saved(
    tmp_path: Path, serve: Any
) -> None:
    url = serve(streaming(answer_chunks(WORDS[:10]), delay=0.05)).base_url
    process = start_ask(url, tmp_path)
    read_until(process, "w1 ")
    other = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        read_until(process, "w9 \n")  # the whole answer is out; its final save is waiting
        time.sleep(1.0)
    finally:
        other.execute("COMMIT")
        other.close()
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "not in the history" not in err and "Traceback" not in err
    assert history(tmp_path)[-1] == ("assistant", "".join(WORDS[:10]), "done", None)
