"""Small helpers for widget tests."""

from __future__ import annotations

from typing import Any


def record(signal: Any) -> list[tuple[Any, ...]]:
    """Every emission of `signal` from now on, as a tuple of its arguments."""
    received: list[tuple[Any, ...]] = []
    signal.connect(lambda *args: received.append(args))
    return received
