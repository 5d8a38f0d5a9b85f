"""Issue 7, section 7: hundreds of answers in one process, a third of them stopped.

One child runs the real pipeline (Services, build_window, ChatController, ChatView on the
qasync loop, window shown) as the `app` case does, against the bench server's soak server in
its own process. Each answer starts a new chat; a seeded third of them get the window's Stop
at a seeded random moment. After every answer the child's resident set is sampled; at the
end it counts its own pending asyncio tasks and asks the server process what it still has
open (server.py: handlers running and TCP sockets as the kernel sees them).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import tempfile
import time
import urllib.request
from collections import Counter
from typing import Any

from tests.perf.app_probe import AppProbe, run_app
from tests.perf.harness import ms
from tests.perf.server import SOAK_COUNTS_PATH, soak_answer_tokens

SEED = 20_261_201
STOP_SHARE = 1 / 3
WINDOW = 50  # answers at the start and at the end whose resident sets are compared
# A stop lands uniformly in this span after Send: about one whole answer here, so some land
# before the first token, most mid-answer, a few after the end (then nothing is stopped).
STOP_SPAN_S = 0.2
SETTLE_S = 5.0  # how long the last connections and tasks get to go away before counting
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def loop_timer_handles() -> int | None:
    """Timer handles the qasync loop still holds (None if it cannot tell). qasync keeps a
    call_later/call_at handle, and its Qt timer, until the deadline even once cancelled:
    every per-read timeout of a stream stays for as long as that timeout was."""
    timer = getattr(asyncio.get_running_loop(), "_timer", None)
    callbacks = getattr(timer, "_SimpleTimer__callbacks", None)
    return len(callbacks) if isinstance(callbacks, dict) else None


def current_rss_mb() -> float:
    """The resident set now (not the peak): /proc/self/statm's second field, in pages."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * _PAGE_BYTES / 2**20


def stop_plan(streams: int, seed: int) -> dict[int, float]:
    """Which answers are stopped (a third, by index) and when (seconds after Send)."""
    rng = random.Random(seed)
    chosen = rng.sample(range(streams), round(streams * STOP_SHARE))
    return {index: rng.uniform(0.0, STOP_SPAN_S) for index in sorted(chosen)}


def soak(base_url: str, counts_url: str, streams: int, seed: int = SEED) -> dict[str, Any]:
    """A child: `streams` answers through the app, then what is left over."""
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-soak-") as home:
        return run_app(
            home, lambda shell, loop: _soak(shell, loop, base_url, counts_url, streams, seed)
        )


class _Tally:
    """What the answers of one soak came to, one answer at a time."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.expected = "".join(soak_answer_tokens())
        self.last_id: int | None = None  # the answer streaming or last streamed
        self.statuses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.text_problems: list[int] = []
        self.rss: list[float] = []
        self.timer_handles: list[int | None] = []
        self.stuck: str | None = None
        shell.controller.message_added.connect(self._on_added)

    def _on_added(self, message: Any) -> None:
        if message.role == "assistant":
            self.last_id = message.id

    async def answer(self, index: int, stop_after: float | None) -> None:
        """One answer in a new chat, with the window's Stop `stop_after` s after Send."""
        shell = self.shell
        shell.new_chat()
        loop = asyncio.get_running_loop()
        press = None
        if stop_after is not None:
            press = loop.call_later(stop_after, shell.window.stop_requested.emit)
        status = await _send(shell, f"soak answer {index}")
        if press is not None:
            press.cancel()  # it must not land on the next answer
        self._count(index, status)
        if shell.controller.busy:
            self.stuck = f"answer {index} ended ({status}) with the window still busy"

    def _count(self, index: int, status: str) -> None:
        self.statuses[status] += 1
        message = None
        if self.last_id is not None:
            message = self.shell.services.store.get_message(self.last_id)
        if message is not None and message.error_message:
            self.errors[f"{message.error_kind}: {message.error_message[:160]}"] += 1
        if not _stored_text_ok(message, status, self.expected):
            self.text_problems.append(index)
        self.rss.append(current_rss_mb())
        self.timer_handles.append(loop_timer_handles())

    def figures(self) -> dict[str, Any]:
        return {
            "statuses": dict(self.statuses),
            "stored_errors": dict(self.errors.most_common(5)),
            "stored_text_not_ok_count": len(self.text_problems),
            "stored_text_not_ok": self.text_problems[:20],
            "stuck": self.stuck,
            "rss": _rss_figures(self.rss),
            "loop_timer_handles": _timer_figures(self.timer_handles),
        }


