"""Scripted fault servers for streaming tests: real SSE over loopback, OpenAI's chunk shape.

Each hostile case of issue 7 is one handler here: a huge single delta (`streaming` with a big
`chunk`), many tiny chunks (`many_chunks`), raw bytes such as invalid UTF-8 or a surrogate
pair split over two chunks (`raw_event`, `escaped_chunk`), an error object mid-stream
(`error_event`), an endless stream (`endless`, `flood`), an endless line (`endless_line`),
a content-free first chunk then keep-alives only (`keep_alive_only`), a huge error body
(`huge_error_body`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from deltadesk.core.sse_server import Request, Responder, SSEServer


def chunk(
    content: str | None = None,
    *,
    reasoning: str | None = None,
    reasoning_field: str = "reasoning_content",
    finish: str | None = None,
    role: str | None = None,
) -> dict[str, Any]:
    delta: dict[str, Any] = {"content": content}
    if role:
        delta["role"] = role
    if reasoning is not None:
        delta[reasoning_field] = reasoning
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def usage_chunk(prompt: int, completion: int, reasoning: int = 0) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "test-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "completion_tokens_details": {"reasoning_tokens": reasoning},
        },
    }


def answer_chunks(words: Iterable[str]) -> list[dict[str, Any]]:
    return [chunk("", role="assistant"), *(chunk(w) for w in words), chunk(finish="stop")]


Handler = Callable[[Request, Responder], Awaitable[None]]


def streaming(events: list[Any], *, delay: float = 0.0, first_delay: float = 0.0) -> Handler:
    """Sends the events (dicts, or raw bytes) then [DONE]; `delay` between events."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        if first_delay:
            await asyncio.sleep(first_delay)
        for event in events:
            if isinstance(event, bytes):
                await responder.send_raw(event)
            else:
                await responder.send_event(event)
            if delay:
                await asyncio.sleep(delay)
        await responder.send_done()

    return handle


def status(code: int, message: str, headers: dict[str, str] | None = None) -> Handler:
    async def handle(request: Request, responder: Responder) -> None:
        await responder.send_json(code, {"error": {"message": message}}, headers)

    return handle


def in_turn(*handlers: Handler) -> Handler:
    """The n-th request gets the n-th handler; later requests get the last one."""
    calls = 0

    async def handle(request: Request, responder: Responder) -> None:
        nonlocal calls
        index = min(calls, len(handlers) - 1)
        calls += 1
        await handlers[index](request, responder)

    return handle


def cut_after(events: list[Any], *, delay: float = 0.0) -> Handler:
    """Sends the events then drops the connection (TCP reset), as a failing proxy does."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        for event in events:
            await responder.send_event(event)
            if delay:
                await asyncio.sleep(delay)
        await responder.abort()

    return handle


def endless(words_per_second: float = 200.0) -> Handler:
    """Streams words until the client goes away (for Stop tests)."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        n = 0
        while not responder.client_gone.is_set():
            await responder.send_event(chunk(f"word{n} "))
            n += 1
            await asyncio.sleep(1 / words_per_second)

    return handle


def escaped_chunk(content: str) -> str:
    """A chunk as JSON text with every non-ASCII character \\u-escaped, as some servers send
    it: a lone surrogate (half an emoji) then travels as `\\ud83d`, which json.dumps with
    ensure_ascii=False could not even encode."""
    return json.dumps(chunk(content), ensure_ascii=True)


def raw_event(data: bytes) -> bytes:
    """One SSE event around `data` exactly as given (say, with an invalid UTF-8 byte)."""
    return b"data: " + data + b"\n\n"


def error_event(message: str, error_type: str = "server_error") -> dict[str, Any]:
    """The OpenAI-style `error` object some providers send inside a stream."""
    return {"error": {"message": message, "type": error_type, "code": None}}


def many_chunks(count: int, text: str = "a", *, batch: int = 1000) -> Handler:
    """`count` chunks of `text` each, then finish; written `batch` events per write (fast).

    The chunks are as small as a server may send them (no id, model or finish_reason): the
    SDK's cost per chunk, not the envelope, is what such a stream is about."""
    delta = {"choices": [{"index": 0, "delta": {"content": text}}]}
    one = f"data: {json.dumps(delta)}\n\n".encode()

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        for start in range(0, count, batch):
            await responder.send_raw(one * min(batch, count - start))
        await responder.send_event(chunk(finish="stop"))
        await responder.send_done()

    return handle


def flood(piece: str = "x" * 1000) -> Handler:
    """Streams chunks of `piece` as fast as the client reads, until it goes away."""
    event = f"data: {json.dumps(chunk(piece))}\n\n".encode() * 16

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        while True:  # send_raw raises ClientGone once the client has closed
            await responder.send_raw(event)

    return handle


def endless_line(piece: bytes = b"x" * 65536) -> Handler:
    """Starts a chunk's JSON, then sends `piece` after `piece` and never ends the line."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        await responder.send_raw(b'data: {"choices": [{"index": 0, "delta": {"content": "')
        while True:
            await responder.send_raw(piece)

    return handle


def keep_alive_only(interval: float = 0.05, first: dict[str, Any] | None = None) -> Handler:
    """A content-free first chunk, then only SSE comments, until the client goes away."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(first or chunk("", role="assistant"))
        while True:
            await responder.send_raw(b": keep-alive\n\n")
            await asyncio.sleep(interval)

    return handle


def huge_error_body(code: int, size: int, piece: bytes = b"x" * 65536) -> Handler:
    """An error status whose body is `size` bytes: a JSON message that goes on and on."""

    async def handle(request: Request, responder: Responder) -> None:
        head = b'{"error": {"message": "'
        await responder.start_body(
            code, {"content-type": "application/json", "content-length": str(size)}
        )
        await responder.send_raw(head)
        left = size - len(head)
        while left > 0:
            await responder.send_raw(piece[:left])
            left -= len(piece)

    return handle


__all__ = ["Request", "Responder", "SSEServer"]
