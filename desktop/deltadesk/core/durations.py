"""How long something took, said the way the chat says it: "3.2 s", "27 s", "1 min 5 s".

Core, so an export says "Thought for 3.2 s" in the same words as the window.
"""

from __future__ import annotations

import math


def thought_time(ms: float) -> str:
    """3.2 s, 27 s, 1 min 5 s (under 0.1 s: said so, not "0.0 s")."""
    seconds = max(ms, 0.0) / 1000 if math.isfinite(ms) else 0.0
    if seconds < 0.05:
        return "under 0.1 s"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


__all__ = ["thought_time"]
