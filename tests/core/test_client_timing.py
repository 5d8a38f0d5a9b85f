"""Waiting for the first token, retries and Retry-After (issue 7, section 1), over real SSE."""

from __future__ import annotations

import asyncio
import email.utils
import socket
import time
from typing import Any

import pytest

from deltadesk.core.client import FIRST_TOKEN_SIGNAL_S, MAX_RETRY_AFTER, ChatClient
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import ReasoningDelta, Retrying, TextDelta
from deltadesk.core.profiles import Profile
from tests.core.test_client import PROMPT, profile_for, run_error, run_stream, texts
from tests.sse_script import (
    answer_chunks,
    chunk,
    in_turn,
    keep_alive_only,
    status,
    streaming,
)


def test_the_signal_mark_is_five_seconds() -> None:
    assert FIRST_TOKEN_SIGNAL_S == 5.0


def test_retryable_can_be_overridden_per_error() -> None:
    assert ChatError(ErrorKind.TIMEOUT, "t").retryable
    assert not ChatError(ErrorKind.TIMEOUT, "t", retryable=False).retryable
    assert ChatError(ErrorKind.OTHER, "o", retryable=True).retryable


def test_content_free_first_chunk_then_keep_alives_hits_the_first_token_limit(
    serve: Any,
) -> None:
    """A chunk with no text, then comments only: the SDK yields nothing, the wait goes on."""
    server = serve(keep_alive_only(interval=0.05))
    started = time.monotonic()
    error, events = run_error(profile_for(server, first_chunk_timeout=0.6, max_attempts=3))
    elapsed = time.monotonic() - started
    assert error.kind is ErrorKind.TIMEOUT
    assert "first token" in error.message and "0.6 s" in error.message
    assert not error.retryable
    assert 0.5 <= elapsed < 5.0
    assert len(server.requests) == 1  # never retried: the server may still be working
    assert not any(isinstance(event, Retrying) for event in events)
    assert server.wait_for_disconnect(2.0)  # and the request was closed, not left open


def test_a_silent_server_times_out_once_and_is_not_retried(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["late"]), first_delay=5.0))
    error, events = run_error(profile_for(server, first_chunk_timeout=0.4, max_attempts=3))
    assert error.kind is ErrorKind.TIMEOUT and not error.retryable
    assert len(server.requests) == 1
    assert events == []


def test_before_the_first_token_the_idle_timeout_does_not_apply(serve: Any) -> None:
    """A local server loading a model is silent for long; only the first-token limit counts."""
    server = serve(streaming(answer_chunks(["loaded"]), first_delay=1.0))
    events = run_stream(profile_for(server, first_chunk_timeout=5.0, idle_timeout=0.3))
    assert texts(events, TextDelta) == "loaded"
    assert len(server.requests) == 1


def test_reasoning_counts_as_the_first_token(serve: Any) -> None:
    server = serve(
        streaming(
            [chunk(None, reasoning="thinking"), chunk("answer"), chunk(finish="stop")],
            delay=0.8,
        )
    )
    # Text comes 1.6 s in, past the 1 s first-token limit, but reasoning came first.
    events = run_stream(profile_for(server, first_chunk_timeout=1.0, idle_timeout=3.0))
    assert texts(events, ReasoningDelta) == "thinking"
    assert texts(events, TextDelta) == "answer"


def test_after_the_first_token_keep_alives_alone_are_silence(serve: Any) -> None:
    """Comments cannot hold a stream open for ever once it has begun either."""
    server = serve(keep_alive_only(interval=0.05, first=chunk("Hello", role="assistant")))
    error, events = run_error(profile_for(server, idle_timeout=0.5, max_attempts=3))
    assert error.kind is ErrorKind.TIMEOUT
    assert "went silent" in error.message
    assert texts(events, TextDelta) == "Hello"
    assert len(server.requests) == 1


def test_after_the_first_token_content_free_chunks_alone_are_silence(serve: Any) -> None:
    async def empty_chunks(request: Any, responder: Any) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("Hello", role="assistant"))
        while True:
            await responder.send_event(chunk(None))
            await asyncio.sleep(0.05)

    error, events = run_error(profile_for(serve(empty_chunks), idle_timeout=0.5))
    assert error.kind is ErrorKind.TIMEOUT
    assert texts(events, TextDelta) == "Hello"


