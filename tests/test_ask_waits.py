"""`deltadesk ask` waiting for a slow first token, giving up on it, rate limits and the
answer-size cap; run as processes against a scripted server."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from deltadesk.core.profiles import Profile, ProfileStore
from tests.sse_script import answer_chunks, chunk, status, streaming
from tests.test_ask import deltadesk

WAITING = "[waiting for the first token…]"


def base_url_args(url: str, *more: str) -> list[str]:
    return ["ask", "--base-url", url, "--model", "m", *more]


def last_answer(data_dir: Path) -> tuple[str, str, str | None]:
    with sqlite3.connect(data_dir / "history.sqlite3") as db:
        return db.execute(
            "SELECT content, status, error_kind FROM messages ORDER BY id DESC LIMIT 1"
        ).fetchone()


def test_a_slow_first_token_is_waited_for_and_said_once(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["late ", "but here"]), first_delay=6.5))
    result = deltadesk(*base_url_args(server.base_url, "hi"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "late but here\n"
    assert result.stderr.count(WAITING) == 1
    assert len(server.requests) == 1  # waited, not retried


def test_a_fast_answer_says_nothing_about_waiting(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["quick"])))
    result = deltadesk(*base_url_args(server.base_url, "hi"), data_dir=tmp_path)
    assert result.returncode == 0
    assert "waiting" not in result.stderr


def test_first_chunk_timeout_overrides_the_limit_and_is_not_retried(
    tmp_path: Path, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["too late"]), first_delay=4.0))
    started = time.monotonic()
    result = deltadesk(
        *base_url_args(server.base_url, "--first-chunk-timeout", "1", "hi"), data_dir=tmp_path
    )
    assert result.returncode == 5, result.stderr
    assert time.monotonic() - started < 4.0  # gave up at the 1 s limit, not the server's pace
    assert len(server.requests) == 1
    assert last_answer(tmp_path) == ("", "failed", "timeout")


def test_first_chunk_timeout_must_be_a_positive_number(tmp_path: Path) -> None:
    for bad in ("0", "-1", "nan", "inf", "soon"):
        result = deltadesk("ask", "--first-chunk-timeout", bad, "hi", data_dir=tmp_path)
        assert result.returncode == 2, bad
        assert "--first-chunk-timeout" in result.stderr


def test_a_retry_after_above_the_cap_fails_at_once_with_exit_4(tmp_path: Path, serve: Any) -> None:
    server = serve(status(429, "slow down", {"Retry-After": "3600"}))
    result = deltadesk(*base_url_args(server.base_url, "hi"), data_dir=tmp_path)
    assert result.returncode == 4
    assert "rate limited for 3600 s" in result.stderr.lower()
    assert len(server.requests) == 1


def test_an_answer_past_the_size_cap_is_stopped_and_kept(tmp_path: Path, serve: Any) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    words = ["x" * 100 for _ in range(50)]
    server = serve(streaming([chunk("", role="assistant"), *(chunk(w) for w in words)]))
    store.upsert(Profile(name="Capped", base_url=server.base_url, model="m", max_answer_chars=300))
    result = deltadesk("ask", "--profile", "Capped", "hi", data_dir=tmp_path)
    assert result.returncode == 7, result.stderr
    assert "limit" in result.stderr
    content, state, kind = last_answer(tmp_path)
    assert (state, kind) == ("stopped", "too_long")
    assert 300 <= len(content) < 5000 and result.stdout.startswith(content)
