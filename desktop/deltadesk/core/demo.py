"""The embedded offline provider: a real OpenAI-style SSE server on 127.0.0.1.

Two layers. `SSEServer` is a small generic HTTP/1.1 server (asyncio streams, its own thread
and event loop, Connection: close) that hands each request to a handler; tests script it as
a fault server. `demo_handler` speaks the OpenAI chat API with canned markdown answers, so the
app works with no network and no key, through exactly the same SDK path as a real provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib.resources import files
from typing import Any

from deltadesk.core.profiles import DEMO_MODEL

log = logging.getLogger(__name__)

DEMO_MODELS = (DEMO_MODEL,)  # the names the demo answers to
DEFAULT_TOKENS_PER_SECOND = 50.0
TPS_ENV_VAR = "DELTADESK_DEMO_TPS"

_MAX_HEADER_LINES = 100
_START_TIMEOUT_S = 10.0


# --------------------------------------------------------------------------- the generic server


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # e.g. "/v1/chat/completions" (no query string)
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""

    def json(self) -> Any:
        """The parsed body; {} when there is none."""
        return json.loads(self.body) if self.body else {}


class ClientGone(Exception):
    """The peer closed its side; raised by every send after that."""


class _BadRequest(Exception):
    pass


class Responder:
    """Given to a handler for one request. Every send raises ClientGone if the peer has gone."""

    def __init__(self, writer: asyncio.StreamWriter, on_client_gone: Callable[[], None]) -> None:
        self.client_gone = asyncio.Event()
        self._writer = writer
        self._on_client_gone = on_client_gone
        self._head_sent = False
        self._complete = False  # a full response went out: a disconnect after it is normal
        self._aborted = False

    async def send_json(
        self, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        head = {"content-type": "application/json", "content-length": str(len(payload))}
        await self._send_head(status, head | _lower_keys(headers))
        await self._write(payload, completes_response=True)

    async def start_sse(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        # No content-length and no chunked encoding: the body ends when we close.
        head = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        await self._send_head(status, head | _lower_keys(headers))

    async def send_event(self, data: Any) -> None:
        """dict/list → JSON; str → as is (one `data:` line per line, as SSE requires)."""
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        lines = "".join(f"data: {line}\n" for line in text.split("\n"))
        await self._write(f"{lines}\n".encode())

    async def send_done(self) -> None:
        await self._write(b"data: [DONE]\n\n", completes_response=True)

    async def send_raw(self, data: bytes) -> None:
        await self._write(data)

    async def abort(self) -> None:
        """Drop the connection mid-stream, as a failing provider or proxy does.

        Everything sent so far reaches the client, then the connection is reset (TCP RST), so
        the SDK raises APIConnectionError. (To end the body cleanly without [DONE] instead,
        just return from the handler.)
        """
        if self._aborted:
            return
        self._aborted = True
        transport = self._writer.transport
        with contextlib.suppress(ConnectionError):
            transport.set_write_buffer_limits(high=0)  # drain() now waits until all is sent
            await self._writer.drain()
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            await _wait_until_sent(sock)
            with contextlib.suppress(OSError):  # linger 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()

    @property
    def headers_sent(self) -> bool:
        return self._head_sent

    def _peer_closed(self) -> None:
        if self.client_gone.is_set():
            return
        self.client_gone.set()
        if not (self._complete or self._aborted):
            self._on_client_gone()

    async def _send_head(self, status: int, headers: dict[str, str]) -> None:
        if self._head_sent:
            raise RuntimeError("the response head was already sent")
        self._head_sent = True
        await self._write(_response_head(status, headers | {"connection": "close"}))

    async def _write(self, data: bytes, completes_response: bool = False) -> None:
        if self.client_gone.is_set() or self._aborted:
            raise ClientGone
        try:
            self._writer.write(data)
            await self._writer.drain()
        except ConnectionError as exc:
            self._peer_closed()
            raise ClientGone from exc
        # Marked before yielding: a client may close the moment it has read the last byte.
        self._complete = self._complete or completes_response
        # drain() does not yield while the buffer is small; yielding here lets the EOF
        # watcher, other connections and stop() run while a handler sends at full speed.
        await asyncio.sleep(0)


async def _wait_until_sent(sock: socket.socket, timeout: float = 1.0) -> None:
    """Wait (briefly) until the kernel has delivered what we wrote; a reset drops the rest."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unsent = _unsent_bytes(sock)
        if not unsent:  # all delivered, or the platform cannot tell: best effort
            return
        await asyncio.sleep(0.001)


