"""A deadline for the reads of one stream, kept by one timer rather than one per read.

`asyncio.timeout` around every chunk read schedules a timer per chunk and cancels it when the
chunk arrives. qasync keeps each cancelled timer (a QTimer) alive until its deadline, so with
a 60 s idle limit a fast answer held tens of thousands of dead timers at once (found by the
soak benchmark: memory grew by a fifth over 300 answers). Here one timer is armed per stream;
when the deadline moves later it is not touched, and when it fires early it re-arms itself
for the new deadline. Only a read in progress is cancelled: while the consumer handles an
event the stream's task is running the consumer's code, which a timeout must not cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


class ReadDeadline:
    """`await deadline.read(next_chunk)` raises TimeoutError once `due` has passed."""

    def __init__(self, due: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._due = due
        self._timer: asyncio.TimerHandle | None = None
        self._reader: asyncio.Task[object] | None = None
        self._expired = False

    @property
    def due(self) -> float:
        return self._due

    def move_to(self, due: float) -> None:
        """A new deadline (loop time). Later: nothing to do until the timer fires. Earlier
        (the first token ends the long first-token wait): the timer is set again."""
        earlier = due < self._due
        self._due = due
        if earlier and self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._arm()

    async def read(self, next_item: Callable[[], Awaitable[T]]) -> T:
        if self._loop.time() >= self._due:
            raise TimeoutError
        task = asyncio.current_task()
        assert task is not None
        self._reader = task
        self._arm()
        try:
            return await next_item()
        except asyncio.CancelledError:
            # Ours only when nobody else (a user's Stop) asked for a cancel too.
            if self._expired and task.uncancel() == 0:
                raise TimeoutError from None
            raise
        finally:
            self._reader = None
            self._expired = False

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_at(self._due, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._loop.time() < self._due:  # moved later since it was armed
            self._arm()
        elif self._reader is not None and not self._expired:
            self._expired = True
            self._reader.cancel()
        # Not reading now: the next read() sees the deadline has passed.