async def _send(shell: Any, prompt: str) -> str:
    """controller.send, as the Send button runs it; its status, or what went wrong."""
    try:
        return str(await shell.controller.send(prompt))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the soak itself is being cancelled
        # Nobody cancels the soak: the Stop reached the answer's task before it ran its
        # first step, and send() passed the cancellation on instead of a status.
        return "send raised CancelledError"


async def _soak(
    shell: Any,
    loop: asyncio.AbstractEventLoop,
    base_url: str,
    counts_url: str,
    streams: int,
    seed: int,
) -> dict[str, Any]:
    probe = AppProbe(shell, base_url)
    await probe.answer("warmup")  # lazy imports, first connection, first layout
    tally = _Tally(shell)
    plan = stop_plan(streams, seed)
    tasks_at_start = _pending_tasks()
    started = time.monotonic()
    for index in range(streams):
        await tally.answer(index, plan.get(index))
        if tally.stuck:  # every later Send would be ignored: nothing more to measure
            break
    streaming_s = time.monotonic() - started
    done = len(tally.rss)
    return {
        "streams": streams,
        "streams_run": done,
        "stops_planned": len(plan),
        **tally.figures(),
        "tasks_pending_at_start": len(tasks_at_start),
        **(await _leftovers(counts_url)),
        "streaming_s": round(streaming_s, 1),
        "ms_per_stream": ms(streaming_s / max(done, 1)),
    }


def _stored_text_ok(message: Any, status: str, expected: str) -> bool:
    """A finished answer is stored whole; a stopped one as a prefix of what was sent."""
    if message is None or message.status != status:
        return False
    if status == "done":
        return bool(message.content == expected)
    return status == "stopped" and expected.startswith(message.content)


def _rss_figures(samples: list[float]) -> dict[str, Any]:
    """Mean resident set of the first WINDOW answers and of the last WINDOW; no growth
    figure when too few answers ran for two windows that do not overlap."""
    if len(samples) < 2 * WINDOW:
        return {"window": WINDOW, "growth_pct": None, "samples": len(samples)}
    window = WINDOW
    first = statistics.mean(samples[:window])
    last = statistics.mean(samples[-window:])
    return {
        "first_window_mb": round(first, 1),
        "last_window_mb": round(last, 1),
        "window": window,
        "growth_pct": round((last - first) / first * 100, 2),
        "min_mb": round(min(samples), 1),
        "max_mb": round(max(samples), 1),
    }


def _timer_figures(samples: list[int | None]) -> dict[str, int | None]:
    known = [sample for sample in samples if sample is not None]
    if not known:
        return {"max": None, "at_end": None}
    return {"max": max(known), "at_end": known[-1]}


def _pending_tasks() -> list[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not current and not task.done()]


def _task_name(task: asyncio.Task[Any]) -> str:
    coro = task.get_coro()
    return getattr(coro, "__qualname__", repr(coro))


def server_counts(counts_url: str) -> dict[str, Any]:
    with urllib.request.urlopen(counts_url, timeout=5) as response:
        counts: dict[str, Any] = json.load(response)
    return counts


def _all_closed(counts: dict[str, Any]) -> bool:
    keys = ("handlers_running", "server_sockets_open", "client_sockets_open")
    return all(counts.get(key) == 0 for key in keys)


async def _leftovers(counts_url: str) -> dict[str, Any]:
    """What is still open once everything had SETTLE_S to close: tasks here, connections
    in the server process. Counted at once too, since a slow close is worth knowing."""
    at_end = server_counts(counts_url)
    deadline = time.monotonic() + SETTLE_S
    waited = time.monotonic()
    counts = at_end
    while not (_all_closed(counts) and not _pending_tasks()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        counts = server_counts(counts_url)
    waited = time.monotonic() - waited
    pending = _pending_tasks()
    return {
        "tasks_pending": len(pending),
        "tasks_pending_names": sorted(_task_name(task) for task in pending),
        "server_connections_open": counts.get("server_sockets_open"),
        "client_connections_open": counts.get("client_sockets_open"),
        "server_handlers_running": counts.get("handlers_running"),
        "server_requests": counts.get("requests"),
        "open_right_after_last_stream": {k: v for k, v in at_end.items() if k != "requests"},
        "settle_ms": ms(waited),
    }


def counts_url_for(main_url: str) -> str:
    """The main server's address for the soak counts (main_url ends in /v1)."""
    return main_url.removesuffix("/v1") + SOAK_COUNTS_PATH