def _unsent_bytes(sock: socket.socket) -> int | None:
    try:
        import fcntl  # Unix only, hence imported here
        import termios

        raw = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (ImportError, AttributeError, OSError):
        return None
    return int(struct.unpack("i", raw)[0])


Handler = Callable[[Request, Responder], Awaitable[None]]


class SSEServer:
    """A tiny HTTP/1.1 server in its own thread and event loop; one request per connection."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.requests: list[Request] = []
        self.disconnects = 0
        self._lock = threading.Lock()
        self._disconnected = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._start_error: BaseException | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}/v1"

    def start(self) -> SSEServer:
        """Start the server thread; returns once the socket is listening."""
        if self._thread is not None and self._thread.is_alive():
            return self
        self._listening.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="deltadesk-sse", daemon=True)
        self._thread.start()
        if not self._listening.wait(_START_TIMEOUT_S):
            raise RuntimeError("the SSE server did not start listening in time")
        if self._start_error is not None:
            self._thread.join()
            raise self._start_error
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then join the thread. Idempotent."""
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is None or not thread.is_alive():
            return
        if loop is not None and stop_requested is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                loop.call_soon_threadsafe(stop_requested.set)
        thread.join(_START_TIMEOUT_S)

    def __enter__(self) -> SSEServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_for_disconnect(self, timeout: float) -> bool:
        """True once a client has gone away before its response ended."""
        return self._disconnected.wait(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
            loop.run_until_complete(loop.shutdown_asyncgens())
        except BaseException as exc:  # reported to start(), never left to die in the thread
            self._start_error = exc
            self._listening.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop_requested = asyncio.Event()
        try:
            server = await asyncio.start_server(self._on_connection, self._host, self._port)
        except OSError as exc:
            self._start_error = exc
            self._listening.set()
            return
        self._port = server.sockets[0].getsockname()[1]
        self._listening.set()
        await self._stop_requested.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_one(reader, writer)
            writer.close()  # Connection: close: the close ends the body, after the last bytes
            await writer.wait_closed()
        except ConnectionError:
            pass  # the client left first; nothing to tell it
        finally:
            # Drops the connection if it is still open: stop() cancelled us, perhaps while a
            # client that stopped reading kept the close from flushing.
            writer.transport.abort()
            self._connections.discard(task)

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        responder = Responder(writer, self._count_disconnect)
        try:
            request = await _read_request(reader)
        except _BadRequest as exc:
            with contextlib.suppress(ClientGone):
                await responder.send_json(400, _error_body(str(exc), "invalid_request_error"))
            return
        if request is None:  # the client left before sending a request: nothing to do
            return
        with self._lock:
            self.requests.append(request)
        watcher = asyncio.create_task(_watch_for_eof(reader, responder))
        try:
            await self._call_handler(request, responder)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _call_handler(self, request: Request, responder: Responder) -> None:
        try:
            await self._handler(request, responder)
        except ClientGone:
            pass
        except Exception:
            log.exception("demo server handler failed on %s %s", request.method, request.path)
            if not responder.headers_sent:
                with contextlib.suppress(ClientGone):
                    await responder.send_json(500, _error_body("handler failed", "server_error"))

    def _count_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1
        self._disconnected.set()


async def _watch_for_eof(reader: asyncio.StreamReader, responder: Responder) -> None:
    """Notice a client that closes its side at once, not at our next write."""
    with contextlib.suppress(OSError):
        while await reader.read(65536):
            pass  # nothing more is expected after the request; ignore it
    responder._peer_closed()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    """Request line, headers and a Content-Length body; None if the peer sent nothing."""
    try:
        request_line = await reader.readline()
        if not request_line.strip():
            return None
        method, target, _version = _split_request_line(request_line)
        headers = await _read_headers(reader)
        body = await _read_body(reader, headers)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except (ValueError, asyncio.LimitOverrunError) as exc:
        raise _BadRequest(f"malformed request: {exc}") from exc
    return Request(method=method, path=target.split("?", 1)[0], headers=headers, body=body)


def _split_request_line(line: bytes) -> tuple[str, str, str]:
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("bad request line")
    return parts[0].upper(), parts[1], parts[2]


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADER_LINES):
        line = (await reader.readline()).decode("latin-1")
        if not line.endswith("\n"):
            raise asyncio.IncompleteReadError(line.encode("latin-1"), None)
        if not line.strip():
            return headers
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line.strip()!r}")
        headers[name.strip().lower()] = value.strip()
    raise ValueError("too many header lines")


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported; send Content-Length")
    length = int(headers.get("content-length", "0"))
    if length < 0:
        raise ValueError("negative content-length")
    return await reader.readexactly(length) if length else b""


