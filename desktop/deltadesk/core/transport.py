"""Caps on what an endpoint may send, applied to the response bytes before the SDK reads them.

The SDK's SSE decoder has no limit: a line that never ends, or an event of endless `data:`
lines, grows memory until the process dies, and one invalid UTF-8 byte makes it raise and
lose the whole answer. These httpx2 event hooks wrap every response body:

- a successful body is decoded as UTF-8 with replacement (and re-encoded), so one bad byte
  becomes U+FFFD instead of an error;
- an event stream may hold at most `max_event_bytes` in one SSE event (its lines up to the
  blank line that ends it), which also caps one line;
- any other successful body (the model list) may hold at most `max_body_bytes`;
- an error body is cut at `max_error_body_bytes`: the status error still shows, with a
  clipped message;
- compression is declined (Accept-Encoding: identity), and gzip/deflate sent anyway is
  inflated here in bounded steps, so the caps count real bytes and a zip bomb cannot burst.

Hooks rather than a transport of our own keep the SDK's transport, its proxy settings from
the environment and its connection pool as they are.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx2

from deltadesk.core.limits import MIB, ResponseLimits

# An empty line: two line ends in a row, CRLF counting as one (atomic groups, so "\r\n" is
# never read as "\r" then "\n"). It ends an SSE event.
_BLANK_LINE = re.compile(rb"(?>\r\n|\r|\n)(?>\r\n|\r|\n)")
_INFLATE_STEP = 256 * 1024  # most bytes one compressed piece may inflate to at a time
_INFLATED_ENCODINGS = frozenset({"gzip", "x-gzip", "deflate"})


class UnsafeResponse(Exception):
    """The endpoint sent something past a cap; the response was closed. The message finishes
    a sentence that starts with the host: "api.example.com sent …"."""


def response_limit_hooks(
    limits: ResponseLimits,
) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """`event_hooks` for an httpx2.AsyncClient that put `limits` on every response."""

    async def decline_compression(request: httpx2.Request) -> None:
        request.headers["Accept-Encoding"] = "identity"

    async def limit_body(response: httpx2.Response) -> None:
        inflater = _inflater_for(response)
        response.stream = LimitedStream(response.stream, _body_guard(response, limits), inflater)

    return {"request": [decline_compression], "response": [limit_body]}


def _inflater_for(response: httpx2.Response) -> Any:
    encodings = [
        value.strip().lower()
        for value in response.headers.get_list("content-encoding", split_commas=True)
        if value.strip().lower() not in ("", "identity")
    ]
    if not encodings:
        return None
    if len(encodings) > 1 or encodings[0] not in _INFLATED_ENCODINGS:
        raise UnsafeResponse(f"sent a body encoded as {', '.join(encodings)!r}, not asked for.")
    # The body is handed on inflated: httpx2 must not inflate it a second time.
    del response.headers["content-encoding"]
    return zlib.decompressobj(zlib.MAX_WBITS | 32)  # 32: a gzip or a zlib header


class _Guard:
    """Checks (and may rewrite) the body piece by piece; `done` ends the body early."""

    done = False

    def feed(self, data: bytes) -> bytes:
        raise NotImplementedError

    def finish(self) -> bytes:
        return b""


def _body_guard(response: httpx2.Response, limits: ResponseLimits) -> _Guard:
    if response.status_code >= 400:
        return _ClippedBody(limits.max_error_body_bytes)
    if "json" in response.headers.get("content-type", "").lower():
        return _Utf8Repair(_TotalSize(limits.max_body_bytes))
    # An event stream, or what a streaming request got instead of one: capped per event,
    # never in total, so a long answer is not cut.
    return _Utf8Repair(_EventSize(limits.max_event_bytes))


class _ClippedBody(_Guard):
    def __init__(self, limit: int) -> None:
        self._left = limit

    def feed(self, data: bytes) -> bytes:
        data = data[: self._left]
        self._left -= len(data)
        self.done = self._left <= 0
        return data


class _TotalSize(_Guard):
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._seen = 0

    def feed(self, data: bytes) -> bytes:
        self._seen += len(data)
        if self._seen > self._limit:
            raise UnsafeResponse(f"sent a response body over {_size(self._limit)}.")
        return data


class _EventSize(_Guard):
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._since_blank_line = 0
        self._tail = b""  # the last bytes seen: a blank line may span two pieces

    def feed(self, data: bytes) -> bytes:
        window = self._tail + data
        counted_to = len(self._tail)  # window[:counted_to] was counted with the last piece
        for match in _BLANK_LINE.finditer(window):
            if match.end() <= counted_to:
                continue  # a blank line seen last time already
            self._check(self._since_blank_line + match.end() - counted_to)
            self._since_blank_line, counted_to = 0, match.end()
        self._since_blank_line += len(window) - counted_to
        self._check(self._since_blank_line)
        self._tail = window[-3:]
        return data

    def _check(self, event_bytes: int) -> None:
        if event_bytes > self._limit:
            raise UnsafeResponse(
                f"sent one stream line or event over {_size(self._limit)}; the stream was closed."
            )


class _Utf8Repair(_Guard):
    """Invalid UTF-8 becomes U+FFFD; a character split between two pieces stays whole."""

    def __init__(self, then: _Guard) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._then = then

    def feed(self, data: bytes) -> bytes:
        return self._then.feed(self._decoder.decode(data).encode("utf-8"))

    def finish(self) -> bytes:
        rest = self._then.feed(self._decoder.decode(b"", final=True).encode("utf-8"))
        return rest + self._then.finish()


class LimitedStream(httpx2.AsyncByteStream):
    """A response body passed through a guard (after inflating it, when it came compressed)."""

    def __init__(self, inner: Any, guard: _Guard, inflater: Any = None) -> None:
        self._inner = inner
        self._guard = guard
        self._inflater = inflater

    async def __aiter__(self) -> AsyncIterator[bytes]:
        pieces = self._inner.__aiter__()
        try:
            async for raw in pieces:
                for data in self._inflate(raw):
                    checked = self._guard.feed(data)
                    if checked:
                        yield checked
                    if self._guard.done:
                        return
            rest = self._guard.finish()
            if rest:
                yield rest
        finally:
            if hasattr(pieces, "aclose"):
                await pieces.aclose()

    def _inflate(self, raw: bytes) -> Iterator[bytes]:
        if self._inflater is None:
            yield raw
            return
        try:
            while raw:
                piece = self._inflater.decompress(raw, _INFLATE_STEP)
                if piece:
                    yield piece
                raw = self._inflater.unconsumed_tail
        except zlib.error as exc:
            raise UnsafeResponse("sent a compressed body that does not inflate.") from exc

    async def aclose(self) -> None:
        await self._inner.aclose()

    @property
    def elapsed(self) -> Any:
        """httpx2's Response.elapsed reads this from the stream it wrapped."""
        return getattr(self._inner, "elapsed", None)


def _size(limit: int) -> str:
    if limit >= MIB:
        return f"{limit / MIB:g} MB"
    if limit >= 1024:
        return f"{limit / 1024:g} KB"
    return f"{limit} bytes"


__all__ = ["MIB", "LimitedStream", "ResponseLimits", "UnsafeResponse", "response_limit_hooks"]
