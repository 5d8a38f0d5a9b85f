"""How much an endpoint may send. Kept apart from transport.py, which needs httpx2: the
client module imports this at start-up, httpx2 only comes with the first request."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    """Caps on one response's bytes, applied by transport.py."""

    max_event_bytes: int = 16 * MIB  # one SSE event or line; a 5 MB delta still fits
    max_body_bytes: int = 32 * MIB  # a body that is not an event stream (the model list)
    max_error_body_bytes: int = 64 * 1024  # an error status's body; the message is clipped
