"""The benchmark's provider: OpenAI-style SSE on loopback, in a process of its own.

Its own process, so its CPU never counts against the client being measured and the GUI
thread under test never slows it down. It runs the package's real SSEServer with a small
handler that sends exactly the benchmark's tokens (no demo preamble, no reasoning):

- prompt "warmup"       → a short answer (first-request costs are paid before measuring);
- prompt "tokens:N"     → the N-token markdown answer of corpus.markdown_tokens(N);
- prompt "concurrent:N[:NAME]" with a model → one of the concurrent case's four N-token
  answers (concurrent_streams: each its own seed, so a text routed to the wrong stream shows);
- any prompt on a *stop server* → the 2,000-token answer repeated without end;
- on the *soak server*: "warmup" as above, anything else → a short answer (SOAK_TOKENS) sent
  at a steady pace, so a Stop can land mid-answer.

The soak server counts what it has open: handlers still running, and its TCP sockets as the
kernel sees them (/proc/net/tcp: server side in ESTABLISHED, SYN_RECV or CLOSE_WAIT, i.e.
not closed by the server; client side not closed by the client). GET /v1/bench/soak on the
main server answers with those counts (asked there, so the question is not counted itself).

Each stop server serves one stop run. A thread waits on its SSEServer.wait_for_disconnect
and reports the time.monotonic() at which the server saw the client go away (CLOCK_MONOTONIC
is system-wide on Linux, so the parent can compare it with the client's clock).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing.connection
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltadesk.core.sse_server import Request, Responder, SSEServer, error_body
from tests.perf.corpus import markdown_tokens

MODEL = "bench-model"
WARMUP_TOKENS = 60
STOP_ANSWER_TOKENS = 2_000
DISCONNECT_WAIT_S = 600.0
SOAK_TOKENS = 200
SOAK_TOKENS_PER_PAUSE = 1
SOAK_PAUSE_S = 0.001
SOAK_COUNTS_PATH = "/v1/bench/soak"
SOAK_ANSWER_SEED = 11
CONCURRENT_SEED = 8_000
# TCP states (as /proc/net/tcp writes them) in which a side has not closed its socket yet.
_NOT_CLOSED_STATES = frozenset({"01", "02", "03", "08"})  # ESTABLISHED SYN_SENT SYN_RECV CLOSE_WAIT
_TCP_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


@dataclass(frozen=True)
class ConcurrentStream:
    """One of the concurrent case's four answers: the prompt and model that ask for it."""

    name: str
    prompt: str
    model: str
    seed: int

    def tokens(self, count: int) -> list[str]:
        return markdown_tokens(count, seed=self.seed)


def concurrent_streams(tokens: int) -> tuple[ConcurrentStream, ...]:
    """Two compare columns (one prompt, two models) and two background conversations."""
    shared = f"concurrent:{tokens}"
    return (
        ConcurrentStream("column_1", shared, MODEL, CONCURRENT_SEED + 1),
        ConcurrentStream("column_2", shared, f"{MODEL}-2", CONCURRENT_SEED + 2),
        ConcurrentStream("background_1", f"{shared}:background_1", MODEL, CONCURRENT_SEED + 3),
        ConcurrentStream("background_2", f"{shared}:background_2", MODEL, CONCURRENT_SEED + 4),
    )


@dataclass(frozen=True)
class ServerAddresses:
    main_url: str
    stop_urls: tuple[str, ...]
    soak_url: str


def _envelope() -> dict[str, Any]:
    return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": MODEL}


