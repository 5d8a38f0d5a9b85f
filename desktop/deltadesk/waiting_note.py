"""The live line in an answer's place while no token has come: how long we have waited for
the first token, or how long until the client tries again, then that it is trying again
(the line never goes blank between a retry's countdown and the first token). No Qt here;
the controller's clock asks for the line a few times a second and passes it on when it
changes."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from deltadesk.core.client import FIRST_TOKEN_SIGNAL_S
from deltadesk.core.events import Retrying

TICK_MS = 250  # a few ticks a second, so a countdown's seconds change on time


def first_token_note(waited_s: float) -> str:
    return f"waiting for the first token · {int(waited_s)} s — the model may be loading or thinking"


def retry_note(remaining_s: float, reason: str) -> str:
    seconds = max(1, math.ceil(remaining_s))
    return f"retrying in {seconds} s — {reason}"


def retried_note(attempt: int, reason: str) -> str:
    """The countdown is over: the next try is on its way."""
    return f"trying again (attempt {attempt}) — the last one failed: {reason}"


@dataclass
class WaitingClock:
    """What to show while an answer has no token yet (None: nothing, or not any more)."""

    started: float
    retry_at: float | None = None
    retry_reason: str = ""
    retry_attempt: int = 0  # the try that comes after the countdown
    got_token: bool = False

    def retrying(self, event: Retrying, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.retry_at = now + event.delay
        self.retry_reason = event.reason
        self.retry_attempt = event.attempt + 1

    def note(self, now: float | None = None) -> str | None:
        if self.got_token:
            return None
        now = time.monotonic() if now is None else now
        if self.retry_at is not None and now < self.retry_at:
            return retry_note(self.retry_at - now, self.retry_reason)
        waited = now - self.started
        if self.retry_at is not None and now - self.retry_at < FIRST_TOKEN_SIGNAL_S:
            return retried_note(self.retry_attempt, self.retry_reason)
        if waited >= FIRST_TOKEN_SIGNAL_S:
            return first_token_note(waited)
        return None
