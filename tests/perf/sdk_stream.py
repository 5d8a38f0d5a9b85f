"""The streaming loop the baselines share: the openai SDK read a token at a time into a sink,
and the "user presses Stop" thread every stop run uses.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.perf.server import MODEL

STOP_AFTER_TOKENS = 500
_PRESS_POLL_S = 0.0005
_PRESS_GIVE_UP_S = 60.0


def make_sdk_client(base_url: str) -> Any:
    from openai import AsyncOpenAI

    # A loopback server needs no key; the SDK insists on some value.
    return AsyncOpenAI(base_url=base_url, api_key="bench-no-key", max_retries=0)


class SdkStream:
    """One answer: `async for chunk in stream`, each content delta into `received` and the sink.

    Records when the request went out, when the first token was shown (sink returned), when the
    last token arrived and when it was shown. With `budget_s` it gives up (closing the stream)
    once that much wall time has passed, for the baseline that cannot finish.
    """

    def __init__(
        self,
        client: Any,
        prompt: str,
        sink: Callable[[str], None] | None = None,
        budget_s: float | None = None,
        model: str = MODEL,
    ) -> None:
        self._client = client
        self._model = model
        self._prompt = prompt
        self._sink = sink
        self._budget_s = budget_s
        self._stream: Any = None
        self._closing: asyncio.Future[None] | None = None
        self.received: list[str] = []
        self.requested = 0.0
        self.first_shown: float | None = None
        self.last_received: float | None = None
        self.last_shown: float | None = None
        self.finished = False
        self.stop_requested = False

    @property
    def tokens(self) -> int:
        return len(self.received)

    async def run(self) -> None:
        self.requested = time.monotonic()
        self._stream = await self._client.chat.completions.create(
            model=self._model,
            messages=[{"role": "user", "content": self._prompt}],
            stream=True,
            stream_options={"include_usage": True},
        )
        try:
            self.finished = await self._read()
        except Exception:
            if not self.stop_requested:  # a Stop makes the read fail; anything else is a bug
                raise
        finally:
            await self._stream.close()

    async def _read(self) -> bool:
        deadline = None if self._budget_s is None else self.requested + self._budget_s
        async for chunk in self._stream:
            if not chunk.choices:  # the usage chunk
                continue
            text = chunk.choices[0].delta.content
            if not text:
                continue
            received = time.monotonic()
            self.received.append(text)
            if self._sink is not None:
                self._sink(text)
            shown = time.monotonic()
            if self.first_shown is None:
                self.first_shown = shown
            self.last_received, self.last_shown = received, shown
            if deadline is not None and shown > deadline:
                return False
        return not self.stop_requested

    def stop(self) -> None:
        """What a Stop button does: close the HTTP response (the read loop then ends)."""
        self.stop_requested = True
        if self._stream is not None:
            self._closing = asyncio.ensure_future(self._stream.close())


class StopPresser(threading.Thread):
    """Plays the user: once `count()` reaches 500 tokens, presses Stop and notes the time.

    It runs beside the GUI thread, so a busy GUI thread delays the Stop's effect, not the
    press: the delay shows in the stop latency, as a user would feel it.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, count: Callable[[], int], press: Callable[[], None]
    ) -> None:
        super().__init__(name="bench-stop-presser", daemon=True)
        self._loop = loop
        self._count = count
        self._press = press
        self.pressed_at: float | None = None
        self.tokens_at_press = 0

    def run(self) -> None:
        give_up = time.monotonic() + _PRESS_GIVE_UP_S
        while self._count() < STOP_AFTER_TOKENS:
            if time.monotonic() > give_up:
                return
            time.sleep(_PRESS_POLL_S)
        self.pressed_at = time.monotonic()
        self.tokens_at_press = self._count()
        self._loop.call_soon_threadsafe(self._press)
