"""How long the model thought ("Thought for 3.2 s"): from its first reasoning token to its
first text token, or to the end when no text came; none without reasoning. Measured while
the answer streams, sent in its figures and stored on the message. Real server, real SQLite."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from deltadesk.live_answer import StreamStats
from tests.sse_script import chunk, streaming
from tests.test_controller import shell, stored, use_server

__all__ = ["shell"]

THINK_STEPS = 6
STEP_S = 0.04  # between events: the thinking lasts (THINK_STEPS - 1) steps at least


def thinking_then(words: list[str]) -> list[Any]:
    thoughts = [chunk(reasoning=f"step {n}. ") for n in range(THINK_STEPS)]
    return [
        chunk("", role="assistant"),
        *thoughts,
        *(chunk(w) for w in words),
        chunk(finish="stop"),
    ]


def last_stats(shell: Any) -> list[StreamStats]:
    seen: list[StreamStats] = []
    shell.controller.figures_changed.connect(lambda _mid, stats: seen.append(stats))
    return seen


def test_thinking_time_runs_from_the_first_thought_to_the_first_words(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    words = ["The ", "answer ", "is ", "42."]
    server = serve(streaming(thinking_then(words), delay=STEP_S))
    use_server(shell, server)
    seen = last_stats(shell)
    started = time.monotonic()
    assert qt_loop.run_until_complete(shell.controller.send(None, "think")) == "done"
    whole_ms = (time.monotonic() - started) * 1000
    answer = stored(shell)[-1]
    assert answer.content == "".join(words)
    assert answer.reasoning.startswith("step 0. ")
    thought = answer.reasoning_ms
    assert thought is not None
    # Six thoughts STEP_S apart, then the first word one step later: at least six steps
    # (timers never fire early), and less than the whole answer, whose words took four more.
    assert thought >= THINK_STEPS * STEP_S * 1000 * 0.95
    assert thought < whole_ms - (len(words) - 1) * STEP_S * 1000 * 0.95
    assert seen and seen[-1].reasoning_ms == thought  # the figures at the end carry it


def test_thinking_with_no_words_after_it_counts_to_the_end(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(thinking_then([]), delay=STEP_S))
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send(None, "think")) == "done"
    answer = stored(shell)[-1]
    assert answer.content == ""
    assert answer.reasoning_ms is not None
    assert answer.reasoning_ms >= THINK_STEPS * STEP_S * 1000 * 0.95


def test_an_answer_without_reasoning_has_no_thinking_time(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming([chunk("", role="assistant"), chunk("Hi."), chunk(finish="stop")]))
    use_server(shell, server)
    seen = last_stats(shell)
    assert qt_loop.run_until_complete(shell.controller.send(None, "hi")) == "done"
    assert stored(shell)[-1].reasoning_ms is None
    assert seen and all(stats.reasoning_ms is None for stats in seen)


def test_a_stopped_thought_keeps_the_time_it_took(shell: Any, qt_loop: Any, serve: Any) -> None:
    events = [chunk("", role="assistant"), *(chunk(reasoning=f"t{n} ") for n in range(500))]
    server = serve(streaming(events, delay=0.02))
    use_server(shell, server)
    controller = shell.controller
    thoughts: list[str] = []
    controller.reasoning_appended.connect(lambda _mid, text: thoughts.append(text))

    async def stop_while_thinking() -> str:
        task = asyncio.ensure_future(controller.send(None, "think long"))
        while not thoughts:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        controller.stop(controller.conversation_id)
        return await task

    assert qt_loop.run_until_complete(stop_while_thinking()) == "stopped"
    answer = stored(shell)[-1]
    assert answer.content == "" and answer.reasoning.startswith("t0 ")
    assert answer.reasoning_ms is not None and answer.reasoning_ms >= 250
