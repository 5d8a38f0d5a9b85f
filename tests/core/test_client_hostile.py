"""Hostile and huge streams (issue 7, sections 3, 4 and 6) through the real SDK and a real
loopback server: nothing may fail the whole answer needlessly, or grow without bound."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
import traceback
import tracemalloc
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from deltadesk.core.client import ChatClient
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Finished, ReasoningDelta, TextDelta, Usage
from deltadesk.core.sse_server import Request, Responder
from deltadesk.core.transport import MIB, ResponseLimits
from tests.core.test_client import PROMPT, profile_for, run_error, run_stream, texts
from tests.sse_script import (
    answer_chunks,
    chunk,
    cut_after,
    endless_line,
    error_event,
    escaped_chunk,
    flood,
    huge_error_body,
    many_chunks,
    raw_event,
    status,
    streaming,
)

T = TypeVar("T")
KEY = "sk-test-0123456789abcdef"


def traced(run: Callable[[], T]) -> tuple[T, float]:
    """run()'s result and the peak of Python memory allocated meanwhile, in MiB."""
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / MIB


def stream_with(profile: Any, **client_args: Any) -> tuple[ChatError | None, list[Any]]:
    """Every event until the end or the error, and the error (None if the answer ended)."""
    events: list[Any] = []

    async def go() -> ChatError | None:
        client = ChatClient(profile, client_args.pop("api_key", None), **client_args)
        try:
            async for event in client.stream(PROMPT):
                events.append(event)
        except ChatError as error:
            return error
        finally:
            await client.aclose()
        return None

    return asyncio.run(go()), events


# ------------------------------------------------------------------------------ huge answers


def test_a_5_mb_single_delta_arrives_whole(serve: Any) -> None:
    big = "0123456789" * 500_000
    server = serve(streaming([chunk("", role="assistant"), chunk(big), chunk(finish="stop")]))
    started = time.monotonic()
    events = run_stream(profile_for(server))
    assert time.monotonic() - started < 10.0
    assert texts(events, TextDelta) == big


@pytest.mark.timeout(240)  # the SDK alone spends 0.1-0.4 ms per chunk on a busy machine
def test_100k_one_character_chunks(serve: Any) -> None:
    server = serve(many_chunks(100_000, "a"))
    events = run_stream(profile_for(server))
    assert texts(events, TextDelta) == "a" * 100_000
    assert Finished("stop") in events


def test_an_endless_stream_stops_at_the_answer_cap_and_keeps_the_text(serve: Any) -> None:
    server = serve(flood("x" * 1000))
    error, events = stream_with(profile_for(server, max_answer_chars=250_500))
    assert error is not None and error.kind is ErrorKind.TOO_LONG
    assert error.message == "Stopped: the answer passed the 0.2505 MB limit."
    assert texts(events, TextDelta) == "x" * 250_500  # exactly up to the cap, nothing lost
    assert server.wait_for_disconnect(2.0)  # the stream was closed, not read on
    assert len(server.requests) == 1


def test_reasoning_counts_towards_the_answer_cap(serve: Any) -> None:
    server = serve(
        streaming([chunk(None, reasoning="r" * 600), chunk("t" * 600), chunk(finish="stop")])
    )
    error, events = stream_with(profile_for(server, max_answer_chars=1000))
    assert error is not None and error.kind is ErrorKind.TOO_LONG
    assert "1,000-character" in error.message
    assert texts(events, ReasoningDelta) == "r" * 600
    assert texts(events, TextDelta) == "t" * 400


def test_an_answer_exactly_at_the_cap_is_not_stopped(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["a" * 500, "b" * 500])))
    error, events = stream_with(profile_for(server, max_answer_chars=1000))
    assert error is None
    assert texts(events, TextDelta) == "a" * 500 + "b" * 500


# --------------------------------------------------------------------------- broken text


def test_one_invalid_utf8_byte_does_not_fail_the_answer(serve: Any) -> None:
    bad = raw_event(json.dumps(chunk("caf\u00e9 ")).encode().replace(b"\\u00e9", b"\xff"))
    server = serve(streaming([chunk("", role="assistant"), bad, chunk("ok"), chunk(finish="stop")]))
    events = run_stream(profile_for(server))
    text = texts(events, TextDelta)
    assert text == "caf\ufffd ok"
    text.encode("utf-8")


