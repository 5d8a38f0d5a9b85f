"""The four streaming cases, each run in a fresh child process (harness.child_main).

- raw_sdk: the floor, plain asyncio and the SDK, tokens into a list.
- app: the real pipeline (Services, build_window, ChatController, ChatView) on the qasync loop.
- naive_append: a QTextEdit getting every token inserted at once.
- naive_set_markdown: a QTextEdit re-set with the whole markdown on every token (quadratic).

Each does one warm-up answer first (the lazy `import openai`, the first connection, Qt's first
layout), then the measured answer; or, in stop mode, Stop after ~500 tokens of an endless one.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from typing import Any

from tests.perf.app_probe import AppProbe, run_app
from tests.perf.corpus import markdown_text
from tests.perf.harness import Heartbeat, ms, peak_rss_mb, start_qt
from tests.perf.sdk_stream import SdkStream, StopPresser, make_sdk_client

WINDOW_SIZE = (1180, 760)  # MainWindow's own default, used for the baselines' windows too
NAIVE_BUDGET_S = 30.0


def prompt_for(tokens: int) -> str:
    return f"tokens:{tokens}"


def stream_figures(tokens: int, stream: SdkStream, cpu_s: float) -> dict[str, Any]:
    done = stream.tokens
    return {
        "tokens": tokens,
        "tokens_done": done,
        "finished": stream.finished and done == tokens,
        "cpu_us_per_token": round(cpu_s / max(done, 1) * 1e6, 2),
        "ttft_ms": ms(stream.first_shown - stream.requested if stream.first_shown else None),
        "end_lag_ms": ms(
            stream.last_shown - stream.last_received
            if stream.last_shown and stream.last_received
            else None
        ),
    }


async def measure(stream: SdkStream, heartbeat: Heartbeat | None) -> float:
    """Runs the stream; returns the CPU seconds this process spent on it."""
    if heartbeat is not None:
        heartbeat.start()
    cpu_before = time.process_time()
    await stream.run()
    cpu = time.process_time() - cpu_before
    if heartbeat is not None:
        heartbeat.stop()
    return cpu


async def stop_figures(
    stream: SdkStream, loop: asyncio.AbstractEventLoop, heartbeat: Heartbeat | None
) -> dict[str, Any]:
    presser = StopPresser(loop, lambda: stream.tokens, stream.stop)
    presser.start()
    if heartbeat is not None:
        heartbeat.start()
    await stream.run()
    settled = time.monotonic()
    presser.join(1.0)
    result: dict[str, Any] = {
        "pressed_at": presser.pressed_at,
        "tokens_at_press": presser.tokens_at_press,
        "stopped": stream.stop_requested and not stream.finished,
        "stop_to_settled_ms": ms(settled - presser.pressed_at if presser.pressed_at else None),
    }
    if heartbeat is not None:
        heartbeat.stop()
    return result


# -- raw_sdk ------------------------------------------------------------------------------------


def raw_sdk(base_url: str, tokens: int, stop_url: str | None = None) -> dict[str, Any]:
    return asyncio.run(_raw_sdk(base_url, tokens, stop_url))


async def _raw_sdk(base_url: str, tokens: int, stop_url: str | None) -> dict[str, Any]:
    client = make_sdk_client(base_url)
    warmup = SdkStream(client, "warmup")
    await warmup.run()
    result: dict[str, Any]
    if stop_url is not None:
        stop_client = make_sdk_client(stop_url)
        loop = asyncio.get_running_loop()
        result = await stop_figures(SdkStream(stop_client, "stop"), loop, None)
        await stop_client.close()
    else:
        stream = SdkStream(client, prompt_for(tokens))
        cpu = await measure(stream, None)
        result = stream_figures(tokens, stream, cpu)
        result["text_ok"] = "".join(stream.received) == markdown_text(tokens)
    await client.close()
    result["cold_ttft_ms"] = ms((warmup.first_shown or warmup.requested) - warmup.requested)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


# -- the naive QTextEdit baselines --------------------------------------------------------------


class NaiveView:
    """A QTextEdit in a main window, fed the way a naive client feeds it."""

    def __init__(self, set_markdown: bool) -> None:
        from PySide6.QtGui import QTextCursor
        from PySide6.QtWidgets import QMainWindow, QTextEdit

        self.window = QMainWindow()
        self.edit = QTextEdit()
        self.edit.setReadOnly(True)
        self.window.setCentralWidget(self.edit)
        self.window.resize(*WINDOW_SIZE)
        self.window.show()
        self._set_markdown = set_markdown
        self._cursor = QTextCursor(self.edit.document())
        self._parts: list[str] = []

    def clear(self) -> None:
        self.edit.clear()
        self._parts.clear()

    def sink(self, text: str) -> None:
        from PySide6.QtGui import QTextCursor

        if self._set_markdown:
            self._parts.append(text)
            self.edit.setMarkdown("".join(self._parts))
        else:
            self._cursor.movePosition(QTextCursor.MoveOperation.End)
            self._cursor.insertText(text)
        bar = self.edit.verticalScrollBar()  # follow the stream, as every chat client does
        bar.setValue(bar.maximum())

    def text_ok(self, received: str, expected: str) -> bool:
        """Nothing lost or altered on the way: the widget shows what the server sent."""
        from PySide6.QtGui import QTextDocument

        if not expected.startswith(received):
            return False
        if not self._set_markdown:
            return self.edit.toPlainText() == received
        reference = QTextDocument()
        reference.setMarkdown(received)
        return self.edit.toPlainText() == reference.toPlainText()


def naive_append(base_url: str, tokens: int, stop_url: str | None = None) -> dict[str, Any]:
    return _naive(base_url, tokens, stop_url, set_markdown=False)


def naive_set_markdown(base_url: str, tokens: int, stop_url: str | None = None) -> dict[str, Any]:
    return _naive(base_url, tokens, stop_url, set_markdown=True)


def _naive(base_url: str, tokens: int, stop_url: str | None, set_markdown: bool) -> dict[str, Any]:
    _app, loop = start_qt()
    view = NaiveView(set_markdown)
    with loop:
        result: dict[str, Any] = loop.run_until_complete(
            _naive_run(view, base_url, tokens, stop_url, loop)
        )
        loop.run_until_complete(loop.shutdown_asyncgens())
    result["peak_rss_mb"] = peak_rss_mb()
    return result


async def _naive_run(
    view: NaiveView,
    base_url: str,
    tokens: int,
    stop_url: str | None,
    loop: asyncio.AbstractEventLoop,
) -> dict[str, Any]:
    client = make_sdk_client(base_url)
    warmup = SdkStream(client, "warmup", view.sink)
    await warmup.run()
    view.clear()
    heartbeat = Heartbeat()
    result: dict[str, Any]
    if stop_url is not None:
        stop_client = make_sdk_client(stop_url)
        result = await stop_figures(SdkStream(stop_client, "stop", view.sink), loop, heartbeat)
        await stop_client.close()
    else:
        stream = SdkStream(client, prompt_for(tokens), view.sink, budget_s=NAIVE_BUDGET_S)
        cpu = await measure(stream, heartbeat)
        result = stream_figures(tokens, stream, cpu)
        result["text_ok"] = view.text_ok("".join(stream.received), markdown_text(tokens))
    result["heartbeat"] = heartbeat.summary()
    result["cold_ttft_ms"] = ms((warmup.first_shown or warmup.requested) - warmup.requested)
    await client.close()
    return result


# -- the app ------------------------------------------------------------------------------------


def app(base_url: str, tokens: int, stop_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-") as home:
        return run_app(home, lambda shell, loop: _app_run(shell, loop, base_url, tokens, stop_url))


async def _app_run(
    shell: Any, loop: asyncio.AbstractEventLoop, base_url: str, tokens: int, stop_url: str | None
) -> dict[str, Any]:
    probe = AppProbe(shell, base_url)
    cold = await probe.answer("warmup")
    shell.new_chat()
    heartbeat = Heartbeat()
    if stop_url is not None:
        probe.use_server(stop_url)
        presser = StopPresser(loop, lambda: shell.controller.stats.tokens, shell.controller.stop)
        presser.start()
        result = await probe.answer("stop", heartbeat=heartbeat)
        presser.join(1.0)
        result = probe.stop_figures(result, presser)
    else:
        expected = markdown_text(tokens)
        result = await probe.answer(prompt_for(tokens), heartbeat=heartbeat)
        result["tokens"] = tokens
        result["finished"] = result["status"] == "done" and result["tokens_done"] == tokens
        result["cpu_us_per_token"] = round(result.pop("cpu_s") / tokens * 1e6, 2)
        checks = probe.text_ok(expected)
        result["text_ok"] = all(checks.values())
        result["text_checks"] = checks
    result["cold_ttft_ms"] = cold["ttft_ms"]
    return result
