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


def test_a_full_disk_keeps_the_answer_printed_and_says_it_is_not_saved(
    tmp_path: Path, serve: Any, monkeypatch: Any, capsys: Any
) -> None:
    """In this process, so the history's own connection can be capped: the "disk" is full
    as soon as the answer starts (the prompt is in; the answer cannot grow the file)."""
    from deltadesk import app, services

    url = serve(streaming(answer_chunks([f"part{i} " + "y" * 3000 for i in range(20)]))).base_url
    made = services.Services.__init__

    def full_after_opening(self: Any, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        create = self.store.add_message

        def add_then_fill(*a: Any, **k: Any) -> Any:
            message = create(*a, **k)
            if k.get("status") == "streaming":
                conn = self.store._conn
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                conn.execute(f"PRAGMA max_page_count = {pages}")
            return message

        self.store.add_message = add_then_fill

    monkeypatch.setattr(services.Services, "__init__", full_after_opening)
    monkeypatch.setattr(app, "setup_logging", lambda *args: None)  # pytest keeps the logging
    argv = ["--data-dir", str(tmp_path), "ask", "--base-url", url, "--model", "m", "hi"]
    assert app.main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("part0 ") and out.endswith("\n") and "part19" in out
    assert err.count("the disk is full") == 2  # once while streaming, once at the end
    assert "not in the history" in err and "Traceback" not in err
    assert history(tmp_path)[-1][0] == "assistant"  # the prompt and the empty answer stayed
