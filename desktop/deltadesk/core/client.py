"""The one place that talks to an OpenAI-compatible endpoint.

It turns the SDK's chunks into typed events (events.py) and the SDK's exceptions into
ChatError (errors.py), and owns the timing rules: a first-chunk timeout, an idle timeout
between chunks, and retries with backoff only before the first token.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import (
    Finished,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    TextDelta,
    Usage,
)
from deltadesk.core.profiles import Profile

if TYPE_CHECKING:  # openai takes ~1 s to import: only on the first request, not at start-up
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletionChunk

log = logging.getLogger(__name__)

ChatMessage = dict[str, str]

# Placeholder sent to endpoints that need no key: the SDK insists on some value.
NO_KEY = "no-key"
# A Retry-After longer than this is not waited out silently: the user is told instead.
MAX_RETRY_AFTER = 30.0
MAX_BACKOFF = 8.0
PROVIDER_MESSAGE_LIMIT = 300


class ThinkTagSplitter:
    """Splits `<think>…</think>` (sent inline by some reasoning models) out of the content.

    Only a tag at the very start of the answer opens a thinking section, so an answer that
    merely talks about the tag is left alone. Tags may be cut across chunks.
    """

    OPEN = "<think>"
    CLOSE = "</think>"

    def __init__(self) -> None:
        self._inside = False
        self._may_open = True  # until the first non-blank answer text
        self._pending = ""  # a possible partial tag held back from the last chunk

    def feed(self, text: str) -> list[TextDelta | ReasoningDelta]:
        if not self._inside and not self._may_open and not self._pending:
            return [TextDelta(text)]  # the common case, kept cheap
        text = self._pending + text
        self._pending = ""
        events: list[TextDelta | ReasoningDelta] = []
        while text:
            if self._inside:
                text = self._consume_until(self.CLOSE, text, events)
            elif self._may_open:
                stripped = text.lstrip()
                if self.OPEN.startswith(stripped):  # too short to tell yet
                    self._pending = text
                    return events
                if stripped.startswith(self.OPEN):
                    self._inside = True
                    self._may_open = False
                    text = stripped[len(self.OPEN) :]
                else:
                    self._may_open = False
            else:
                events.append(TextDelta(text))
                text = ""
        return events

    def _consume_until(self, tag: str, text: str, events: list[TextDelta | ReasoningDelta]) -> str:
        index = text.find(tag)
        if index >= 0:
            if index:
                events.append(ReasoningDelta(text[:index]))
            self._inside = False
            return text[index + len(tag) :].lstrip("\n")
        keep = _partial_suffix(text, tag)
        if len(text) > keep:
            events.append(ReasoningDelta(text[: len(text) - keep]))
        self._pending = text[len(text) - keep :]
        return ""

    def flush(self) -> list[TextDelta | ReasoningDelta]:
        pending, self._pending = self._pending, ""
        if not pending:
            return []
        return [ReasoningDelta(pending) if self._inside else TextDelta(pending)]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could be the start of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


class ChunkNormaliser:
    """Turns SDK chunks of any dialect into events. One instance per streamed answer."""

    def __init__(self) -> None:
        self._think = ThinkTagSplitter()
        self.finished = False

    def feed(self, chunk: ChatCompletionChunk) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        # Usage comes in a final chunk whose `choices` is empty: never index choices[0].
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                reasoning = _reasoning_text(delta)
                if reasoning:
                    events.append(ReasoningDelta(reasoning))
                if delta.content:
                    events.extend(self._think.feed(delta.content))
            if choice.finish_reason:
                events.extend(self._think.flush())
                events.append(Finished(choice.finish_reason))
                self.finished = True
        if chunk.usage is not None:
            events.append(_usage(chunk.usage))
        return events

    def flush(self) -> list[StreamEvent]:
        return list(self._think.flush())


def _reasoning_text(delta: Any) -> str | None:
    # DeepSeek and vLLM send `reasoning_content`, OpenRouter and Ollama `reasoning`.
    extra = delta.model_extra or {}
    for field in ("reasoning_content", "reasoning"):
        value = extra.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) or 0
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        reasoning_tokens=reasoning,
    )


class ChatClient:
    """Streams chat answers from one profile's endpoint.

    `stream()` is an async generator of events. Closing it (aclose, or cancelling the task
    that iterates it) closes the HTTP response, so the provider stops generating.
    """

    def __init__(
        self,
        profile: Profile,
        api_key: str | None,
        *,
        base_url: str | None = None,
        backoff_base: float = 0.5,
        on_usage_rejected: Callable[[], None] | None = None,
    ) -> None:
        self.profile = profile
        self.base_url = base_url or profile.base_url
        self.api_key = api_key
        self._backoff_base = backoff_base
        self._include_usage = profile.include_usage
        self._on_usage_rejected = on_usage_rejected
        self._sdk: AsyncOpenAI | None = None

    def _client(self) -> AsyncOpenAI:
        if self._sdk is None:
            import httpx2
            from openai import AsyncOpenAI

            profile = self.profile
            # The read timeout is the idle timeout: the longest silence between two chunks.
            timeout = httpx2.Timeout(
                connect=profile.connect_timeout,
                read=max(profile.idle_timeout, profile.first_chunk_timeout),
                write=30.0,
                pool=30.0,
            )
            self._sdk = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.api_key or NO_KEY,
                timeout=timeout,
                max_retries=0,  # we retry ourselves, and only before the first token
            )
        return self._sdk

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers, sorted."""
        try:
            async with asyncio.timeout(self.profile.connect_timeout + self.profile.idle_timeout):
                return sorted([model.id async for model in self._client().models.list()])
        except TimeoutError as exc:
            raise ChatError(ErrorKind.TIMEOUT, "The model list did not arrive in time.") from exc
        except Exception as exc:
            raise to_chat_error(exc, self.base_url) from exc

    def request_body(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.profile.model,
            "messages": list(messages),
            "stream": True,
        }
        if self._include_usage:
            body["stream_options"] = {"include_usage": True}
        if self.profile.thinking:
            body["extra_body"] = {"thinking": {"type": "enabled"}}
        return body

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[StreamEvent]:
        attempt = 1
        while True:
            got_token = False
            try:
                async for event in self._attempt(messages):
                    if isinstance(event, TextDelta | ReasoningDelta):
                        got_token = True
                    yield event
                return
            except ChatError as error:
                if got_token or attempt >= self.profile.max_attempts:
                    raise
                delay = self.retry_delay(attempt, error)
                if delay is None:
                    raise
                log.info("attempt %d failed (%s); retrying in %.1fs", attempt, error.kind, delay)
                yield Retrying(attempt=attempt, delay=delay, reason=error.message)
                await asyncio.sleep(delay)
                attempt += 1

    def retry_delay(self, attempt: int, error: ChatError) -> float | None:
        """Seconds to wait before another try, or None when trying again cannot help."""
        if not error.retryable:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else None
        backoff: float = min(MAX_BACKOFF, self._backoff_base * 2.0 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)

    async def _attempt(self, messages: Sequence[ChatMessage]) -> AsyncIterator[StreamEvent]:
        sdk_stream, first = await self._open(messages)
        normaliser = ChunkNormaliser()
        try:
            if first is not None:
                for event in normaliser.feed(first):
                    yield event
                # __anext__ rather than `async for`: that would wrap the SDK's iterator in
                # another async generator, which qasync's loop would never finalise.
                next_chunk = sdk_stream.__anext__
                while True:
                    try:
                        chunk = await next_chunk()
                    except StopAsyncIteration:
                        break
                    for event in normaliser.feed(chunk):
                        yield event
            for event in normaliser.flush():
                yield event
        except ChatError:
            raise
        except Exception as exc:
            raise to_chat_error(exc, self.base_url, streaming=True) from exc
        finally:
            await sdk_stream.close()
        if not normaliser.finished:
            # An HTTP body may simply end (Connection: close) without [DONE]: that is a cut,
            # not an answer, however clean it looked on the wire.
            raise ChatError(
                ErrorKind.CONNECTION, "The connection closed before the answer was finished."
            )

    async def _open(self, messages: Sequence[ChatMessage]) -> tuple[Any, Any]:
        """Sends the request and waits for the first chunk, both within the first-chunk timeout."""
        while True:
            body = self.request_body(messages)
            try:
                return await self._first_chunk(body)
            except ChatError as error:
                if self._include_usage and _rejects_usage_option(error):
                    log.info("%s rejects stream_options; asking again without", self.base_url)
                    self._include_usage = False
                    if self._on_usage_rejected is not None:
                        self._on_usage_rejected()
                    continue
                raise

    async def _first_chunk(self, body: dict[str, Any]) -> tuple[Any, Any]:
        limit = self.profile.first_chunk_timeout
        sdk_stream = None
        try:
            async with asyncio.timeout(limit):
                sdk_stream = await self._client().chat.completions.create(**body)
                try:
                    first = await sdk_stream.__anext__()
                except StopAsyncIteration:
                    first = None
            return sdk_stream, first
        except BaseException as exc:
            if sdk_stream is not None:
                await sdk_stream.close()
            if isinstance(exc, TimeoutError):
                raise ChatError(
                    ErrorKind.TIMEOUT,
                    f"No answer from {_host(self.base_url)} within {limit:g} s.",
                ) from exc
            if isinstance(exc, Exception) and not isinstance(exc, ChatError):
                raise to_chat_error(exc, self.base_url) from exc
            raise


