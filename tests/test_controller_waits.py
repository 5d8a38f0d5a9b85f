"""The window while no token has come: a live "waiting for the first token" line after the
signal mark, a live countdown before a retry, and Stop working through both."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from typing import Any

from deltadesk.core.client import FIRST_TOKEN_SIGNAL_S
from tests.sse_script import answer_chunks, in_turn, status, streaming
from tests.test_controller import shell, stored, use_server

__all__ = ["shell"]  # the fixture, shared with the main controller tests

WAITING = re.compile(
    r"^waiting for the first token · (\d+) s — the model may be loading or thinking$"
)


def record_notes(shell: Any) -> list[tuple[float, int, str | None]]:
    notes: list[tuple[float, int, str | None]] = []
    shell.controller.waiting_note.connect(
        lambda mid, note: notes.append((time.monotonic(), mid, note))
    )
    return notes


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


def test_a_slow_first_token_shows_a_live_waiting_line(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["finally ", "here"]), first_delay=7.5))
    use_server(shell, server)
    notes = record_notes(shell)
    seen_in_view: list[str] = []

    async def send_and_watch() -> str | None:
        started = time.monotonic()
        task = asyncio.ensure_future(shell.controller.send("think hard"))
        await until(lambda: len([n for n in notes if n[2]]) >= 2)
        mid = shell.controller.streaming_message_id
        assert mid is not None
        seen_in_view.append(shell.view.toPlainText())
        assert notes[0][0] - started >= FIRST_TOKEN_SIGNAL_S - 0.1  # not before the mark
        return await task

    assert qt_loop.run_until_complete(send_and_watch()) == "done"
    lines = [note for _at, _mid, note in notes if note]
    seconds = [int(WAITING.match(line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert seconds[0] == 5 and len(seconds) >= 2
    assert all(0 < b - a <= 2 for a, b in itertools.pairwise(seconds))  # it moves
    assert "waiting for the first token" in seen_in_view[0]  # the view shows it
    assert notes[-1][2] is None  # gone once the first token came
    answer = stored(shell)[-1]
    assert answer.content == "finally here"
    assert "waiting" not in shell.view.toPlainText()
    assert len(server.requests) == 1


def test_stop_works_while_waiting_for_the_first_token(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["never seen"]), first_delay=60))
    use_server(shell, server)
    notes = record_notes(shell)

    async def send_wait_stop() -> tuple[str | None, float]:
        task = asyncio.ensure_future(shell.controller.send("hello?"))
        await until(lambda: any(note for _at, _mid, note in notes))
        pressed = time.monotonic()
        shell.controller.stop()
        return await task, pressed

    final, pressed = qt_loop.run_until_complete(send_wait_stop())
    assert final == "stopped" and time.monotonic() - pressed < 2.0
    assert server.wait_for_disconnect(2.0)
    assert not shell.controller.busy
    assert stored(shell)[-1].status == "stopped"


def test_a_retry_shows_a_live_countdown_that_stop_cancels(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(
        in_turn(
            status(429, "slow down", {"Retry-After": "4"}),
            streaming(answer_chunks(["should not be asked for"])),
        )
    )
    use_server(shell, server, max_attempts=3)
    notes = record_notes(shell)

    async def send_watch_stop() -> str | None:
        task = asyncio.ensure_future(shell.controller.send("hi"))
        await until(lambda: len({note for _at, _mid, note in notes if note}) >= 2)
        shell.controller.stop()
        return await task

    assert qt_loop.run_until_complete(send_watch_stop()) == "stopped"
    lines = [note for _at, _mid, note in notes if note]
    assert lines[0].startswith("retrying in 4 s — ")
    assert lines[1].startswith("retrying in 3 s — ")
    time.sleep(0.2)
    assert len(server.requests) == 1  # the retry never went out
    assert stored(shell)[-1].status == "stopped"


def test_a_retry_countdown_ends_in_the_answer(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(
        in_turn(
            status(503, "overloaded", {"Retry-After": "1"}),
            streaming(answer_chunks(["second ", "time"])),
        )
    )
    use_server(shell, server, max_attempts=3)
    notes = record_notes(shell)
    assert qt_loop.run_until_complete(shell.controller.send("hi")) == "done"
    assert next(n for _at, _mid, n in notes).startswith("retrying in 1 s — ")
    assert notes[-1][2] is None
    assert stored(shell)[-1].content == "second time"
    assert len(server.requests) == 2


def test_a_retry_after_above_the_cap_fails_at_once_and_says_for_how_long(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(status(429, "quota", {"Retry-After": "3600"}))
    use_server(shell, server, max_attempts=3)
    notes = record_notes(shell)
    started = time.monotonic()
    assert qt_loop.run_until_complete(shell.controller.send("hi")) == "failed"
    assert time.monotonic() - started < 5.0
    answer = stored(shell)[-1]
    assert answer.error_kind == "rate_limit"
    assert "rate limited for 3600 s" in (answer.error_message or "").lower()
    assert len(server.requests) == 1 and not [n for _at, _mid, n in notes if n]


def test_the_first_token_limit_fails_without_a_retry_and_offers_retry(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["too late"]), first_delay=30))
    use_server(shell, server, max_attempts=3, first_chunk_timeout=1.0)
    assert qt_loop.run_until_complete(shell.controller.send("hi")) == "failed"
    answer = stored(shell)[-1]
    assert (answer.status, answer.error_kind) == ("failed", "timeout")
    assert len(server.requests) == 1  # the server may still be working: not sent twice
    assert "Retry" in shell.view.toPlainText()


def test_an_answer_past_the_size_cap_is_stopped_with_its_text_kept(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    words = ["x" * 99 + " " for _ in range(100)]
    server = serve(streaming([*answer_chunks(words)]))
    use_server(shell, server, max_answer_chars=1000)
    failures: list[tuple[Any, ...]] = []
    shell.controller.failed.connect(lambda *args: failures.append(args))
    assert qt_loop.run_until_complete(shell.controller.send("go on and on")) == "stopped"
    answer = stored(shell)[-1]
    assert (answer.status, answer.error_kind) == ("stopped", "too_long")
    assert 1000 <= len(answer.content) < 5000
    assert failures and failures[0][1:3] == ("stopped", "too_long")
    assert not shell.controller.busy
