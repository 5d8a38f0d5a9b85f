"""Issue 7, section 3.3: the GUI thread while the real widgets take one very long line.

Each case runs in a child of its own (bench.run_long_lines caps its wall time: Qt's layout of
an unbroken line is quadratic, and the unfixed widgets freeze for minutes). The child builds
the real MainWindow, shows it, starts the 5 ms heartbeat, does one thing a user or a server can
make happen, and waits for the widget's next paint, then until the GUI thread has kept time
for a second (so work the widgets defer to the event loop is measured too):

- stored_1mb_line: a stored answer that is one 1 MB line, shown by ChatView.show_messages;
- paste_200kb_line: a 200 KB one-line paste into the composer (clipboard, then paste());
- delta_5mb: one 5 MB delta while streaming (begin_streaming, append_text, end_streaming);
- table_5000_columns: a stored answer holding a markdown table 5,000 columns wide.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from tests.perf.harness import Heartbeat, ms, paint_watcher, peak_rss_mb, start_qt

TARGET_MAX_MS = 200.0
PAINT_WAIT_S = 10.0
# After the paint, the watch goes on until the GUI thread has been quiet (no heartbeat gap
# over QUIET_GAP_S) for QUIET_S: deferred renders and lazy layout land in that time.
QUIET_S = 1.0
QUIET_GAP_S = 0.02
QUIET_WAIT_S = 15.0
SETTLE_S = 0.3
MESSAGE_ID = 1

# Letters and digits, no space or punctuation: no break opportunity anywhere in the line.
_UNBROKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def unbroken_line(length: int) -> str:
    repeats = length // len(_UNBROKEN) + 1
    return (_UNBROKEN * repeats)[:length]


def wide_table(columns: int, rows: int = 3) -> str:
    """A markdown table `columns` wide: header, delimiter row and `rows` body rows."""
    header = "| " + " | ".join(f"c{index}" for index in range(columns)) + " |"
    delimiter = "|" + "---|" * columns
    body = [
        "| " + " | ".join(f"r{row}v{index}" for index in range(columns)) + " |"
        for row in range(rows)
    ]
    return "\n".join(["A wide table:", "", header, delimiter, *body, ""])


class Scene:
    """The real main window, shown, with the widgets a case acts on."""

    def __init__(self) -> None:
        from deltadesk.ui.main_window import MainWindow

        self.window = MainWindow()
        self.window.show()
        self.view = self.window.chat_view
        self.prompt = self.window.composer.input_widget()


def _show_stored(scene: Scene, content: str) -> None:
    from deltadesk.ui.chat_view import MessageView

    scene.view.show_messages(
        [
            MessageView(id=MESSAGE_ID - 1, role="user", content="Show me the long one."),
            MessageView(id=MESSAGE_ID, role="assistant", content=content),
        ]
    )


def stored_1mb_line(scene: Scene) -> dict[str, Any]:
    _show_stored(scene, unbroken_line(1_000_000))
    return {"chars_shown": len(scene.view.message_plain_text(MESSAGE_ID))}


def paste_200kb_line(scene: Scene) -> dict[str, Any]:
    from PySide6.QtGui import QGuiApplication

    text = unbroken_line(200_000)
    clipboard = QGuiApplication.clipboard()
    clipboard.setText(text)
    scene.prompt.setFocus()
    scene.prompt.paste()
    return {"text_ok": scene.window.composer.text() == text}


def delta_5mb(scene: Scene) -> dict[str, Any]:
    scene.view.begin_streaming(MESSAGE_ID)
    scene.view.append_text(MESSAGE_ID, unbroken_line(5_000_000))
    scene.view.end_streaming(MESSAGE_ID, "done")
    return {"chars_shown": len(scene.view.message_plain_text(MESSAGE_ID))}


def table_5000_columns(scene: Scene) -> dict[str, Any]:
    _show_stored(scene, wide_table(5_000))
    return {"chars_shown": len(scene.view.message_plain_text(MESSAGE_ID))}


ACTIONS: dict[str, Callable[[Scene], dict[str, Any]]] = {
    "stored_1mb_line": stored_1mb_line,
    "paste_200kb_line": paste_200kb_line,
    "delta_5mb": delta_5mb,
    "table_5000_columns": table_5000_columns,
}


def painted_widget(name: str, scene: Scene) -> Any:
    return scene.prompt.viewport() if name == "paste_200kb_line" else scene.view.viewport()


def long_line(name: str) -> dict[str, Any]:
    """A child: one case of ACTIONS on the real window, with the heartbeat running."""
    _app, loop = start_qt()
    scene = Scene()
    with loop:
        result: dict[str, Any] = loop.run_until_complete(_measure(name, scene))
        loop.run_until_complete(loop.shutdown_asyncgens())
    scene.window.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


async def _measure(name: str, scene: Scene) -> dict[str, Any]:
    paints: list[float] = []
    watcher = paint_watcher(painted_widget(name, scene), paints.append)
    await asyncio.sleep(SETTLE_S)  # the window's first paint and start-up are behind us
    heartbeat = Heartbeat()
    heartbeat.start()
    await asyncio.sleep(0.05)
    started = time.monotonic()
    figures = ACTIONS[name](scene)
    returned = time.monotonic()
    painted = await _next_paint(paints, returned)
    settled = await _until_quiet(heartbeat)
    heartbeat.stop()
    watcher.deleteLater()
    beat = heartbeat.summary()
    shown = heartbeat.first_tick_after(painted) if painted is not None else None
    return {
        **figures,
        "heartbeat": beat,
        "call_ms": ms(returned - started),
        # The action, then the widget painted with its result: what the user waits for.
        "wall_ms": ms((shown or returned) - started),
        # ... and until work deferred to the event loop (a chunked render) was done too.
        "settled_ms": ms(settled - started) if settled is not None else None,
        "painted": painted is not None,
        "met": beat["max_ms"] < TARGET_MAX_MS,
    }


async def _until_quiet(heartbeat: Heartbeat) -> float | None:
    """Waits until the heartbeat has ticked evenly for QUIET_S (deferred work is done);
    when that quiet began, or None if it never came within QUIET_WAIT_S."""
    deadline = time.monotonic() + QUIET_WAIT_S
    while time.monotonic() < deadline:
        await asyncio.sleep(QUIET_S / 4)
        quiet_since = heartbeat.quiet_since(QUIET_GAP_S)
        if quiet_since is not None and time.monotonic() - quiet_since >= QUIET_S:
            return quiet_since
    return None


async def _next_paint(paints: list[float], after: float) -> float | None:
    deadline = time.monotonic() + PAINT_WAIT_S
    while time.monotonic() < deadline:
        later = [paint for paint in paints if paint >= after]
        if later:
            return later[0]
        await asyncio.sleep(0.005)
    return None