def _rejects_usage_option(error: ChatError) -> bool:
    text = error.message.lower()
    return error.kind is ErrorKind.BAD_REQUEST and (
        "stream_options" in text or "include_usage" in text
    )


def _host(base_url: str) -> str:
    parts = urlsplit(base_url)
    return parts.netloc or base_url


def to_chat_error(exc: BaseException, base_url: str, *, streaming: bool = False) -> ChatError:
    """Maps an SDK or transport exception to a ChatError with a message a person can act on.

    `streaming`: the answer had begun, so a connection error means it was lost, not refused.
    """
    import openai

    host = _host(base_url)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, host)
    if isinstance(exc, openai.APITimeoutError):
        return ChatError(ErrorKind.TIMEOUT, f"{host} went silent; the stream timed out.")
    if isinstance(exc, openai.APIConnectionError):
        if streaming:
            return ChatError(ErrorKind.CONNECTION, f"Lost the connection to {host} mid-answer.")
        return ChatError(ErrorKind.CONNECTION, f"Could not reach {host}. Is it running?")
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return ChatError(ErrorKind.PROTOCOL, f"{host} sent a malformed chunk.")
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        return ChatError(ErrorKind.OTHER, f"{host}: {_clip(exc.message)}")
    return ChatError(ErrorKind.OTHER, f"Unexpected error: {type(exc).__name__}: {_clip(str(exc))}")


