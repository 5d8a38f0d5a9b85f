"""The generic SSE server (sse_server.py) under the real openai SDK and raw sockets:
disconnects seen, resets sent, requests refused before they are read, prompt stops."""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import time
from typing import Any

import openai
import pytest

from deltadesk.core.demo import demo_handler
from deltadesk.core.sse_server import ClientGone, Request, Responder, SSEServer
from tests.core.test_demo import MODEL, raw_request, run_with_client, user_says


def test_a_client_closing_mid_stream_is_seen_and_counted(serve: Any) -> None:
    server = serve(demo_handler(20))  # slow: the stream is far from over when we close

    async def read_a_little_then_close(client: openai.AsyncOpenAI) -> float:
        stream = await client.chat.completions.create(
            model=MODEL, messages=user_says("stream please"), stream=True
        )
        received = 0
        async for _chunk in stream:
            received += 1
            if received == 3:
                break
        await stream.close()
        return time.perf_counter()

    closed_at = run_with_client(server, read_a_little_then_close)
    assert server.wait_for_disconnect(2)
    assert time.perf_counter() - closed_at < 1.0
    assert server.disconnects == 1


def test_a_disconnect_is_noticed_without_waiting_for_a_write(serve: Any) -> None:
    outcome: queue.Queue[tuple[float, str]] = queue.Queue()

    async def silent_handler(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await asyncio.wait_for(responder.client_gone.wait(), timeout=5)
        noticed = time.perf_counter()
        try:
            await responder.send_event({"late": True})
        except ClientGone:
            outcome.put((noticed, "ClientGone"))
            raise
        outcome.put((noticed, "sent"))

    server = serve(silent_handler)
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/wait HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200 OK\r\n")
        closed_at = time.perf_counter()

    assert server.wait_for_disconnect(2)
    noticed_at, result = outcome.get(timeout=2)
    assert result == "ClientGone"
    assert noticed_at - closed_at < 0.5  # the EOF watcher, not the handler's 5 s timeout
    assert server.disconnects == 1


def test_a_custom_handler_can_rate_limit(serve: Any) -> None:
    async def rate_limited(request: Request, responder: Responder) -> None:
        error = {"error": {"message": "slow down", "type": "rate_limit_error"}}
        await responder.send_json(429, error, headers={"Retry-After": "7"})

    server = serve(rate_limited)

    async def ask(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model="any", messages=user_says("hi"))

    with pytest.raises(openai.RateLimitError) as caught:
        run_with_client(server, ask)
    assert caught.value.response.headers["retry-after"] == "7"
    request = server.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["content-type"] == "application/json"
    assert request.json()["model"] == "any"


def test_abort_delivers_what_was_sent_then_resets_the_connection(serve: Any) -> None:
    async def two_chunks_then_drop(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        for word in ("Hello", " there"):
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": MODEL,
                "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
            }
            await responder.send_event(chunk)
        await responder.abort()

    server = serve(two_chunks_then_drop)
    received: list[str] = []

    async def read_all(client: openai.AsyncOpenAI) -> None:
        stream = await client.chat.completions.create(
            model=MODEL, messages=user_says("hi"), stream=True
        )
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIConnectionError):
        run_with_client(server, read_all)
    assert received == ["Hello", " there"]
    assert server.disconnects == 0  # the server dropped it, the client did not leave


def test_a_failing_handler_answers_500(serve: Any, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request, responder: Responder) -> None:
        raise RuntimeError("boom")

    server = serve(broken)
    status, body = raw_request(server, "POST", "/v1/chat/completions", b"{}")
    assert status == 500
    assert body["error"]["type"] == "server_error"
    assert "boom" in caplog.text


def test_a_malformed_request_line_gets_400(serve: Any) -> None:
    server = serve(demo_handler(0))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert server.requests == []


def test_stop_closes_the_port_and_is_idempotent() -> None:
    server = SSEServer(demo_handler(0)).start()
    port = server.port
    assert port > 0
    assert server.base_url == f"http://127.0.0.1:{port}/v1"
    server.stop()
    server.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_stop_ends_a_stream_that_is_still_running() -> None:
    server = SSEServer(demo_handler(5)).start()  # 5 tokens/s: minutes of answer left
    reader = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        body = json.dumps({"model": MODEL, "messages": user_says("hi"), "stream": True})
        head = f"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n"
        reader.sendall(head.encode() + body.encode())
        assert reader.recv(4096).startswith(b"HTTP/1.1 200 OK")
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 2.0
        while reader.recv(4096):  # the server closed its side: the read ends, no hang
            pass
    finally:
        reader.close()


def test_an_empty_request_body_parses_as_an_empty_object() -> None:
    assert Request("GET", "/v1/models", {}, b"").json() == {}


def test_a_full_speed_stream_does_not_starve_other_connections(serve: Any) -> None:
    server = serve(demo_handler(0, answers=["word " * 200_000]))

    async def models_while_streaming(client: openai.AsyncOpenAI) -> float:
        stream = await client.chat.completions.create(
            model=MODEL, messages=user_says("long"), stream=True
        )
        chunks = aiter(stream)
        await anext(chunks)
        started = time.perf_counter()
        listing = asyncio.ensure_future(client.models.list())
        while not listing.done():  # keep the big stream flowing meanwhile
            await anext(chunks)
        waited = time.perf_counter() - started
        await stream.close()
        assert [model.id async for model in await listing] == [MODEL]
        return waited

    # Starved, the listing would wait for the whole 200k-token stream (tens of seconds); the
    # bound is loose because the machine may be busy with other work.
    assert run_with_client(server, models_while_streaming) < 2.0


def test_stop_is_prompt_even_when_a_client_stops_reading() -> None:
    server = SSEServer(demo_handler(0, answers=["word " * 200_000])).start()
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        body = json.dumps({"model": MODEL, "messages": user_says("hi"), "stream": True})
        head = f"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n"
        stalled.sendall(head.encode() + body.encode())
        time.sleep(0.3)  # never read: the server's send buffers fill up and it waits
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 2.0
    finally:
        stalled.close()


def test_a_body_at_the_cap_is_still_read(serve: Any) -> None:
    async def echo_size(request: Request, responder: Responder) -> None:
        await responder.send_json(200, {"size": len(request.body)})

    server = serve(echo_size)
    small = SSEServer(echo_size, max_body_bytes=1000).start()
    try:
        assert raw_request(small, "POST", "/x", b"a" * 1000) == (200, {"size": 1000})
        assert raw_request(small, "POST", "/x", b"a" * 1001)[0] == 413
    finally:
        small.stop()
    assert raw_request(server, "POST", "/x", b"b" * 100_000) == (200, {"size": 100_000})


def test_a_request_that_never_ends_is_dropped_after_the_timeout() -> None:
    """A client that sends its head slowly (or never finishes) cannot hold the server."""
    server = SSEServer(demo_handler(0), request_timeout=0.3).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")
            started = time.perf_counter()
            reply = b""
            while piece := sock.recv(4096):
                reply += piece
        assert time.perf_counter() - started < 3.0
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert server.requests == [] and server.refused == 1
    finally:
        server.stop()
