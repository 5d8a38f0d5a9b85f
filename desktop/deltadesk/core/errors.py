"""Typed errors: what went wrong, what to tell the user, and whether trying again can help."""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    AUTH = "auth"  # 401/403: wrong or missing key, no access
    NOT_FOUND = "not_found"  # 404: unknown model or wrong base URL path
    RATE_LIMIT = "rate_limit"  # 429
    BAD_REQUEST = "bad_request"  # 400/422: the provider refused the request
    SERVER = "server"  # 5xx
    CONNECTION = "connection"  # could not reach the endpoint, or it went away
    TIMEOUT = "timeout"  # no first chunk in time, or the stream went silent
    PROTOCOL = "protocol"  # the provider sent something that is not a valid chunk
    NO_KEY = "no_key"  # the profile needs a key and none is stored
    TOO_LONG = "too_long"  # the answer passed the profile's size cap; the stream was closed
    OTHER = "other"


# Kinds where the same request may well succeed a moment later.
RETRYABLE_KINDS = frozenset(
    {ErrorKind.RATE_LIMIT, ErrorKind.SERVER, ErrorKind.CONNECTION, ErrorKind.TIMEOUT}
)


class ChatError(Exception):
    """A failure of one request, with a short message fit to show the user."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after
        # None: as the kind says. A first-token timeout is a TIMEOUT that must not be retried
        # on its own (the server may still be loading the model), hence the override.
        self._retryable = retryable

    @property
    def retryable(self) -> bool:
        """Whether the client may send the same request again by itself."""
        if self._retryable is not None:
            return self._retryable
        return self.kind in RETRYABLE_KINDS

    def __repr__(self) -> str:
        return f"ChatError({self.kind.value!r}, {self.message!r}, status={self.status})"
