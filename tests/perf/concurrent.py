"""Issue 8, section 2: four answers streaming at once, against the raw SDK doing the same.

Both run in fresh children (harness.child_main) against the bench server's process, which
sends the four answers of server.concurrent_streams at full speed, each its own text:

- raw_concurrent: the floor, four `AsyncOpenAI` streams gathered in plain asyncio.
- app_concurrent: the real pipeline (Services, build_window, the controller's sessions on the
  qasync loop, window shown). One chat in view runs a comparison of two profiles, so its two
  answers stream in the compare view's columns, both visible (the chat view behind them
  streams the first one too, as the app does); two other conversations, not in view, each
  stream an answer in their own session. All four start together and are awaited together.

The CPU figure is the child's `time.process_time()` (every thread) from the start of the
four streams to the end of the last. BENCH_CONCURRENT_PROFILE=FILE writes a cProfile of the
app child's measured part there (such a run is slower: its figures say "profiled").
"""

from __future__ import annotations

import asyncio
import cProfile
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


# -- raw_concurrent -------------------------------------------------------------------------------


def raw_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    return asyncio.run(_raw_concurrent(base_url, tokens))


async def _raw_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    client = make_sdk_client(base_url)
    await SdkStream(client, "warmup").run()
    plan = concurrent_streams(tokens)
    streams = [SdkStream(client, s.prompt, model=s.model) for s in plan]
    cpu_before, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(stream.run() for stream in streams))
    cpu_s, wall_s = time.process_time() - cpu_before, time.monotonic() - started
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
        "per_stream": per_stream,
    }


# -- app_concurrent -------------------------------------------------------------------------------


def app_concurrent(base_url: str, tokens: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-concurrent-") as home:
        return run_app(home, lambda shell, _loop: _app_concurrent(shell, base_url, tokens))


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
    heartbeat.start()
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
        "comparing": shell.window.is_comparing(),
        "text_ok": bool(checks) and all(checks),
        "per_stream": per_stream,
    }
    if profiler is not None:
        result["profiled"] = True
        _write_profile(profiler, os.environ[PROFILE_ENV])
    return result


def _stream_checks(shell: Any, ids: dict[str, int | None], tokens: int) -> dict[str, Any]:
    """Per stream: stored text == sent; for a visible column, its streamed rendering == a
    one-shot rendering in a fresh view set up as a column is (compact, no actions); for the
    answer the chat view streamed behind the columns, the same in a fresh chat view."""
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


def _write_profile(profiler: cProfile.Profile, path: str) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    with open(path, "w") as file:
        file.write(out.getvalue())
