"""The one place that talks to an OpenAI-compatible endpoint.

It turns the SDK's chunks into typed events (normaliser.py, events.py) and the SDK's
exceptions into ChatError (error_mapping.py, errors.py), and owns the timing rules:

- the first-token limit (profile.first_token_limit) runs from the request to the first
  TextDelta or ReasoningDelta, not to the first chunk: a content-free chunk followed by
  keep-alive comments does not count as an answer. It is never retried automatically: the
  server took the request and may still be loading the model or thinking;
- after the first token, an idle timeout: the longest wait for more text (or the end);
- retries with backoff, only before the first token (connection refused, 429, 5xx);
- an answer cap (profile.max_answer_chars) that closes the stream.

Caps on the raw bytes (one SSE line or event, an error body) live in transport.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deltadesk.core.error_mapping import MAX_RETRY_AFTER, host_of, outside_text, to_chat_error
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Finished, ReasoningDelta, Retrying, StreamEvent, TextDelta
from deltadesk.core.limits import ResponseLimits
from deltadesk.core.normaliser import ChunkNormaliser
from deltadesk.core.profiles import Profile
from deltadesk.core.read_deadline import ReadDeadline
from deltadesk.core.text_safety import replace_lone_surrogates, strip_control_chars
from deltadesk.core.think import ThinkTagSplitter

if TYPE_CHECKING:  # openai takes ~1 s to import: only on the first request, not at start-up
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

ChatMessage = dict[str, str]

# Placeholder sent to endpoints that need no key: the SDK insists on some value.
NO_KEY = "no-key"
# With no token after this long, consumers show "waiting for the first token" (not an abort).
FIRST_TOKEN_SIGNAL_S = 5.0
MAX_BACKOFF = 8.0
MAX_MODEL_ID_CHARS = 256

__all__ = [
    "FIRST_TOKEN_SIGNAL_S",
    "MAX_RETRY_AFTER",
    "NO_KEY",
    "ChatClient",
    "ChatMessage",
    "ChunkNormaliser",
    "RequestOptions",
    "ThinkTagSplitter",
    "to_chat_error",
]


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What one request may set beyond its profile (`deltadesk ask --system/--temperature/
    --max-tokens`, a conversation's settings): a system message sent first, sampling limits
    and how hard a reasoning model thinks. None leaves the provider's default."""

    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None  # sent under the profile's max_tokens_field
    reasoning_effort: str | None = None  # "low" | "medium" | "high"