def _response_head(status: int, headers: dict[str, str]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    for name, value in headers.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"header {name!r} contains a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _lower_keys(headers: dict[str, str] | None) -> dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}


def _error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": error_type}
    if code is not None:
        error["code"] = code
    return {"error": error}


# --------------------------------------------------------------------------- the demo provider

# Which canned answer (by file stem) a question is about; the first match wins.
_TOPIC_KEYWORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("python", frozenset({"code", "python", "script", "function", "program", "snippet"})),
    ("compare", frozenset({"table", "compare", "comparison", "versus", "vs", "difference"})),
    ("streaming", frozenset({"stream", "streaming", "sse", "token", "tokens", "stop"})),
    ("prompts", frozenset({"prompt", "prompts", "tips", "advice", "better"})),
)
_TOPIC_DESCRIPTIONS = {
    "python": "a code example, so a short, runnable Python script fits best",
    "compare": "comparing options, so a table with a short verdict fits best",
    "streaming": "how answers stream, so I should walk through the path of one token",
    "prompts": "asking good questions, so practical habits and examples fit best",
}
_GENERIC_DESCRIPTION = "something open-ended, so a structured note with a few examples fits"
_TOKEN_PATTERN = re.compile(r"\s*\w{1,12}|\s*[^\w\s]{1,8}|\s+")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|~])")


def split_tokens(text: str) -> list[str]:
    """Cut text into model-like tokens: a word with its leading whitespace, punctuation runs.

    Every character lands in exactly one token, so "".join(split_tokens(t)) == t always.
    """
    return _TOKEN_PATTERN.findall(text)


def load_demo_answers() -> list[str]:
    """The canned markdown answers, in file-name order."""
    return list(_load_named_answers().values())


def _load_named_answers() -> dict[str, str]:
    # importlib.resources works from a checkout (PYTHONPATH=desktop), a wheel and a bundle.
    folder = files("deltadesk") / "resources" / "demo"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".md")),
        key=lambda entry: entry.name,
    )
    return {_topic_of(entry.name): entry.read_text(encoding="utf-8") for entry in entries}


def _topic_of(file_name: str) -> str:
    # "02-python.md" → "python": the number only orders the files.
    return file_name.removesuffix(".md").split("-", 1)[-1]


@dataclass(frozen=True)
class _Reply:
    reasoning: str
    answer: str


class _AnswerPicker:
    """Chooses a reply for a conversation: by keyword, else the next answer in turn."""

    def __init__(self, named_answers: dict[str, str]) -> None:
        if not named_answers:
            raise ValueError("the demo provider needs at least one answer")
        self._named = named_answers
        self._turns = itertools.cycle(list(named_answers))

    def reply_to(self, messages: Any) -> _Reply:
        question = _last_user_text(messages)
        topic = self._topic_for(question)
        snippet = _snippet(question, 60)
        if snippet:
            opening = f"You asked: *{_escape_markdown(snippet)}*\n\n"
        else:
            opening = "You have not asked anything yet, so here is something to read.\n\n"
        return _Reply(_reasoning_for(question, topic), opening + self._named[topic])

    def _topic_for(self, question: str) -> str:
        words = set(re.findall(r"\w+", question.lower()))
        for topic, keywords in _TOPIC_KEYWORDS:
            if topic in self._named and words & keywords:
                return topic
        return next(self._turns)


def _reasoning_for(question: str, topic: str) -> str:
    subject = f'"{_snippet(question, 40)}"' if question.strip() else "an empty message"
    description = _TOPIC_DESCRIPTIONS.get(topic, _GENERIC_DESCRIPTION)
    return f"The user asked {subject}. It is about {description}. Keep it accurate and brief."


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: Any) -> str:
    """A message's text, whether content is a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (part.get("text", "") for part in content if isinstance(part, dict))
        return " ".join(part for part in parts if isinstance(part, str))
    return ""


def _snippet(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _prompt_tokens(messages: Any) -> int:
    """About four characters a token, as OpenAI's rule of thumb says."""
    if not isinstance(messages, list):
        return 1
    dicts = (message for message in messages if isinstance(message, dict))
    chars = sum(len(_content_text(message.get("content"))) for message in dicts)
    return max(1, chars // 4)


def _usage(prompt_tokens: int, completion_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }


class _Pacer:
    """Token i is due at start + i/tps: a deadline schedule, so sleep overshoot never adds up."""

    def __init__(self, tokens_per_second: float) -> None:
        self._interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._start = asyncio.get_running_loop().time()
        self._count = 0

    async def wait_turn(self) -> None:
        due = self._start + self._count * self._interval
        self._count += 1
        delay = due - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)


