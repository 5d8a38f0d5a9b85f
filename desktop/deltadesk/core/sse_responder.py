"""The response side of one connection of the SSE server (sse_server.py): what a handler
writes with, and how a dropped client or a deliberate reset is noticed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any


class ClientGone(Exception):
    """The peer closed its side; raised by every send after that."""


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

    async def start_body(self, status: int, headers: dict[str, str]) -> None:
        """Send just the head, for a handler that writes a body of its own with send_raw."""
        await self._send_head(status, _lower_keys(headers))

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
