"""SDK and transport exceptions, mapped to a ChatError with a message a person can act on.

Provider messages are outside text: they may echo the API key, hold terminal escapes or
lone surrogates, or run to megabytes. Every message made here is cleaned and clipped.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.text_safety import redact, replace_lone_surrogates, strip_control_chars

# A Retry-After longer than this is not waited out silently: the user is told instead.
MAX_RETRY_AFTER = 30.0
PROVIDER_MESSAGE_LIMIT = 300
_CAUSE_DEPTH = 8


def host_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return parts.netloc or base_url


def to_chat_error(
    exc: BaseException, base_url: str, *, streaming: bool = False, secret: str | None = None
) -> ChatError:
    """Maps an SDK or transport exception to a ChatError.

    `streaming`: the answer had begun, so a connection error means it was lost, not refused.
    `secret`: the API key, redacted wherever a provider echoes it.
    """
    import openai

    from deltadesk.core.normaliser import MalformedChunk
    from deltadesk.core.transport import UnsafeResponse

    host = host_of(base_url)
    unsafe = _find_in_chain(exc, UnsafeResponse)
    if unsafe is not None:
        return ChatError(ErrorKind.PROTOCOL, f"{host} {outside_text(str(unsafe), secret)}")
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, host, secret)
    if isinstance(exc, openai.APITimeoutError):
        return ChatError(ErrorKind.TIMEOUT, f"{host} went silent; the stream timed out.")
    if isinstance(exc, openai.APIConnectionError):
        if streaming:
            return ChatError(ErrorKind.CONNECTION, f"Lost the connection to {host} mid-answer.")
        return ChatError(ErrorKind.CONNECTION, f"Could not reach {host}. Is it running?")
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError | MalformedChunk):
        return ChatError(ErrorKind.PROTOCOL, f"{host} sent a malformed chunk.")
    if isinstance(exc, openai.APIError):  # an error event inside the stream
        return ChatError(ErrorKind.OTHER, f"{host}: {outside_text(exc.message, secret)}")
    detail = outside_text(str(exc), secret)
    return ChatError(ErrorKind.OTHER, f"Unexpected error: {type(exc).__name__}: {detail}")


def _find_in_chain(exc: BaseException, wanted: type[BaseException]) -> BaseException | None:
    """`exc` or what caused it, if it is a `wanted`: the SDK wraps what a hook raised."""
    current: BaseException | None = exc
    for _ in range(_CAUSE_DEPTH):
        if current is None:
            return None
        if isinstance(current, wanted):
            return current
        current = current.__cause__ or current.__context__
    return None


def _status_error(exc: Any, host: str, secret: str | None) -> ChatError:
    status = exc.status_code
    detail = _provider_message(exc, secret)
    retry_after = _retry_after(exc.response)
    if status == 401:
        kind, text = ErrorKind.AUTH, "The API key was rejected (401). Check it in Settings."
    elif status == 403:
        kind, text = ErrorKind.AUTH, f"Access denied (403): {detail}"
    elif status == 404:
        kind, text = ErrorKind.NOT_FOUND, f"Not found (404) — unknown model or base URL: {detail}"
    elif status == 429 and retry_after is not None and retry_after > MAX_RETRY_AFTER:
        seconds = math.ceil(retry_after)
        kind = ErrorKind.RATE_LIMIT
        text = f"Rate limited for {seconds} s by {host}. Try again later. ({detail})"
    elif status == 429:
        kind, text = ErrorKind.RATE_LIMIT, f"Rate limited by {host} (429): {detail}"
    elif status in (400, 422):
        kind, text = ErrorKind.BAD_REQUEST, f"{host} refused the request ({status}): {detail}"
    elif status >= 500:
        kind, text = ErrorKind.SERVER, f"{host} had a server error ({status}): {detail}"
    else:
        kind, text = ErrorKind.OTHER, f"{host} answered {status}: {detail}"
    return ChatError(kind, text, status=status, retry_after=retry_after)


def _provider_message(exc: Any, secret: str | None) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if isinstance(message, str) and message:
            return outside_text(message, secret)
    elif isinstance(body, str) and body:  # not JSON, or JSON cut at the error-body cap
        return outside_text(body, secret)
    return outside_text(str(exc.message), secret)


def outside_text(text: str, secret: str | None, limit: int = PROVIDER_MESSAGE_LIMIT) -> str:
    """A provider's text made fit for a message: one line, no controls, no key, clipped."""
    text = replace_lone_surrogates(strip_control_chars(text))
    text = " ".join(redact(text, secret).split())
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text


def _retry_after(response: Any) -> float | None:
    headers = response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if not value:
            continue
        seconds: float | None
        try:
            seconds = float(value) / scale
        except ValueError:
            seconds = _seconds_until(value) if scale == 1.0 else None
        if seconds is not None and math.isfinite(seconds):
            return max(0.0, seconds)
    return None


def _seconds_until(http_date: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError):
        return None
    return when - time.time()
