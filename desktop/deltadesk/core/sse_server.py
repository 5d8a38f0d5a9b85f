"""A small generic HTTP/1.1 server for Server-Sent Events on 127.0.0.1.

asyncio streams in its own thread with its own event loop (so it keeps its pace whatever the
GUI thread does), Connection: close, one handler per request. The demo provider (demo.py)
speaks the OpenAI chat API on it; tests script it as a fault server.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from deltadesk.core.sse_responder import ClientGone, Responder

log = logging.getLogger(__name__)

_MAX_HEADER_LINES = 100
_START_TIMEOUT_S = 10.0
# A request must arrive whole within this: a client that sends slowly cannot hold a slot.
REQUEST_TIMEOUT_S = 10.0
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # e.g. "/v1/chat/completions" (no query string)
    headers: dict[str, str] = field(default_factory=dict)  # keys lower-cased
    body: bytes = b""

    def json(self) -> Any:
        """The parsed body; {} when there is none."""
        return json.loads(self.body) if self.body else {}


class _BadRequest(Exception):
    """A request the server refuses; `status` and the message go back as a JSON error."""

    def __init__(self, message: str, status: int = 400, error_type: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.error_type = error_type


Handler = Callable[[Request, Responder], Awaitable[None]]


class SSEServer:
    """A tiny HTTP/1.1 server in its own thread and event loop; one request per connection.

    With a `token`, only requests carrying `Authorization: Bearer <token>` are served (it
    listens on loopback, where any local process can reach it); others get a 401 before
    their body is read. A body over `max_body_bytes` gets a 413 and is never read, and a
    request not whole within `request_timeout` seconds a 408.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: str | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        request_timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self.refused = 0  # requests answered with an error before the handler saw them
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
            async with asyncio.timeout(self.request_timeout):
                request = await _read_request(reader, self._admit)
        except (_BadRequest, TimeoutError) as exc:
            refusal = exc if isinstance(exc, _BadRequest) else _BadRequest("request timed out", 408)
            with self._lock:
                self.refused += 1
            with contextlib.suppress(ClientGone):
                error = error_body(str(refusal), refusal.error_type)
                await responder.send_json(refusal.status, error)
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
                    await responder.send_json(500, error_body("handler failed", "server_error"))

    def _admit(self, headers: dict[str, str]) -> None:
        """Refuses (raises _BadRequest) a request by its head, before its body is read."""
        if self.token is not None:
            given = headers.get("authorization", "").encode("latin-1")
            if not hmac.compare_digest(given, f"Bearer {self.token}".encode("latin-1")):
                raise _BadRequest("Incorrect API key provided", 401, "invalid_api_key")
        length = headers.get("content-length", "0")
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise _BadRequest(
                f"The request body is over {self.max_body_bytes} bytes", 413, "request_too_large"
            )

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


async def _read_request(
    reader: asyncio.StreamReader, admit: Callable[[dict[str, str]], None]
) -> Request | None:
    """Request line, headers and a Content-Length body; None if the peer sent nothing.

    `admit(headers)` may refuse the request (raising _BadRequest) before the body is read.
    """
    try:
        request_line = await reader.readline()
        if not request_line.strip():
            return None
        method, target, _version = _split_request_line(request_line)
        headers = await _read_headers(reader)
        admit(headers)
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


def error_body(message: str, error_type: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": error_type}
    if code is not None:
        error["code"] = code
    return {"error": error}


__all__ = ["ClientGone", "Handler", "Request", "Responder", "SSEServer", "error_body"]
