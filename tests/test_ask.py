"""`deltadesk ask` and `deltadesk --self-test`, run as a user runs them: as processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.sse_script import SSEServer, answer_chunks, chunk, cut_after, endless, status, streaming

SECRET = "sk-test-" + "Z" * 32


def deltadesk(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deltadesk", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=process_env(data_dir, env),
    )


def process_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(
        os.environ,
        DELTADESK_HOME=str(data_dir),
        DELTADESK_DEMO_TPS="0",
        QT_QPA_PLATFORM="offscreen",
    )
    env.update(extra or {})
    return env


def history(data_dir: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(data_dir / "history.sqlite3") as db:
        return db.execute(
            "SELECT role, content, status, error_kind FROM messages ORDER BY id"
        ).fetchall()


@pytest.fixture
def serve_url(serve: Any) -> Any:
    return lambda handler: serve(handler).base_url


def test_ask_streams_the_demo_answer_and_saves_it(tmp_path: Path) -> None:
    result = deltadesk("ask", "How does streaming work?", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) > 200
    rows = history(tmp_path)
    assert rows[0] == ("user", "How does streaming work?", "done", None)
    role, content, state, _ = rows[1]
    assert (role, state) == ("assistant", "done")
    assert content.strip() == result.stdout.strip()
    assert result.stderr.strip()  # the demo's reasoning goes to stderr, not into the answer


def test_ask_no_save_leaves_history_empty(tmp_path: Path) -> None:
    result = deltadesk("ask", "--no-save", "hello", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert history(tmp_path) == []


def test_ask_against_a_base_url(tmp_path: Path, serve_url: Any) -> None:
    url = serve_url(streaming(answer_chunks(["Hello ", "there"])))
    result = deltadesk("ask", "--base-url", url, "--model", "m", "hi", data_dir=tmp_path)
    assert (result.returncode, result.stdout) == (0, "Hello there\n")


@pytest.mark.parametrize(
    ("handler", "code", "kind"),
    [
        (status(401, "Incorrect API key"), 3, "auth"),
        (status(429, "quota", {"Retry-After": "3600"}), 4, "rate_limit"),
        (status(404, "The model `m` does not exist"), 6, "not_found"),
        (status(500, "boom"), 6, "server"),
    ],
)
def test_ask_exit_codes(tmp_path: Path, serve_url: Any, handler: Any, code: int, kind: str) -> None:
    url = serve_url(handler)
    result = deltadesk("ask", "--base-url", url, "--model", "m", "hi", data_dir=tmp_path)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert history(tmp_path)[-1][2:] == ("failed", kind)


def test_ask_unreachable_is_a_connection_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = deltadesk(
        "ask", "--base-url", f"http://127.0.0.1:{port}/v1", "--model", "m", "hi", data_dir=tmp_path
    )
    assert result.returncode == 5
    assert f"127.0.0.1:{port}" in result.stderr


def test_ask_cut_mid_stream_exits_7_and_keeps_the_partial(tmp_path: Path, serve_url: Any) -> None:
    url = serve_url(cut_after([chunk("", role="assistant"), chunk("partial")]))
    result = deltadesk("ask", "--base-url", url, "--model", "m", "hi", data_dir=tmp_path)
    assert result.returncode == 7
    assert result.stdout.startswith("partial")
    assert history(tmp_path)[-1] == ("assistant", "partial", "interrupted", "connection")


def test_ask_usage_errors_exit_2(tmp_path: Path) -> None:
    assert deltadesk("ask", data_dir=tmp_path).returncode == 2
    assert deltadesk("ask", "--profile", "nope", "hi", data_dir=tmp_path).returncode == 2
    assert deltadesk("ask", "--base-url", "http://x", "hi", data_dir=tmp_path).returncode == 2
    unset = deltadesk("ask", "--api-key-env", "DELTADESK_NO_SUCH_VAR", "hi", data_dir=tmp_path)
    assert unset.returncode == 2 and "DELTADESK_NO_SUCH_VAR" in unset.stderr


def test_ask_ctrl_c_exits_130_and_keeps_the_partial(tmp_path: Path, serve_url: Any) -> None:
    url = serve_url(endless(words_per_second=100))
    process = subprocess.Popen(
        [sys.executable, "-m", "deltadesk", "ask", "--base-url", url, "--model", "m", "go"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=process_env(tmp_path),
    )
    assert process.stdout is not None
    assert process.stdout.read(6) == "word0 "  # streaming has begun
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)
    assert process.returncode == 130
    role, content, state, kind = history(tmp_path)[-1]
    assert (role, state, kind) == ("assistant", "stopped", None)
    assert content.startswith("word0 ")


def test_key_from_environment_is_sent_and_never_stored(tmp_path: Path) -> None:
    seen: list[str] = []

    async def needs_key(request: Any, responder: Any) -> None:
        seen.append(request.headers.get("authorization", ""))
        await streaming(answer_chunks(["ok"]))(request, responder)

    with SSEServer(needs_key) as server:
        result = deltadesk(
            "ask",
            "--base-url",
            server.base_url,
            "--model",
            "m",
            "--api-key-env",
            "MY_KEY",
            "hi",
            data_dir=tmp_path,
            env={"MY_KEY": SECRET},
        )
    assert result.returncode == 0, result.stderr
    assert seen == [f"Bearer {SECRET}"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_self_test_passes(tmp_path: Path) -> None:
    started = time.monotonic()
    result = deltadesk("--self-test", data_dir=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout
    assert time.monotonic() - started < 60


def test_history_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    db_path = tmp_path / "history.sqlite3"
    with sqlite3.connect(db_path) as db:
        db.execute("PRAGMA user_version = 999")
    before = db_path.read_bytes()
    result = deltadesk("ask", "hello", data_dir=tmp_path)
    assert result.returncode == 1
    assert "newer" in result.stderr and "Traceback" not in result.stderr
    assert db_path.read_bytes() == before