class ChatClient:
    """Streams chat answers from one profile's endpoint.

    `stream()` is an async generator of events. Closing it (aclose, or cancelling the task
    that iterates it) closes the HTTP response, so the provider stops generating.

    `include_usage` None follows the profile. `on_usage_rejected(model)` is called once when
    the endpoint refuses `stream_options` for that model; the request is then sent again
    without it, and later requests of this client leave it out.
    """

    def __init__(
        self,
        profile: Profile,
        api_key: str | None,
        *,
        base_url: str | None = None,
        backoff_base: float = 0.5,
        include_usage: bool | None = None,
        on_usage_rejected: Callable[[str], None] | None = None,
        response_limits: ResponseLimits | None = None,
    ) -> None:
        self.profile = profile
        self.base_url = base_url or profile.base_url
        self.api_key = api_key
        self._backoff_base = backoff_base
        self._include_usage = profile.include_usage if include_usage is None else include_usage
        self._on_usage_rejected = on_usage_rejected
        self._limits = response_limits or ResponseLimits()
        self._sdk: AsyncOpenAI | None = None

    @property
    def include_usage(self) -> bool:
        """Whether requests ask for the usage chunk (False once the endpoint refused it)."""
        return self._include_usage

    def _client(self) -> AsyncOpenAI:
        if self._sdk is None:
            import httpx2
            from openai import AsyncOpenAI, DefaultAsyncHttpxClient

            from deltadesk.core.transport import response_limit_hooks

            profile = self.profile
            # No HTTP read timeout: every read already runs under the client's own deadline
            # (the first-token limit, the idle timeout, the model list's limit), which
            # keep-alive comments cannot reset. A read timeout would add a timer per socket
            # read, and qasync keeps each one until it expires (minutes).
            timeout = httpx2.Timeout(
                connect=profile.connect_timeout,
                read=None,
                write=30.0,
                pool=30.0,
            )
            http_client = DefaultAsyncHttpxClient(
                timeout=timeout, event_hooks=response_limit_hooks(self._limits)
            )
            self._sdk = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.api_key or NO_KEY,
                timeout=timeout,
                max_retries=0,  # we retry ourselves, and only before the first token
                http_client=http_client,
            )
        return self._sdk

    async def aclose(self) -> None:
        if self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers, sorted; ids no model could have are left out."""
        try:
            async with asyncio.timeout(self.profile.connect_timeout + self.profile.idle_timeout):
                ids = [model.id async for model in self._client().models.list()]
                return sorted({clean for raw in ids if (clean := _model_id(raw))})
        except TimeoutError as exc:
            raise ChatError(ErrorKind.TIMEOUT, "The model list did not arrive in time.") from exc
        except Exception as exc:
            raise self._error(exc) from None

    def request_body(
        self, messages: Sequence[ChatMessage], options: RequestOptions | None = None
    ) -> dict[str, Any]:
        options = options or RequestOptions()
        system = [{"role": "system", "content": options.system}] if options.system else []
        body: dict[str, Any] = {
            "model": self.profile.model,
            "messages": [*system, *messages],
            "stream": True,
        }
        if options.temperature is not None:
            body["temperature"] = options.temperature
        if options.max_tokens is not None:
            completion = self.profile.max_tokens_field == "max_completion_tokens"
            body["max_completion_tokens" if completion else "max_tokens"] = options.max_tokens
        if options.reasoning_effort is not None:
            body["reasoning_effort"] = options.reasoning_effort
        if self._include_usage:
            body["stream_options"] = {"include_usage": True}
        if self.profile.thinking:
            body["extra_body"] = {"thinking": {"type": "enabled"}}
        return body

    async def stream(
        self, messages: Sequence[ChatMessage], options: RequestOptions | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        attempt = 1
        while True:
            got_token = False
            try:
                # aclosing: when the consumer stops, the attempt closes its HTTP stream now,
                # not whenever the loop gets round to finalising a forgotten generator.
                async with contextlib.aclosing(self._attempt(messages, options)) as events:
                    async for event in events:
                        if not got_token and isinstance(event, TextDelta | ReasoningDelta):
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

    async def _attempt(
        self, messages: Sequence[ChatMessage], options: RequestOptions | None
    ) -> AsyncGenerator[StreamEvent, None]:
        loop = asyncio.get_running_loop()
        self._client()  # the first call imports openai (~1 s): not the server's time
        first_token_due = loop.time() + self.profile.first_token_limit
        sdk_stream = await self._open(messages, options, first_token_due)
        reader = _AnswerReader(sdk_stream, self.profile)
        deadline = ReadDeadline(first_token_due)  # one timer per answer, not one per chunk
        try:
            while True:
                try:
                    events = await deadline.read(reader.next_events)
                except TimeoutError as exc:
                    raise self._timeout(first_token=not reader.got_token) from exc
                if reader.got_token:
                    deadline.move_to(reader.last_progress + reader.idle_limit)
                if events is None:
                    break
                for event in events:
                    yield event
                if reader.over_cap:
                    size = _size(reader.cap)
                    raise ChatError(
                        ErrorKind.TOO_LONG, f"Stopped: the answer passed the {size} limit."
                    )
        except ChatError:
            raise
        except Exception as exc:
            raise self._error(exc, streaming=reader.got_token) from None
        finally:
            deadline.close()
            await sdk_stream.close()
        if not reader.finished:
            # An HTTP body may simply end (Connection: close) without [DONE]: that is a cut,
            # not an answer, however clean it looked on the wire.
            raise ChatError(
                ErrorKind.CONNECTION, "The connection closed before the answer was finished."
            )

    async def _open(
        self,
        messages: Sequence[ChatMessage],
        options: RequestOptions | None,
        first_token_due: float,
    ) -> Any:
        """Sends the request; returns the SDK stream once the response head has arrived."""
        while True:
            body = self.request_body(messages, options)
            try:
                async with asyncio.timeout_at(first_token_due):
                    return await self._client().chat.completions.create(**body)
            except TimeoutError as exc:
                raise self._timeout(first_token=True) from exc
            except ChatError:
                raise
            except Exception as exc:
                error = self._error(exc)
                if not (self._include_usage and _rejects_usage_option(error)):
                    raise error from None
            log.info("%s rejects stream_options for %s", self.base_url, self.profile.model)
            self._include_usage = False
            if self._on_usage_rejected is not None:
                self._on_usage_rejected(self.profile.model)

    def _timeout(self, first_token: bool) -> ChatError:
        host = host_of(self.base_url)
        if first_token:
            limit = self.profile.first_token_limit
            return ChatError(
                ErrorKind.TIMEOUT,
                f"No first token from {host} within {limit:g} s. The model may still be "
                "loading or thinking: try again, or raise the first-token limit in Settings.",
                retryable=False,
            )
        idle = self.profile.idle_timeout
        return ChatError(ErrorKind.TIMEOUT, f"{host} went silent for {idle:g} s mid-answer.")

    def _error(self, exc: BaseException, *, streaming: bool = False) -> ChatError:
        """The ChatError for `exc`, raised `from None` by the callers: the SDK's exception
        holds the provider's raw text (which may echo the key) and must not reach a
        traceback in a log. What it said is logged here, cleaned."""
        error = to_chat_error(exc, self.base_url, streaming=streaming, secret=self.api_key)
        said = outside_text(str(exc), self.api_key)
        log.debug("%s (%s) became a %s error", type(exc).__name__, said, error.kind)
        return error


class _AnswerReader:
    """Reads one answer's chunks as events, and stops it at the profile's size cap."""

    def __init__(self, sdk_stream: Any, profile: Profile) -> None:
        # __anext__ rather than `async for`: that would wrap the SDK's iterator in another
        # async generator, which qasync's loop would never finalise.
        self._next_chunk = sdk_stream.__anext__
        self._normaliser = ChunkNormaliser()
        self.cap = profile.max_answer_chars
        self.idle_limit = profile.idle_timeout
        self.chars = 0  # text and reasoning so far
        self.over_cap = False
        # When text, reasoning or the end last came. The idle timer counts from it, so chunks
        # without content cannot hold an answer open for ever, no more than keep-alives can.
        self.last_progress = 0.0
        self._time = asyncio.get_running_loop().time

    @property
    def got_token(self) -> bool:
        return self.chars > 0  # events never carry empty text

    @property
    def finished(self) -> bool:
        return self._normaliser.finished

    async def next_events(self) -> list[StreamEvent] | None:
        """The events of the next chunk (perhaps none); None once the stream has ended."""
        try:
            chunk = await self._next_chunk()
        except StopAsyncIteration:
            return self._capped(self._normaliser.flush()) or None
        return self._capped(self._normaliser.feed(chunk))

    def _capped(self, events: list[StreamEvent]) -> list[StreamEvent]:
        """`events` up to the cap; past it, what still fits, and `over_cap` is set. Notes
        the time of progress (text, reasoning or the end). Runs for every chunk: one pass,
        exact type tests (the event classes are final)."""
        progress = False
        for index, event in enumerate(events):
            kind = type(event)
            if kind is TextDelta or kind is ReasoningDelta:
                progress = True
                text: str = event.text  # type: ignore[union-attr]
                room = self.cap - self.chars
                if len(text) > room:
                    self.over_cap = True
                    self.chars = self.cap
                    fitting = [kind(text[:room])] if room > 0 else []
                    events = [*events[:index], *fitting]
                    break
                self.chars += len(text)
            elif kind is Finished:
                progress = True
        if progress:
            self.last_progress = self._time()
        return events


def _size(chars: int) -> str:
    if chars >= 100_000:
        return f"{chars / 1_000_000:g} MB"
    return f"{chars:,}-character"


def _model_id(raw: Any) -> str | None:
    """A model id fit to show and send back, or None. Ids are outside text: the SDK does not
    check their type, and one may hold control characters or half an emoji."""
    if not isinstance(raw, str):
        return None
    clean = replace_lone_surrogates(strip_control_chars(raw)).strip()
    return clean if 0 < len(clean) <= MAX_MODEL_ID_CHARS else None


def _rejects_usage_option(error: ChatError) -> bool:
    text = error.message.lower()
    return error.kind is ErrorKind.BAD_REQUEST and (
        "stream_options" in text or "include_usage" in text
    )
