"""The two app-level figures: opening a 1,000,000-character conversation, and cold start."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.perf.app_probe import run_app
from tests.perf.corpus import markdown_of_length, question
from tests.perf.harness import Heartbeat, ms, paint_watcher

CONVERSATION_MESSAGES = 500
CONVERSATION_CHARS = 1_000_000
PAINT_WAIT_S = 20.0
AFTER_OPEN_WATCH_S = 1.0

# -- open_1m_conversation -----------------------------------------------------------------------


def build_conversation(home: str) -> dict[str, Any]:
    """A child without Qt: one conversation of 500 messages, ~1,000,000 characters in all."""
    from deltadesk.core.paths import app_paths
    from deltadesk.core.store import Store

    with Store(app_paths(home).db) as store:
        conversation = store.create_conversation("A very long chat")
        total = 0
        pairs = CONVERSATION_MESSAGES // 2
        for index in range(pairs):
            prompt = question(index)
            # Aim each answer at what is left, so the total lands near the goal.
            answer_chars = (CONVERSATION_CHARS - total) // (pairs - index) - len(prompt)
            answer = markdown_of_length(max(answer_chars, 200), seed=index)
            store.add_message(conversation.id, "user", prompt)
            store.add_message(conversation.id, "assistant", answer)
            total += len(prompt) + len(answer)
    return {"conversation_id": conversation.id, "messages": pairs * 2, "characters": total}


def open_conversation(home: str, conversation_id: int) -> dict[str, Any]:
    """A child: the app opens the conversation; time until the view's first paint after it."""
    return run_app(home, lambda shell, _loop: _open_and_wait_for_paint(shell, conversation_id))


async def _wait_for_paint(after: float, paints: list[float]) -> float | None:
    deadline = time.monotonic() + PAINT_WAIT_S
    while time.monotonic() < deadline:
        later = [paint for paint in paints if paint >= after]
        if later:
            return later[0]
        await asyncio.sleep(0.001)
    return None


async def _open_and_wait_for_paint(shell: Any, conversation_id: int) -> dict[str, Any]:
    view = shell.view
    paints: list[float] = []
    watcher = paint_watcher(view.viewport(), paints.append)
    start = time.monotonic()
    await _wait_for_paint(start, paints)  # the empty window has been painted once
    await asyncio.sleep(0.2)  # and start-up has settled
    opened = time.monotonic()
    shell.open_conversation(conversation_id)
    returned = time.monotonic()
    painted = await _wait_for_paint(opened, paints)
    forced = painted is None
    if painted is None:  # the platform never painted by itself: force one, and say so
        view.viewport().repaint()
        painted = time.monotonic()
    heartbeat = Heartbeat()
    heartbeat.start()
    await asyncio.sleep(AFTER_OPEN_WATCH_S)
    heartbeat.stop()
    watcher.deleteLater()
    return {
        "first_paint_ms": ms(painted - opened),
        "open_call_ms": ms(returned - opened),
        "forced_paint": forced,
        "messages_shown": len(view.message_ids()),
        "heartbeat_after_open": heartbeat.summary(),
    }


# -- cold_start -----------------------------------------------------------------------------------

# Prints time.monotonic() once the window's first frame is painted, then lets the child end.
_FIRST_FRAME = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer

class FirstFrame(QObject):
    def __init__(self, window, done):
        super().__init__()
        self.window, self.done, self.seen, self.reported = window, done, False, False

    def eventFilter(self, watched, event):
        if (not self.seen and event.type() == QEvent.Type.Paint and watched.isWidgetType()
                and watched.window() == self.window):
            self.seen = True
            QTimer.singleShot(0, self.report)  # after the rest of this frame is painted
        return False

    def report(self):
        if not self.reported:
            self.reported = True
            print(time.monotonic(), flush=True)
            self.done()
"""

# As app.run_gui builds the app, with --data-dir's effect (everything under argv[1]): the
# window first (show_window_first), then the loop, the services and the wiring.
APP_CHILD = (
    _FIRST_FRAME
    + """
import threading
from deltadesk.app import make_qt_app, setup_logging
from deltadesk.core.paths import app_paths

paths = app_paths(sys.argv[1])
setup_logging(paths)
app = make_qt_app(sys.argv[:1])
from deltadesk.ui.main_window import MainWindow

window = MainWindow()
shown = threading.Event()
first_frame = FirstFrame(window, shown.set)
app.installEventFilter(first_frame)
window.show()
app.processEvents()
if first_frame.seen:  # painted within processEvents: the frame is on screen now
    first_frame.report()

import asyncio
from deltadesk.app import make_qt_loop, warm_up_imports
from deltadesk.services import Services
from deltadesk.shell import build_window

_app, loop = make_qt_loop(sys.argv[:1])
services = Services(paths)
shell = build_window(services, window=window)
shell.window.composer.focus_input()
warm_up_imports()

async def until_shown():
    while not shown.is_set():
        await asyncio.sleep(0.001)
    await shell.controller.shutdown()
    await services.aclose()
    await loop.shutdown_asyncgens()

with loop:
    loop.run_until_complete(until_shown())
"""
)

BARE_CHILD = (
    _FIRST_FRAME
    + """
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1180, 760)
first_frame = FirstFrame(window, app.quit)
app.installEventFilter(first_frame)
window.show()
app.exec()
"""
)


def _child_environment() -> dict[str, str]:
    import deltadesk

    source = str(Path(deltadesk.__file__).resolve().parent.parent)  # found installed or not
    paths = [source, *filter(None, [os.environ.get("PYTHONPATH")])]
    return os.environ | {"PYTHONPATH": os.pathsep.join(paths), "QT_QPA_PLATFORM": "offscreen"}


def time_to_first_frame(code: str, home: str) -> float:
    """Seconds from spawning `python -c code home` to its window's first painted frame."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code, home],
        capture_output=True,
        text=True,
        timeout=60,
        env=_child_environment(),
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold-start child failed ({done.returncode}): {done.stderr[-2000:]}")
    return float(lines[-1]) - started


def cold_start(home: str, runs: int) -> dict[str, Any]:
    """Median of `runs` app and bare starts, interleaved; one unmeasured start of each first
    (it fills the OS file cache and, for the app, creates its database as a first launch)."""
    time_to_first_frame(APP_CHILD, home)
    time_to_first_frame(BARE_CHILD, home)
    app_runs: list[float] = []
    bare_runs: list[float] = []
    for _ in range(runs):
        app_runs.append(time_to_first_frame(APP_CHILD, home))
        bare_runs.append(time_to_first_frame(BARE_CHILD, home))
    app_median = statistics.median(app_runs)
    bare_median = statistics.median(bare_runs)
    return {
        "app_ms": ms(app_median),
        "bare_pyside6_ms": ms(bare_median),
        "ratio": round(app_median / bare_median, 2),
        "app_runs_ms": [ms(run) for run in app_runs],
        "bare_runs_ms": [ms(run) for run in bare_runs],
    }
