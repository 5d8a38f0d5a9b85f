"""Guards against known faults of the Qt binding that would crash the app, not just a test."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)


def test_bool_signals_do_not_eat_references_to_true(qapp: Any) -> None:
    # PySide6 6.12.0 dropped one reference to True per Signal(bool) emission to a Python
    # slot; on Python 3.11 the interpreter then aborts ("deallocating True or False").
    emitter = _Emitter()
    received: list[bool] = []
    emitter.flag.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.flag.emit(True)
    received.clear()
    # Unrelated code may take or drop a reference or two meanwhile; the fault drops 200.
    assert sys.getrefcount(True) - before > -20
