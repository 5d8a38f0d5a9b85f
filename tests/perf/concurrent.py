"""Issue 8, section 2: four answers streaming at once, against the raw SDK doing the same.

Both run in fresh children (harness.child_main) against the bench server's process, which
sends the four answers of server.concurrent_streams at full speed, each its own text:

- raw_concurrent: the floor, four `AsyncOpenAI` streams gathered in plain asyncio.
- app_concurrent: the real pipeline (Services, build_window, the controller's sessions on the
  qasync loop, window shown). One chat in view runs a comparison of two profiles, so its two
  answers stream in the compare view's columns, both visible (the chat page behind them lays
  out neither until it is shown again); two other conversations, not in view, each stream an
  answer in their own session. All four start together and are awaited together.

The CPU figure is the child's `time.process_time()` (every thread) from the start of the
four streams to the end of the last. BENCH_CONCURRENT_PROFILE=FILE writes a cProfile of the
app child's measured part there, and the whole profile to FILE.pstats (such a run is slower:
its figures say "profiled").
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import os
import pstats
import tempfile
import time
from typing import Any

from tests.perf.app_probe import FIRST_TOKEN_LIMIT_S, AppProbe, run_app
from tests.perf.harness import Heartbeat
from tests.perf.sdk_stream import SdkStream, make_sdk_client
from tests.perf.server import ConcurrentStream, concurrent_streams

PROFILE_ENV = "BENCH_CONCURRENT_PROFILE"
PAINTS_ENV = "BENCH_CONCURRENT_PAINTS"  # =1: count the paint events by widget class
PROFILE_LINES = 40
VISIBLE = ("column_1", "column_2")  # the compare view's columns; the others are not in view


def _expected(stream: ConcurrentStream, tokens: int) -> str:
    return "".join(stream.tokens(tokens))


def _cpu_figures(tokens: int, cpu_s: float, wall_s: float) -> dict[str, Any]:
    streams = len(concurrent_streams(tokens))
    return {
        "streams": streams,
        "tokens_each": tokens,
        "cpu_s": round(cpu_s, 3),
        "cpu_us_per_token": round(cpu_s / (streams * tokens) * 1e6, 2),
        "wall_s": round(wall_s, 3),
    }


class GcTime:
    """The time the cyclic garbage collector took, by generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._started
            self.runs[info["generation"]] += 1

    def stop(self) -> dict[str, Any]:
        gc.callbacks.remove(self._callback)
        return {"seconds": [round(s, 3) for s in self.seconds], "runs": self.runs}


# -- raw_concurrent -------------------------------------------------------------------------------


def raw_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    return asyncio.run(_raw_concurrent(base_url, tokens))


async def _raw_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    client = make_sdk_client(base_url)
    await SdkStream(client, "warmup").run()
    plan = concurrent_streams(tokens)
    streams = [SdkStream(client, s.prompt, model=s.model) for s in plan]
    gc_time = GcTime()
    cpu_before, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(stream.run() for stream in streams))
    cpu_s, wall_s = time.process_time() - cpu_before, time.monotonic() - started
    collected = gc_time.stop()
    await client.close()
    per_stream = {
        s.name: {
            "tokens_done": stream.tokens,
            "stored_equals_sent": "".join(stream.received) == _expected(s, tokens),
        }
        for s, stream in zip(plan, streams, strict=True)
    }
    return {
        **_cpu_figures(tokens, cpu_s, wall_s),
        "text_ok": all(figures["stored_equals_sent"] for figures in per_stream.values()),
        "gc": collected,
        "per_stream": per_stream,
    }


# -- app_concurrent -------------------------------------------------------------------------------


def app_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-concurrent-") as home:
        spent = _TimeSpent()
        result = run_app(home, lambda shell, _loop: _app_concurrent(shell, base_url, tokens))
        if "cpu_s" in result:
            result["time_in"] = spent.figures(result["cpu_s"])
        return result