def _status_error(exc: Any, host: str) -> ChatError:
    status = exc.status_code
    detail = _provider_message(exc)
    if status == 401:
        kind, text = ErrorKind.AUTH, "The API key was rejected (401). Check it in Settings."
    elif status == 403:
        kind, text = ErrorKind.AUTH, f"Access denied (403): {detail}"
    elif status == 404:
        kind, text = ErrorKind.NOT_FOUND, f"Not found (404) — unknown model or base URL: {detail}"
    elif status == 429:
        kind, text = ErrorKind.RATE_LIMIT, f"Rate limited by {host} (429): {detail}"
    elif status in (400, 422):
        kind, text = ErrorKind.BAD_REQUEST, f"{host} refused the request ({status}): {detail}"
    elif status >= 500:
        kind, text = ErrorKind.SERVER, f"{host} had a server error ({status}): {detail}"
    else:
        kind, text = ErrorKind.OTHER, f"{host} answered {status}: {detail}"
    return ChatError(kind, text, status=status, retry_after=_retry_after(exc.response))


def _provider_message(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message:
            return _clip(message)
    return _clip(str(exc.message))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > PROVIDER_MESSAGE_LIMIT:
        return text[: PROVIDER_MESSAGE_LIMIT - 1] + "…"
    return text


def _retry_after(response: Any) -> float | None:
    headers = response.headers
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - time.time())
