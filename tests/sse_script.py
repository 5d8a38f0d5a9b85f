"""Scripted fault servers for streaming tests: real SSE over loopback, OpenAI's chunk shape."""

from __future__ import annotations

import asyncio
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


__all__ = ["Request", "Responder", "SSEServer"]