class _TimeSpent:
    """Where the app's time goes, without a profiler's distortion: two methods timed at class
    level in this child (a few thousand calls, so the wrappers cost ~nothing). `handover_s`:
    the frame clock giving each stream's buffered text to the views (AnswerStream.flush),
    including the renders it runs at once; `render_s`: every tail render of every view
    (TailRenderer.render_pending: markdown append, document edit, following the text; a
    split render's edit in TailRenderer._apply_held). `renders` counts both halves."""

    def __init__(self) -> None:
        from deltadesk.answer_stream import AnswerStream
        from deltadesk.ui.tail_renderer import TailRenderer

        self.seconds = {"handover": 0.0, "render": 0.0, "render_in_handover": 0.0}
        self.calls = {"handover": 0, "render": 0}
        self._in_handover = False
        AnswerStream.flush = self._timed(AnswerStream.flush, "handover")  # type: ignore[method-assign]
        TailRenderer.render_pending = self._timed(TailRenderer.render_pending, "render")  # type: ignore[method-assign]
        # A split render's document edit comes at the next turn of the loop (its own timer).
        TailRenderer._apply_held = self._timed(TailRenderer._apply_held, "render")  # type: ignore[method-assign]

    def _timed(self, method: Any, name: str) -> Any:
        def timed(instance: Any, *args: Any, **kwargs: Any) -> Any:
            handover = name == "handover"
            if handover:
                self._in_handover = True
            started = time.perf_counter()
            try:
                return method(instance, *args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds[name] += spent
                self.calls[name] += 1
                if handover:
                    self._in_handover = False
                elif self._in_handover:
                    self.seconds["render_in_handover"] += spent

        return timed

    def figures(self, cpu_s: float) -> dict[str, Any]:
        """Includes the warm-up answer (60 tokens): negligible beside four long ones."""
        handover, render = self.seconds["handover"], self.seconds["render"]
        views = handover + render - self.seconds["render_in_handover"]
        return {
            "handover_s": round(handover, 3),
            "render_s": round(render, 3),
            "renders": self.calls["render"],
            "frames_handed_over": self.calls["handover"],
            "everything_else_s": round(cpu_s - views, 3),
        }


class _PaintCounter:
    """Paint events by widget class (an application-wide event filter: slows the run)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject
        from PySide6.QtWidgets import QApplication

        counts: dict[str, int] = {}
        paint = QEvent.Type.Paint

        class Filter(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:
                if event.type() == paint:
                    name = type(watched).__name__
                    counts[name] = counts.get(name, 0) + 1
                return False

        self.counts = counts
        self._filter = Filter()
        self._app = QApplication.instance()
        self._app.installEventFilter(self._filter)

    def stop(self) -> dict[str, int]:
        self._app.removeEventFilter(self._filter)
        return dict(sorted(self.counts.items(), key=lambda item: -item[1]))


class _Answers:
    """Which answer message is which stream: (conversation, model) as message_added says."""

    def __init__(self, shell: Any) -> None:
        self.by_key: dict[tuple[int, str | None], int] = {}
        shell.controller.message_added.connect(self._on_added)

    def _on_added(self, message: Any) -> None:
        if message.role == "assistant":
            self.by_key[(message.conversation_id, message.model)] = message.id


def _second_profile(shell: Any, base_url: str) -> Any:
    """A second bench profile (another model name) for the compare's second column."""
    from deltadesk.core.profiles import Profile

    plan = concurrent_streams(1)
    profile = Profile(
        name="Bench 2",
        base_url=base_url,
        model=plan[1].model,
        max_attempts=1,
        first_chunk_timeout=FIRST_TOKEN_LIMIT_S,
    )
    shell.services.profiles.upsert(profile)
    return profile


async def _app_concurrent(shell: Any, base_url: str, tokens: int) -> dict[str, Any]:
    probe = AppProbe(shell, base_url)  # the active profile: the bench server, model MODEL
    await probe.answer("warmup")
    first, second = shell.services.profiles.active, _second_profile(shell, base_url)
    store, controller = shell.services.store, shell.controller
    backgrounds = [store.create_conversation(f"Background {n}").id for n in (1, 2)]
    shell.refresh_conversations()
    shell.new_chat()
    column, _column, background_1, background_2 = concurrent_streams(tokens)
    answers = _Answers(shell)
    probe.tokens = 0
    heartbeat = Heartbeat()
    profiler = cProfile.Profile() if os.environ.get(PROFILE_ENV) else None
    paints = _PaintCounter() if os.environ.get(PAINTS_ENV) else None
    heartbeat.start()
    gc_time = GcTime()
    cpu_before, started = time.process_time(), time.monotonic()
    if profiler is not None:
        profiler.enable()
    statuses = await asyncio.gather(
        controller.compare(None, column.prompt, [first, second]),
        controller.send(backgrounds[0], background_1.prompt),
        controller.send(backgrounds[1], background_2.prompt),
    )
    if profiler is not None:
        profiler.disable()
    cpu_s, wall_s = time.process_time() - cpu_before, time.monotonic() - started
    collected = gc_time.stop()
    heartbeat.stop()
    in_view = controller.conversation_id
    ids = {
        "column_1": answers.by_key.get((in_view, first.model)),
        "column_2": answers.by_key.get((in_view, second.model)),
        "background_1": answers.by_key.get((backgrounds[0], first.model)),
        "background_2": answers.by_key.get((backgrounds[1], first.model)),
    }
    per_stream = _stream_checks(shell, ids, tokens)
    checks = [
        value
        for figures in per_stream.values()
        for key, value in figures.items()
        if key.endswith("_equals_sent") or key.endswith("_one_shot")
    ]
    result = {
        **_cpu_figures(tokens, cpu_s, wall_s),
        "tokens_done": probe.tokens,
        "statuses": {
            "compare": statuses[0],
            "background_1": statuses[1],
            "background_2": statuses[2],
        },
        "heartbeat": heartbeat.summary(),
        "heartbeat_p99_ms": heartbeat.summary()["p99_ms"],  # to pick the median run by
        "comparing": shell.window.is_comparing(),
        "text_ok": bool(checks) and all(checks),
        "gc": collected,
        "per_stream": per_stream,
    }
    if paints is not None:
        result["paints"] = paints.stop()
    if profiler is not None:
        result["profiled"] = True
        _write_profile(profiler, os.environ[PROFILE_ENV])
    return result


def _stream_checks(shell: Any, ids: dict[str, int | None], tokens: int) -> dict[str, Any]:
    """Per stream: stored text == sent; for a visible column, its streamed rendering == a
    one-shot rendering in a fresh view set up as a column is (compact, no actions); for an
    answer the chat view shows (none while the columns are up), the same in a fresh chat
    view."""
    from deltadesk.ui.chat_view import ChatView, MessageView

    plan = {stream.name: stream for stream in concurrent_streams(tokens)}
    columns, chat_view = shell.window.compare_view, shell.view
    results: dict[str, Any] = {}
    for name, message_id in ids.items():
        expected = _expected(plan[name], tokens)
        if message_id is None:
            results[name] = {"found": False, "stored_equals_sent": False}
            continue
        stored = shell.services.store.get_message(message_id)
        figures: dict[str, Any] = {
            "status": stored.status if stored else None,
            "stored_equals_sent": stored is not None and stored.content == expected,
        }
        column = columns.column(message_id)
        figures["visible"] = column is not None and column.isVisible()
        if column is not None:
            figures["column_equals_one_shot"] = column.view.message_plain_text(
                message_id
            ) == _one_shot(ChatView, MessageView, message_id, expected, compact=True)
        if message_id in chat_view.message_ids():
            figures["chat_view_equals_one_shot"] = chat_view.message_plain_text(
                message_id
            ) == _one_shot(ChatView, MessageView, message_id, expected, compact=False)
        results[name] = figures
    for name in VISIBLE:  # a column that is not shown is not the case asked for
        if not results[name].get("visible"):
            results[name]["column_equals_one_shot"] = False
    return results


def _one_shot(chat_view: Any, message_view: Any, message_id: int, text: str, compact: bool) -> str:
    reference = chat_view()
    if compact:
        reference.show_actions = False
        reference.set_compact(True)
    reference.add_message(message_view(id=message_id, role="assistant", content=text))
    shown: str = reference.message_plain_text(message_id)
    reference.deleteLater()
    return shown


def _where(filename: str, function: str) -> str:
    """A profile entry's package (site-packages/NAME), app module, or kind of built-in."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    if "/deltadesk/" in filename:
        return "deltadesk/" + filename.split("/deltadesk/", 1)[1]
    if filename == "~":
        return "Qt (PySide6)" if "PySide6" in function else "Python built-ins"
    return "Python standard library"


def _by_package(stats: pstats.Stats) -> list[tuple[float, str]]:
    totals: dict[str, float] = {}
    entries: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in entries.items():
        where = _where(filename, function)
        totals[where] = totals.get(where, 0.0) + own
    return sorted(((seconds, where) for where, seconds in totals.items()), reverse=True)


def _write_profile(profiler: cProfile.Profile, path: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    out.write("Own time by package or module (s):\n")
    for seconds, where in _by_package(stats)[:PROFILE_LINES]:
        out.write(f"{seconds:10.3f}  {where}\n")
    out.write("\n")
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    with open(path, "w") as file:
        file.write(out.getvalue())
    profiler.dump_stats(path + ".pstats")  # the whole profile, for pstats or snakeviz