def demo_handler(
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND, *, answers: Sequence[str] | None = None
) -> Handler:
    """The OpenAI-compatible demo provider. `answers` replaces the canned ones (for tests)."""
    named = _load_named_answers() if answers is None else _number_answers(answers)
    picker = _AnswerPicker(named)

    async def handle(request: Request, responder: Responder) -> None:
        if request.method == "GET" and request.path == "/v1/models":
            await responder.send_json(200, _models_body())
        elif request.method == "POST" and request.path == "/v1/chat/completions":
            await _chat_completion(request, responder, picker, tokens_per_second)
        else:
            message = f"No route for {request.method} {request.path}"
            await responder.send_json(404, _error_body(message, "not_found"))

    return handle


def _number_answers(answers: Sequence[str]) -> dict[str, str]:
    return {f"answer{index}": text for index, text in enumerate(answers)}


def _models_body() -> dict[str, Any]:
    models = [{"id": model, "object": "model", "owned_by": "deltadesk"} for model in DEMO_MODELS]
    return {"object": "list", "data": models}


async def _chat_completion(
    request: Request, responder: Responder, picker: _AnswerPicker, tokens_per_second: float
) -> None:
    try:
        body = request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        error = _error_body("The body must be a JSON object", "invalid_request_error")
        await responder.send_json(400, error)
        return
    model = body.get("model")
    if model not in DEMO_MODELS:
        message = f"The model `{model}` does not exist"
        error = _error_body(message, "invalid_request_error", "model_not_found")
        await responder.send_json(404, error)
        return
    reply = picker.reply_to(body.get("messages"))
    prompt_tokens = _prompt_tokens(body.get("messages"))
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        stream = _CompletionStream(responder, str(model), prompt_tokens)
        await stream.run(reply, tokens_per_second, include_usage)
    else:
        await responder.send_json(200, _whole_completion(str(model), reply, prompt_tokens))


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def _whole_completion(model: str, reply: _Reply, prompt_tokens: int) -> dict[str, Any]:
    reasoning_tokens = len(split_tokens(reply.reasoning))
    completion_tokens = reasoning_tokens + len(split_tokens(reply.answer))
    message = {"role": "assistant", "content": reply.answer, "reasoning_content": reply.reasoning}
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": _usage(prompt_tokens, completion_tokens, reasoning_tokens),
    }


class _CompletionStream:
    """Sends one reply as OpenAI chat.completion.chunk events."""

    def __init__(self, responder: Responder, model: str, prompt_tokens: int) -> None:
        self._responder = responder
        self._prompt_tokens = prompt_tokens
        self._envelope = {
            "id": _completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

    async def run(self, reply: _Reply, tokens_per_second: float, include_usage: bool) -> None:
        await self._responder.start_sse()
        await self._send_delta({"role": "assistant", "content": ""})
        pacer = _Pacer(tokens_per_second)
        reasoning_tokens = await self._send_tokens(pacer, "reasoning_content", reply.reasoning)
        answer_tokens = await self._send_tokens(pacer, "content", reply.answer)
        await self._send_delta({}, finish_reason="stop")
        if include_usage:
            usage = _usage(self._prompt_tokens, reasoning_tokens + answer_tokens, reasoning_tokens)
            await self._responder.send_event(self._envelope | {"choices": [], "usage": usage})
        await self._responder.send_done()

    async def _send_tokens(self, pacer: _Pacer, delta_key: str, text: str) -> int:
        tokens = split_tokens(text)
        for token in tokens:
            await pacer.wait_turn()
            await self._send_delta({delta_key: token})
        return len(tokens)

    async def _send_delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        await self._responder.send_event(self._envelope | {"choices": [choice]})


def start_demo_server(tokens_per_second: float | None = None) -> SSEServer:
    """Start the demo provider on a free port. None → $DELTADESK_DEMO_TPS, else 50 tokens/s."""
    if tokens_per_second is None:
        tokens_per_second = _tps_from_environment()
    return SSEServer(demo_handler(tokens_per_second)).start()


def _tps_from_environment() -> float:
    raw = os.environ.get(TPS_ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_TOKENS_PER_SECOND
    try:
        return float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", TPS_ENV_VAR, raw, DEFAULT_TOKENS_PER_SECOND)
        return DEFAULT_TOKENS_PER_SECOND