def _event(delta: dict[str, Any], finish_reason: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return json.dumps(_envelope() | {"choices": [choice]}, ensure_ascii=False)


def _usage_event(completion_tokens: int) -> str:
    usage = {"prompt_tokens": 10, "completion_tokens": completion_tokens}
    usage["total_tokens"] = 10 + completion_tokens
    return json.dumps(_envelope() | {"choices": [], "usage": usage})


def encode_answer(tokens: Sequence[str]) -> list[str]:
    """Each token as its SSE payload, serialised once so sending costs the server little."""
    return [_event({"content": token}) for token in tokens]


def _last_user_text(request: Request) -> str:
    try:
        messages = request.json().get("messages", [])
    except (ValueError, AttributeError):
        return ""
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    return str(users[-1]) if users else ""


def _model(request: Request) -> str:
    try:
        return str(request.json().get("model", ""))
    except (ValueError, AttributeError):
        return ""


def _include_usage(request: Request) -> bool:
    options: object = request.json().get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


async def _send_stream(responder: Responder, events: Iterator[str], usage: bool) -> None:
    await responder.start_sse()
    await responder.send_event(_event({"role": "assistant", "content": ""}))
    count = 0
    for payload in events:
        await responder.send_event(payload)
        count += 1
    await responder.send_event(_event({}, finish_reason="stop"))
    if usage:
        await responder.send_event(_usage_event(count))
    await responder.send_done()


def _endless(payloads: Sequence[str]) -> Iterator[str]:
    while True:
        yield from payloads


def open_tcp_sockets(port: int) -> tuple[int | None, int | None]:
    """(server side, client side) sockets of loopback connections to `port` that are not
    closed yet, from the kernel's tables; (None, None) where they cannot be read."""
    server = client = 0
    readable = False
    for table in _TCP_TABLES:
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        readable = True
        for row in rows:
            fields = row.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if state not in _NOT_CLOSED_STATES:
                continue
            if int(local.rsplit(":", 1)[1], 16) == port:
                server += 1
            elif int(remote.rsplit(":", 1)[1], 16) == port:
                client += 1
    return (server, client) if readable else (None, None)


def soak_answer_tokens() -> list[str]:
    """The soak server's answer to every soak prompt, token by token."""
    return markdown_tokens(SOAK_TOKENS, seed=SOAK_ANSWER_SEED)


async def _send_paced(responder: Responder, payloads: Sequence[str]) -> None:
    await responder.start_sse()
    await responder.send_event(_event({"role": "assistant", "content": ""}))
    for index, payload in enumerate(payloads, start=1):
        await responder.send_event(payload)
        if index % SOAK_TOKENS_PER_PAUSE == 0:
            await asyncio.sleep(SOAK_PAUSE_S)
    await responder.send_event(_event({}, finish_reason="stop"))
    await responder.send_done()


class _Soak:
    """The soak server's answers, and what it has open."""

    def __init__(self, warmup: Sequence[str]) -> None:
        self.warmup = warmup
        self.answer = encode_answer(soak_answer_tokens())
        self.handlers_running = 0  # touched only on the soak server's own loop
        self.requests = 0
        self.server: SSEServer | None = None

    async def handle(self, request: Request, responder: Responder) -> None:
        self.requests += 1
        self.handlers_running += 1
        try:
            if not _is_chat(request):
                await responder.send_json(404, error_body("no such route", "not_found"))
            elif _last_user_text(request) == "warmup":
                await _send_stream(responder, iter(self.warmup), _include_usage(request))
            else:
                await _send_paced(responder, self.answer)
        finally:
            self.handlers_running -= 1

    def counts(self) -> dict[str, int | None]:
        assert self.server is not None
        server_side, client_side = open_tcp_sockets(self.server.port)
        return {
            "requests": self.requests,
            "handlers_running": self.handlers_running,
            "server_sockets_open": server_side,
            "client_sockets_open": client_side,
        }


class _Answers:
    """The encoded answers, by prompt."""

    def __init__(self, token_counts: Sequence[int], concurrent_counts: Sequence[int]) -> None:
        self.by_prompt = {
            f"tokens:{count}": encode_answer(markdown_tokens(count)) for count in token_counts
        }
        self.by_prompt_and_model = {
            (stream.prompt, stream.model): encode_answer(stream.tokens(count))
            for count in concurrent_counts
            for stream in concurrent_streams(count)
        }
        self.by_prompt["warmup"] = encode_answer(markdown_tokens(WARMUP_TOKENS, seed=7))
        self.endless = encode_answer(markdown_tokens(STOP_ANSWER_TOKENS))
        self.soak = _Soak(self.by_prompt["warmup"])

    async def handle_main(self, request: Request, responder: Responder) -> None:
        if request.method == "GET" and request.path == SOAK_COUNTS_PATH:
            await responder.send_json(200, self.soak.counts())
            return
        if not _is_chat(request):
            await responder.send_json(404, error_body("no such route", "not_found"))
            return
        prompt = _last_user_text(request)
        payloads = self.by_prompt_and_model.get((prompt, _model(request)))
        payloads = payloads or self.by_prompt.get(prompt)
        if payloads is None:
            await responder.send_json(400, error_body("unknown bench prompt", "invalid_request"))
            return
        await _send_stream(responder, iter(payloads), _include_usage(request))

    async def handle_stop(self, request: Request, responder: Responder) -> None:
        if not _is_chat(request):
            await responder.send_json(404, error_body("no such route", "not_found"))
            return
        await _send_stream(responder, _endless(self.endless), _include_usage(request))


def _is_chat(request: Request) -> bool:
    return bool(request.method == "POST" and request.path == "/v1/chat/completions")


def _watch_disconnect(server: SSEServer, reports: Any) -> None:
    if server.wait_for_disconnect(DISCONNECT_WAIT_S):
        reports.put((server.base_url, time.monotonic()))


def serve(
    token_counts: Sequence[int],
    stop_servers: int,
    control: multiprocessing.connection.Connection,
    reports: Any,
    concurrent_counts: Sequence[int] = (),
) -> None:
    """The server process: sends its addresses, serves until the parent says "quit"."""
    answers = _Answers(token_counts, concurrent_counts)
    main = SSEServer(answers.handle_main).start()
    stops = [SSEServer(answers.handle_stop).start() for _ in range(stop_servers)]
    soak = answers.soak.server = SSEServer(answers.soak.handle).start()
    for server in stops:
        threading.Thread(target=_watch_disconnect, args=(server, reports), daemon=True).start()
    stop_urls = tuple(s.base_url for s in stops)
    control.send(ServerAddresses(main.base_url, stop_urls, soak.base_url))
    try:
        while control.recv() != "quit":
            pass
    except EOFError:  # the parent went away
        pass
    for server in [main, *stops, soak]:
        server.stop()