def test_a_steady_answer_slower_than_nothing_but_within_the_idle_limit(serve: Any) -> None:
    """Each token resets the idle timer: a long answer is never cut for its total length."""
    server = serve(streaming(answer_chunks(["a"] * 12), delay=0.1))
    events = run_stream(profile_for(server, idle_timeout=0.6))
    assert texts(events, TextDelta) == "a" * 12


def test_the_automatic_limit_is_used_when_none_is_set(serve: Any) -> None:
    """first_chunk_timeout 0 means automatic (300 s here, loopback), never "at once"."""
    server = serve(streaming(answer_chunks(["ok"]), first_delay=0.3))
    profile = profile_for(server, first_chunk_timeout=0.0)
    assert profile.first_token_limit == 300.0
    assert texts(run_stream(profile), TextDelta) == "ok"


def test_connection_refused_is_retried_before_the_first_token() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = Profile(name="gone", base_url=f"http://127.0.0.1:{port}/v1", model="m")
    events: list[Any] = []

    async def go() -> None:
        client = ChatClient(profile, None, backoff_base=0.01)
        try:
            async for event in client.stream(PROMPT):
                events.append(event)
        finally:
            await client.aclose()

    with pytest.raises(ChatError) as caught:
        asyncio.run(go())
    assert caught.value.kind is ErrorKind.CONNECTION
    assert [event.attempt for event in events if isinstance(event, Retrying)] == [1, 2]


def test_a_5xx_then_429_then_success(serve: Any) -> None:
    server = serve(
        in_turn(
            status(502, "bad gateway"),
            status(429, "slow down", {"Retry-After": "0.1"}),
            streaming(answer_chunks(["third time"])),
        )
    )
    events = run_stream(profile_for(server, max_attempts=3))
    assert texts(events, TextDelta) == "third time"
    assert [type(event) for event in events[:2]] == [Retrying, Retrying]
    assert len(server.requests) == 3


def test_retry_after_over_the_cap_fails_at_once_and_says_for_how_long(serve: Any) -> None:
    server = serve(status(429, "quota exceeded", {"Retry-After": "3600"}))
    started = time.monotonic()
    error, events = run_error(profile_for(server, max_attempts=3))
    assert time.monotonic() - started < 2.0
    assert error.kind is ErrorKind.RATE_LIMIT
    assert error.retry_after == 3600
    assert error.message.startswith(f"Rate limited for 3600 s by 127.0.0.1:{server.port}.")
    assert "quota exceeded" in error.message
    assert len(server.requests) == 1
    assert not any(isinstance(event, Retrying) for event in events)


def test_retry_after_as_an_http_date(serve: Any) -> None:
    later = email.utils.formatdate(time.time() + 2 * MAX_RETRY_AFTER, usegmt=True)
    server = serve(status(429, "later", {"Retry-After": later}))
    error, _ = run_error(profile_for(server, max_attempts=3))
    assert error.retry_after is not None and error.retry_after > MAX_RETRY_AFTER
    assert "Rate limited for" in error.message
    assert len(server.requests) == 1


def test_retry_after_ms_wins_and_is_waited(serve: Any) -> None:
    server = serve(
        in_turn(
            status(429, "soon", {"Retry-After": "3600", "Retry-After-Ms": "150"}),
            streaming(answer_chunks(["ok"])),
        )
    )
    events = run_stream(profile_for(server, max_attempts=2))
    retries = [event for event in events if isinstance(event, Retrying)]
    assert len(retries) == 1 and retries[0].delay == pytest.approx(0.15)
    assert "Rate limited by" in retries[0].reason  # below the cap: the usual wording


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "soon"])
def test_a_nonsense_retry_after_falls_back_to_backoff(serve: Any, value: str) -> None:
    server = serve(
        in_turn(status(429, "x", {"Retry-After": value}), streaming(answer_chunks(["ok"])))
    )
    events = run_stream(profile_for(server, max_attempts=2))
    retries = [event for event in events if isinstance(event, Retrying)]
    assert len(retries) == 1 and 0 <= retries[0].delay <= 1.0
    assert texts(events, TextDelta) == "ok"