def test_a_character_split_between_two_reads_stays_whole(serve: Any) -> None:
    """The UTF-8 repair is incremental: an é cut in two TCP reads is not replaced."""
    encoded = f"data: {json.dumps(chunk('é!'), ensure_ascii=False)}\n\n".encode()
    cut = encoded.index("é".encode()) + 1

    async def halves(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_raw(encoded[:cut])
        await asyncio.sleep(0.05)  # two reads for sure
        await responder.send_raw(encoded[cut:])
        await responder.send_event(chunk(finish="stop"))
        await responder.send_done()

    assert texts(run_stream(profile_for(serve(halves))), TextDelta) == "é!"


def test_a_surrogate_pair_split_across_chunks_is_rejoined(serve: Any) -> None:
    server = serve(
        streaming(
            [
                chunk("", role="assistant"),
                escaped_chunk("smile \ud83d"),
                escaped_chunk("\ude00 done"),
                chunk(finish="stop"),
            ]
        )
    )
    text = texts(run_stream(profile_for(server)), TextDelta)
    assert text == "smile \U0001f600 done"


def test_lone_surrogates_in_text_and_reasoning_are_replaced(serve: Any) -> None:
    lone_reasoning = json.dumps(chunk(None, reasoning="why \udc80"), ensure_ascii=True)
    server = serve(
        streaming(
            [
                lone_reasoning,
                escaped_chunk("a\ud800"),
                escaped_chunk("b"),
                escaped_chunk("\ud83d"),
                chunk(finish="stop"),
            ]
        )
    )
    events = run_stream(profile_for(server))
    assert texts(events, TextDelta) == "a\ufffdb\ufffd"  # the last one never got its partner
    assert texts(events, ReasoningDelta) == "why \ufffd"
    for event in events:
        if isinstance(event, TextDelta | ReasoningDelta):
            event.text.encode("utf-8")


# ------------------------------------------------------------------ errors from the server


def test_an_error_object_mid_stream_keeps_the_text_and_is_not_retried(serve: Any) -> None:
    server = serve(
        streaming(
            [
                chunk("", role="assistant"),
                chunk("half an "),
                error_event("The model overloaded\x1b]52;c;aGk=\x07 mid-answer"),
            ]
        )
    )
    error, events = run_error(profile_for(server, max_attempts=3))
    assert error.kind is ErrorKind.OTHER
    assert "The model overloaded" in error.message and "mid-answer" in error.message
    assert "\x1b" not in error.message and "\x07" not in error.message
    assert texts(events, TextDelta) == "half an "
    assert len(server.requests) == 1


def test_a_provider_message_that_echoes_the_key_is_redacted(serve: Any) -> None:
    server = serve(status(403, f"Key {KEY} has no access to model m\x1b[2J"))
    error, _ = stream_with(profile_for(server, max_attempts=1), api_key=KEY)
    assert error is not None and error.kind is ErrorKind.AUTH
    assert KEY not in error.message
    assert "[redacted]" in error.message
    assert "\x1b" not in error.message


def test_the_echoed_key_is_not_in_the_traceback_or_the_log_either(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A consumer that logs the ChatError with its traceback must not write the key: the
    SDK's own exception (whose text is the provider's) is not chained to it."""
    caplog.set_level(logging.DEBUG)
    server = serve(status(400, f"invalid key {KEY}"))
    error, _ = stream_with(profile_for(server, max_attempts=1), api_key=KEY)
    assert error is not None
    assert KEY not in "".join(traceback.format_exception(error))
    assert KEY not in caplog.text
    assert "[redacted]" in caplog.text  # what the provider said is logged, cleaned


def test_a_key_echoed_in_a_stream_error_is_redacted(serve: Any) -> None:
    server = serve(cut_after([chunk("x"), error_event(f"bad key {KEY}")]))
    error, _ = stream_with(profile_for(server, max_attempts=1), api_key=KEY)
    assert error is not None
    assert KEY not in error.message and "[redacted]" in error.message


def test_a_200_mb_error_body_is_read_only_to_a_clip(serve: Any) -> None:
    server = serve(huge_error_body(500, 200 * MIB))
    started = time.monotonic()
    (error, _), peak = traced(lambda: stream_with(profile_for(server, max_attempts=1)))
    assert time.monotonic() - started < 10.0
    assert error is not None and error.kind is ErrorKind.SERVER and error.status == 500
    assert len(error.message) < 400 and error.message.endswith("…")
    assert peak < 20, f"{peak:.1f} MiB"
    assert server.wait_for_disconnect(2.0)  # the client hung up, it did not read 200 MB


# ------------------------------------------------------------------------- endless lines


def test_an_endless_line_fails_clearly_at_the_line_cap(serve: Any) -> None:
    server = serve(endless_line())
    limits = ResponseLimits(max_event_bytes=1 * MIB)
    (error, _), peak = traced(lambda: stream_with(profile_for(server), response_limits=limits))
    assert error is not None and error.kind is ErrorKind.PROTOCOL
    assert "over 1 MB" in error.message and f"127.0.0.1:{server.port}" in error.message
    assert peak < 50, f"{peak:.1f} MiB"
    assert server.wait_for_disconnect(2.0)
    assert len(server.requests) == 1  # a protocol error is not retried


def test_the_default_line_cap_stops_an_endless_line_too(serve: Any) -> None:
    server = serve(endless_line())
    (error, _), peak = traced(lambda: stream_with(profile_for(server)))
    assert error is not None and error.kind is ErrorKind.PROTOCOL
    assert "over 16 MB" in error.message
    assert peak < 120, f"{peak:.1f} MiB"


def test_an_endless_event_of_data_lines_is_capped_too(serve: Any) -> None:
    """Many `data:` lines with no blank line between: the SDK would join them for ever."""

    async def endless_event(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        while True:
            await responder.send_raw(b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n" * 1000)

    limits = ResponseLimits(max_event_bytes=256 * 1024)
    error, _ = stream_with(profile_for(serve(endless_event)), response_limits=limits)
    assert error is not None and error.kind is ErrorKind.PROTOCOL
    assert "over 256 KB" in error.message


def test_events_just_under_the_cap_pass_with_any_line_ends(serve: Any) -> None:
    """CRLF and CR line ends are event boundaries too: long streams of them are no fault."""
    body = json.dumps(chunk("y" * 900)).encode()

    async def mixed_line_ends(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        for ending in (b"\r\n\r\n", b"\r\r", b"\n\n", b"\r\n\n") * 50:
            await responder.send_raw(b"data: " + body + ending)
        await responder.send_raw(f"data: {json.dumps(chunk(finish='stop'))}\r\n\r\n".encode())
        await responder.send_raw(b"data: [DONE]\r\n\r\n")

    limits = ResponseLimits(max_event_bytes=2048)
    error, events = stream_with(profile_for(serve(mixed_line_ends)), response_limits=limits)
    assert error is None
    assert texts(events, TextDelta) == "y" * 900 * 200


# ------------------------------------------------------------------------------ encodings


def test_compression_is_declined_and_a_gzip_body_sent_anyway_is_read(serve: Any) -> None:
    plain = b"".join(
        f"data: {json.dumps(event)}\n\n".encode() for event in answer_chunks(["zip", "ped"])
    )

    async def gzipped(request: Request, responder: Responder) -> None:
        await responder.start_sse(headers={"content-encoding": "gzip"})
        await responder.send_raw(gzip.compress(plain + b"data: [DONE]\n\n"))

    server = serve(gzipped)
    events = run_stream(profile_for(server))
    assert texts(events, TextDelta) == "zipped"
    assert server.requests[0].headers["accept-encoding"] == "identity"


def test_a_gzip_bomb_line_is_capped_after_inflating(serve: Any) -> None:
    bomb = gzip.compress(b"data: " + b"x" * (64 * MIB))  # 64 MB of one line, ~64 KB zipped

    async def bombs(request: Request, responder: Responder) -> None:
        await responder.start_sse(headers={"content-encoding": "gzip"})
        await responder.send_raw(bomb)

    limits = ResponseLimits(max_event_bytes=1 * MIB)
    server = serve(bombs)
    (error, _), peak = traced(lambda: stream_with(profile_for(server), response_limits=limits))
    assert error is not None and error.kind is ErrorKind.PROTOCOL
    assert peak < 50, f"{peak:.1f} MiB"


@pytest.mark.parametrize("encoding", ["br", "gzip, br"])
def test_an_encoding_not_asked_for_is_a_protocol_error(serve: Any, encoding: str) -> None:
    async def odd(request: Request, responder: Responder) -> None:
        await responder.start_sse(headers={"content-encoding": encoding})
        await responder.send_raw(b"\x00\x01\x02")

    error, _ = stream_with(profile_for(serve(odd), max_attempts=1))
    assert error is not None and error.kind is ErrorKind.PROTOCOL
    assert "not asked for" in error.message


def test_a_huge_model_list_is_refused(serve: Any) -> None:
    async def models(request: Request, responder: Responder) -> None:
        data = [{"id": f"m{n}", "object": "model", "owned_by": "x"} for n in range(30_000)]
        await responder.send_json(200, {"object": "list", "data": data})

    server = serve(models)

    async def go() -> list[str]:
        client = ChatClient(
            profile_for(server), None, response_limits=ResponseLimits(max_body_bytes=256 * 1024)
        )
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    with pytest.raises(ChatError) as caught:
        asyncio.run(go())
    assert caught.value.kind is ErrorKind.PROTOCOL
    assert "over 256 KB" in caught.value.message


@pytest.mark.parametrize(
    "shape",
    [
        {"choices": "nope"},
        {"choices": ["x"]},
        {"choices": [{"index": 0, "delta": {"content": 5}}]},
        {"choices": [{"index": 0, "delta": {"content": {"text": "a"}}}]},
        {"choices": [{"index": 0, "delta": "zz"}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": ["stop"]}]},
    ],
)
def test_a_chunk_of_the_wrong_shape_is_a_protocol_error(serve: Any, shape: Any) -> None:
    """The SDK builds chunks without validating them; a wrong shape must not crash later."""
    server = serve(streaming([chunk("ok "), shape, chunk(finish="stop")]))
    error, events = run_error(profile_for(server, max_attempts=1))
    assert error.kind is ErrorKind.PROTOCOL
    assert texts(events, TextDelta) == "ok "


def test_usage_of_the_wrong_shape_counts_as_zero(serve: Any) -> None:
    odd_usage = {"choices": [], "usage": {"prompt_tokens": "7", "completion_tokens": -3}}
    server = serve(streaming([*answer_chunks(["ok"]), odd_usage]))
    events = run_stream(profile_for(server))
    assert Usage(prompt_tokens=0, completion_tokens=0) in events
