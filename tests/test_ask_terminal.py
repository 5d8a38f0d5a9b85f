"""`deltadesk ask` facing hostile text: escape sequences from the model and the server, lone
surrogates, prompts that are not UTF-8. Run as processes, with pipes and with a real pty."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.sse_script import answer_chunks, chunk, status, streaming
from tests.test_ask import process_env

# OSC 52 (write the clipboard), a screen clear, a C1 CSI and a BEL: none may reach a terminal.
HOSTILE = "safe \x1b]52;c;aGk=\x07text \x1b[2Jhere\x9b1m\x07 end"
HOSTILE_CONTROLS = ("\x1b", "\x07", "\x9b")


def ask_bytes(
    *args: str | bytes, data_dir: Path, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "deltadesk", "ask", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        env=process_env(data_dir),
    )


def ask_on_a_terminal(
    *args: str, data_dir: Path, stderr_too: bool = False
) -> tuple[int, bytes, bytes]:
    """Runs ask with stdout (and stderr too, if asked) on a pseudo-terminal: what a terminal
    receives, and what went to the stderr pipe otherwise."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "deltadesk", "ask", *args],
        stdout=terminal,
        stderr=terminal if stderr_too else subprocess.PIPE,
        env=process_env(data_dir),
    )
    os.close(terminal)
    received = bytearray()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            data = os.read(controller, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not data:
            break
        received += data
    os.close(controller)
    _out, err = process.communicate(timeout=30)  # closes the stderr pipe too
    return process.returncode, bytes(received), err


def base_url_args(url: str, *more: str) -> list[str]:
    return ["--base-url", url, "--model", "m", *more]


def history(data_dir: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(data_dir / "history.sqlite3") as db:
        return db.execute(
            "SELECT role, content, status, error_kind FROM messages ORDER BY id"
        ).fetchall()


def test_a_terminal_never_sees_control_characters(tmp_path: Path, serve: Any) -> None:
    url = serve(streaming(answer_chunks([HOSTILE]))).base_url
    code, received, _err = ask_on_a_terminal(*base_url_args(url, "hi"), data_dir=tmp_path)
    assert code == 0
    text = received.decode()
    # Whole sequences go (a cut one would lose only its controls and be inert text).
    assert text.replace("\r\n", "\n") == "safe text here end\n"
    assert not any(control in text for control in HOSTILE_CONTROLS)
    assert history(tmp_path)[-1][1] == HOSTILE  # the history keeps what was sent


def test_raw_keeps_the_bytes_on_a_terminal(tmp_path: Path, serve: Any) -> None:
    url = serve(streaming(answer_chunks([HOSTILE]))).base_url
    code, received, _err = ask_on_a_terminal(*base_url_args(url, "--raw", "hi"), data_dir=tmp_path)
    assert code == 0
    assert "\x1b]52;c;aGk=\x07" in received.decode()


def test_a_pipe_gets_the_text_as_sent(tmp_path: Path, serve: Any) -> None:
    url = serve(streaming(answer_chunks([HOSTILE]))).base_url
    result = ask_bytes(*base_url_args(url, "hi"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == HOSTILE + "\n"


def test_error_messages_are_always_stripped(tmp_path: Path, serve: Any) -> None:
    url = serve(status(400, "bad \x1b]0;owned\x07request \x1b[1A\x9b")).base_url
    result = ask_bytes(*base_url_args(url, "hi"), data_dir=tmp_path)  # stderr is a pipe
    assert result.returncode == 6
    err = result.stderr.decode()
    assert "bad" in err and "request" in err
    assert not any(control in err for control in HOSTILE_CONTROLS)


def test_a_lone_surrogate_in_the_stream_is_printed_and_stored_safely(
    tmp_path: Path, serve: Any
) -> None:
    # JSON-escaped as the wire carries it: an emoji split in two chunks, then a lone one.
    raw = [
        f"data: {json.dumps(chunk(piece))}\n\n".encode()
        for piece in ["smile \ud83d", "\ude00 and ", "lone \ud800 end"]
    ]
    url = serve(streaming([chunk("", role="assistant"), *raw, chunk(finish="stop")])).base_url
    result = ask_bytes(*base_url_args(url, "hi"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert result.stdout.decode() == "smile \U0001f600 and lone \ufffd end\n"
    assert history(tmp_path)[-1][1:3] == ("smile \U0001f600 and lone \ufffd end", "done")


def test_a_prompt_argument_that_is_not_utf8_is_replaced_and_said(
    tmp_path: Path, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    result = ask_bytes(*base_url_args(server.base_url), b"caf\xe9 au lait", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"not valid UTF-8" in result.stderr and b"Traceback" not in result.stderr
    assert server.requests[0].json()["messages"][0]["content"] == "caf\ufffd au lait"
    assert history(tmp_path)[0][1] == "caf\ufffd au lait"


def test_a_prompt_on_stdin_that_is_not_utf8_is_replaced_and_said(
    tmp_path: Path, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    result = ask_bytes(
        *base_url_args(server.base_url, "-"), data_dir=tmp_path, stdin=b"\xff\xfehello\n"
    )
    assert result.returncode == 0, result.stderr
    assert b"not valid UTF-8" in result.stderr
    assert server.requests[0].json()["messages"][0]["content"] == "\ufffd\ufffdhello"


def test_a_valid_utf8_prompt_gets_no_note(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    result = ask_bytes(*base_url_args(server.base_url, "café \ufffd"), data_dir=tmp_path)
    assert result.returncode == 0
    assert b"UTF-8" not in result.stderr
    assert server.requests[0].json()["messages"][0]["content"] == "café \ufffd"


def test_an_output_that_cannot_hold_the_text_gets_replacements_not_a_crash(
    tmp_path: Path, serve: Any
) -> None:
    url = serve(streaming(answer_chunks(["smile \U0001f600 ok"]))).base_url
    result = subprocess.run(
        [sys.executable, "-m", "deltadesk", "ask", *base_url_args(url, "hi")],
        capture_output=True,
        timeout=60,
        env=process_env(tmp_path, {"PYTHONIOENCODING": "ascii"}),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"smile ? ok\n"
    assert history(tmp_path)[-1][1] == "smile \U0001f600 ok"  # the history has it whole


def test_reasoning_on_a_terminal_stderr_is_stripped_too(tmp_path: Path, serve: Any) -> None:
    thinking = chunk(None, reasoning="thinking \x1b]52;c;aGk=\x07hard")
    url = serve(streaming([chunk("", role="assistant"), thinking, *answer_chunks(["ok"])])).base_url
    code, received, _ = ask_on_a_terminal(
        *base_url_args(url, "hi"), data_dir=tmp_path, stderr_too=True
    )
    assert code == 0
    text = received.decode()
    assert "thinking hard" in text and "ok" in text
    assert not any(control in text for control in HOSTILE_CONTROLS)
