"""What every measuring child process shares: its entry point, resource figures, Qt set-up,
the GUI heartbeat and a first-paint detector.

Qt is imported inside the functions that need it, so the raw SDK child never loads it.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.connection

    from PySide6.QtCore import QObject


HEARTBEAT_INTERVAL_MS = 5
# Benchmark children never read the developer's keyring: the null backend stores nothing.
NULL_KEYRING = "keyring.backends.null.Keyring"
_QUIET_QT_MESSAGES = ("propagateSizeHints",)
# See guard_none_refcount: far more spare references to None than any run can lose.
_SPARE_NONE_REFERENCES = 1_000_000_000


# -- the child process ------------------------------------------------------------------------


def child_main(
    target: Callable[..., dict[str, Any]],
    kwargs: dict[str, Any],
    conn: multiprocessing.connection.Connection,
) -> None:
    """Runs one measurement in this (spawned) process and sends its result dict back.

    stdout is the parent's JSON: anything a child prints goes to stderr instead.
    """
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["PYTHON_KEYRING_BACKEND"] = NULL_KEYRING
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    try:
        result = target(**kwargs)
    except BaseException:
        result = {"error": traceback.format_exc()}
    conn.send(result)
    conn.close()
    sys.stderr.flush()
    # Qt and the loop were closed by the case; skip the slow interpreter teardown.
    os._exit(0)


def peak_rss_mb() -> float:
    """The largest resident set this process has had (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


# -- Qt -----------------------------------------------------------------------------------------


def _quiet_qt_messages(mode: Any, context: Any, message: str) -> None:
    if not any(quiet in message for quiet in _QUIET_QT_MESSAGES):
        print(f"qt: {message}", file=sys.stderr)


def none_refs_lost_per_void_call() -> float:
    """References to None that one call of a void Qt method drops (0 for a sound binding).

    PySide6 6.12.0 returns None from void methods without a new reference; on Python < 3.12
    (where None is not immortal) every such call brings the process closer to
    "Fatal Python error: none_dealloc" — after about 5,000 calls.
    """
    from PySide6.QtCore import QObject

    probe = QObject()
    calls = 100
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")
    return (before - sys.getrefcount(None)) / calls


def guard_none_refcount() -> bool:
    """If the binding leaks (see above), give None spare references so a long measurement
    can finish instead of aborting. Returns whether the guard was needed. The app has no
    such guard: the bench reports the problem (bench.binding_check)."""
    if sys.version_info >= (3, 12) or none_refs_lost_per_void_call() <= 0:
        return False
    ctypes.c_ssize_t.from_address(id(None)).value += _SPARE_NONE_REFERENCES
    return True


def start_qt() -> tuple[Any, Any]:
    """QApplication (offscreen unless told otherwise) and the app's own qasync loop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import qInstallMessageHandler

    from deltadesk.app import make_qt_loop

    guard_none_refcount()
    qInstallMessageHandler(_quiet_qt_messages)
    app, loop = make_qt_loop(["deltadesk-bench"])
    return app, loop


class Heartbeat:
    """A 5 ms precise QTimer on the GUI thread; the gaps between its ticks show jank."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(HEARTBEAT_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self._ticks: list[float] = []

    def _tick(self) -> None:
        self._ticks.append(time.monotonic())

    def start(self) -> None:
        self._ticks = [time.monotonic()]
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._ticks.append(time.monotonic())

    def first_tick_after(self, moment: float) -> float | None:
        """When the GUI thread next ran the timer after `moment` (e.g. a paint has ended)."""
        return next((tick for tick in self._ticks if tick > moment), None)

    def quiet_since(self, longest_gap_s: float) -> float | None:
        """The tick after the last gap longer than `longest_gap_s` (the start if there was
        none): since then the GUI thread has kept time."""
        ticks = self._ticks
        for index in range(len(ticks) - 1, 0, -1):
            if ticks[index] - ticks[index - 1] > longest_gap_s:
                return ticks[index]
        return ticks[0] if ticks else None

    def summary(self) -> dict[str, float | int]:
        """p50/p99/max of the gaps (ms); an idle GUI thread gives about 5 ms everywhere."""
        gaps = [(b - a) * 1000 for a, b in zip(self._ticks, self._ticks[1:], strict=False)]
        if not gaps:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "ticks": 0}
        return {
            "p50_ms": round(percentile(gaps, 50), 2),
            "p99_ms": round(percentile(gaps, 99), 2),
            "max_ms": round(max(gaps), 2),
            "ticks": len(gaps),
        }


def paint_watcher(widget: QObject, on_paint: Callable[[float], None]) -> QObject:
    """An event filter calling on_paint(time) at each paint event of `widget`.

    Keep the returned object alive as long as it should watch.
    """
    from PySide6.QtCore import QEvent, QObject

    class _PaintFilter(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                on_paint(time.monotonic())
            return False

    watcher = _PaintFilter()
    widget.installEventFilter(watcher)
    return watcher
