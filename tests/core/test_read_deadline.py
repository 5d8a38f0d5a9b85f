"""The read deadline: one timer per answer, exact timeouts, and a user's cancel left alone."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from deltadesk.core.client import ChatClient
from deltadesk.core.read_deadline import ReadDeadline
from tests.core.test_client import PROMPT, profile_for
from tests.sse_script import answer_chunks, streaming


def test_an_answer_of_two_thousand_chunks_schedules_a_handful_of_timers(serve: Any) -> None:
    """qasync keeps every cancelled timer until its deadline: a timer per chunk (as
    `asyncio.timeout` around each read made) piled up by the ten thousand."""
    server = serve(streaming(answer_chunks([f"w{i} " for i in range(2000)])))

    async def go() -> tuple[int, Counter[str]]:
        loop = asyncio.get_running_loop()
        scheduled: Counter[str] = Counter()
        call_at = loop.call_at

        def counting_call_at(when: float, callback: Any, *args: Any, **kwargs: Any) -> Any:
            scheduled[getattr(callback, "__qualname__", repr(callback))] += 1
            return call_at(when, callback, *args, **kwargs)

        loop.call_at = counting_call_at  # type: ignore[method-assign]
        client = ChatClient(profile_for(server), None)
        try:
            events = [event async for event in client.stream(PROMPT)]
        finally:
            await client.aclose()
        return len(events), scheduled

    count, scheduled = asyncio.run(go())
    assert count >= 2000
    ours = scheduled["ReadDeadline._fire"] + scheduled["Timeout._on_timeout"]
    assert ours <= 5, scheduled  # was 2,004 with a timeout around every read
    # httpx's read timeout added one per socket read; with none, only the request's own
    # connect/write/pool timers are left.
    assert sum(scheduled.values()) <= 20, scheduled


def test_a_deadline_moved_later_waits_for_the_new_time() -> None:
    async def go() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = ReadDeadline(started + 0.1)
        deadline.move_to(started + 0.3)
        with pytest.raises(TimeoutError):
            await deadline.read(lambda: asyncio.sleep(5))
        deadline.close()
        return loop.time() - started

    assert 0.28 <= asyncio.run(go()) < 2.0


def test_a_deadline_moved_earlier_fires_at_the_earlier_time() -> None:
    async def go() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = ReadDeadline(started + 30)
        reading = asyncio.ensure_future(deadline.read(lambda: asyncio.sleep(60)))
        await asyncio.sleep(0.05)
        deadline.move_to(started + 0.2)  # as the first token ends the long first wait
        with pytest.raises(TimeoutError):
            await reading
        deadline.close()
        return loop.time() - started

    assert 0.18 <= asyncio.run(go()) < 5.0


def test_the_deadline_never_cuts_the_consumer_between_reads() -> None:
    """Past the deadline while no read runs: the consumer's own await is not cancelled; the
    next read raises instead."""

    async def go() -> None:
        loop = asyncio.get_running_loop()
        deadline = ReadDeadline(loop.time() + 0.05)
        assert await deadline.read(lambda: asyncio.sleep(0, "first")) == "first"
        await asyncio.sleep(0.2)  # the consumer at work, past the deadline: not cancelled
        with pytest.raises(TimeoutError):
            await deadline.read(lambda: asyncio.sleep(0, "late"))
        deadline.close()

    asyncio.run(go())


def test_a_users_cancel_during_a_read_stays_a_cancel() -> None:
    async def go() -> None:
        loop = asyncio.get_running_loop()
        deadline = ReadDeadline(loop.time() + 0.1)
        reading = asyncio.ensure_future(deadline.read(lambda: asyncio.sleep(5)))
        await asyncio.sleep(0.02)
        reading.cancel()  # a Stop, before the deadline
        with pytest.raises(asyncio.CancelledError):
            await reading
        deadline.close()

    asyncio.run(go())
