"""Runs the real app offscreen and times it from the outside, without changing its code.

The probe wraps two instance attributes and listens to one signal:
- controller._take: when each TextDelta reached the controller from the client (the SDK's
  chunk, normalised), i.e. "the last chunk was received";
- controller.text_appended, connected after the view's own slot: when the first text was
  handed to the view and rendered (the view renders the first flush at once);
- view.end_streaming: when the whole answer was rendered in its final form. (Later flushes
  may be deferred by the view when a render is slow, so "fully rendered" is measured here.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from deltadesk.core.events import TextDelta
from deltadesk.core.profiles import Profile
from tests.perf.harness import Heartbeat, ms, peak_rss_mb, start_qt
from tests.perf.sdk_stream import StopPresser
from tests.perf.server import MODEL

FIRST_TOKEN_LIMIT_S = 30.0
AppBody = Callable[[Any, asyncio.AbstractEventLoop], Awaitable[dict[str, Any]]]


def run_app(home: str, body: AppBody) -> dict[str, Any]:
    """Builds the app as run_gui does (data under `home`), shows it and runs `body` on its loop."""
    from deltadesk.app import warm_up_imports
    from deltadesk.core.paths import app_paths
    from deltadesk.services import Services
    from deltadesk.shell import build_window

    _app, loop = start_qt()
    services = Services(app_paths(home))
    shell = build_window(services)
    shell.window.show()
    # As run_gui does; a person takes longer to type a question than this takes to finish.
    warm_up_imports().join()
    with loop:
        try:
            result: dict[str, Any] = loop.run_until_complete(body(shell, loop))
        finally:
            loop.run_until_complete(shell.controller.shutdown())
            loop.run_until_complete(services.aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
    shell.window.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


class AppProbe:
    """Timestamps of one answer's way through the controller and the view."""

    def __init__(self, shell: Any, base_url: str) -> None:
        self.shell = shell
        self.use_server(base_url)
        controller, view = shell.controller, shell.view
        self._take = controller._take
        controller._take = self._timed_take  # the instance attribute wins over the method
        controller.text_appended.connect(self._on_text_shown)  # runs after the view's slot
        self._end_streaming = view.end_streaming
        view.end_streaming = self._timed_end_streaming
        self.message_id: int | None = None
        self._reset()

    def use_server(self, base_url: str) -> None:
        """Points the active profile at a bench server, as tests/test_controller.py does."""
        profiles = self.shell.services.profiles
        # An explicit first-token limit: the bench measures streaming, not the automatic one
        # (whose meaning changed with issue 7; a loopback server answers at once anyway).
        profile = Profile(
            name="Bench",
            base_url=base_url,
            model=MODEL,
            max_attempts=1,
            first_chunk_timeout=FIRST_TOKEN_LIMIT_S,
        )
        profiles.upsert(profile)
        profiles.set_active(profile.name)

    def _reset(self) -> None:
        self.tokens = 0
        self.requested = 0.0
        self.first_shown: float | None = None
        self.last_received: float | None = None
        self.final_shown: float | None = None

    def _timed_take(self, live: Any, event: object) -> None:
        if type(event) is TextDelta:
            self.last_received = time.monotonic()
            self.tokens += 1
        self._take(live, event)

    def _on_text_shown(self, _message_id: int, _text: str) -> None:
        if self.first_shown is None:
            self.first_shown = time.monotonic()

    def _timed_end_streaming(self, message_id: int, *args: Any) -> None:
        self._end_streaming(message_id, *args)
        self.final_shown = time.monotonic()
        self.message_id = message_id

    async def answer(self, prompt: str, heartbeat: Heartbeat | None = None) -> dict[str, Any]:
        """Sends `prompt` through the controller, as the Send button does, and times it."""
        self._reset()
        if heartbeat is not None:
            heartbeat.start()
        cpu_before = time.process_time()
        self.requested = time.monotonic()
        status = await self.shell.controller.send(prompt)
        cpu = time.process_time() - cpu_before
        result: dict[str, Any] = {"status": status, "tokens_done": self.tokens, "cpu_s": cpu}
        if heartbeat is not None:
            heartbeat.stop()
            result["heartbeat"] = heartbeat.summary()
        result["ttft_ms"] = ms(self._since(self.requested, self.first_shown))
        result["end_lag_ms"] = ms(self._since(self.last_received, self.final_shown))
        return result

    @staticmethod
    def _since(start: float | None, end: float | None) -> float | None:
        return None if start is None or end is None else end - start

    def stop_figures(self, result: dict[str, Any], presser: StopPresser) -> dict[str, Any]:
        pressed = presser.pressed_at
        return {
            "pressed_at": pressed,
            "tokens_at_press": presser.tokens_at_press,
            "stopped": result["status"] == "stopped",
            "stop_to_settled_ms": ms(self._since(pressed, self.final_shown)),
            "heartbeat": result.get("heartbeat"),
        }

    def text_ok(self, expected: str) -> dict[str, bool]:
        """Stored text == sent text, and the streamed rendering == a one-shot rendering of it.

        The one-shot rendering is the view's own path for a stored message (add_message) in a
        fresh ChatView, so code cards, tables and spacing are compared like for like.
        """
        from deltadesk.ui.chat_view import ChatView, MessageView

        assert self.message_id is not None
        stored = self.shell.services.store.get_message(self.message_id)
        reference = ChatView()
        reference.add_message(MessageView(id=self.message_id, role="assistant", content=expected))
        shown = self.shell.view.message_plain_text(self.message_id)
        return {
            "stored_equals_sent": stored is not None and stored.content == expected,
            "rendered_equals_one_shot": shown == reference.message_plain_text(self.message_id),
        }
