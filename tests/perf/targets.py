"""The issue's targets, checked against the figures of this run.

Each entry: what the target is, the measured value, and met (true/false; null when the value
could not be measured in this run, e.g. the 20k run in BENCH_QUICK mode or a crashed case).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Check = Callable[[float], bool]


def _target(description: str, value: Any, check: Check) -> dict[str, Any]:
    met = None if value is None else bool(check(value))
    return {"target": description, "value": value, "met": met}


def _get(figures: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(figures, dict):
            return None
        figures = figures.get(key)  # type: ignore[assignment]
    return figures


def _worst(values: Iterable[Any]) -> float | None:
    known = [value for value in values if value is not None]
    return max(known) if known else None


def evaluate_targets(report: dict[str, Any], token_counts: tuple[int, ...]) -> dict[str, Any]:
    streams = report.get("streams", {})
    big, small = str(max(token_counts)), str(min(token_counts))
    app_big = _get(streams, big, "app") or {}
    app_small = _get(streams, small, "app") or {}
    apps = [_get(streams, str(n), "app") or {} for n in token_counts]
    growth = None
    if big != small and app_big.get("cpu_us_per_token") and app_small.get("cpu_us_per_token"):
        growth = round(app_big["cpu_us_per_token"] / app_small["cpu_us_per_token"], 2)
    text_ok = [app.get("text_ok") for app in apps]
    return {
        "app_cpu_vs_raw": _target(
            f"app CPU/token ≤ 2.0× raw_sdk at {big} tokens",
            app_big.get("ratio_to_raw"),
            lambda v: v <= 2.0,
        ),
        "app_cpu_growth": _target(
            f"app CPU/token at {big} ÷ at {small} ≤ 1.3 (linear, not quadratic)",
            growth,
            lambda v: v <= 1.3,
        ),
        "heartbeat_p99": _target(
            f"GUI heartbeat gap p99 < 16 ms during the {big}-token app stream",
            _get(app_big, "heartbeat", "p99_ms"),
            lambda v: v < 16,
        ),
        "heartbeat_max": _target(
            f"GUI heartbeat gap max < 50 ms during the {big}-token app stream",
            _get(app_big, "heartbeat", "max_ms"),
            lambda v: v < 50,
        ),
        "end_lag": _target(
            "app end lag < 50 ms (last chunk received → final render), worst of the runs",
            _worst(app.get("end_lag_ms") for app in apps),
            lambda v: v < 50,
        ),
        "ttft_overhead": _target(
            "app TTFT overhead over raw_sdk < 16 ms, worst of the runs",
            _worst(app.get("ttft_overhead_ms") for app in apps),
            lambda v: v < 16,
        ),
        "stop_latency": _target(
            "app Stop → server sees the disconnect < 100 ms",
            _get(report, "stop", "app", "stop_latency_ms"),
            lambda v: v < 100,
        ),
        "open_1m_first_paint": _target(
            "1M-character conversation: open → first paint < 300 ms",
            _get(report, "open_1m_conversation", "first_paint_ms"),
            lambda v: v < 300,
        ),
        "open_1m_peak_rss": _target(
            "1M-character conversation: peak RSS < 300 MB",
            _get(report, "open_1m_conversation", "peak_rss_mb"),
            lambda v: v < 300,
        ),
        "cold_start": _target(
            "cold start ≤ 1.5× a bare PySide6 QMainWindow (median ratio)",
            _get(report, "cold_start", "ratio"),
            lambda v: v <= 1.5,
        ),
        "app_text_ok": _target(
            "app: stored text == sent text and streamed render == one-shot render",
            None if None in text_ok else all(text_ok),
            bool,
        ),
        **concurrent_targets(report.get("concurrent") or {}),
        **long_line_targets(report.get("long_lines") or {}),
        **soak_targets(report.get("soak") or {}),
        **search_targets(report.get("search") or {}),
    }


def search_targets(figures: dict[str, Any]) -> dict[str, Any]:
    """Issue 9, section 1: full-text search over 10,000 conversations."""
    size = f"{figures.get('conversations', 10_000):,} conversations"
    return {
        "search_p95": _target(
            f"search over {size}: one-word, two-word and prefix queries, p95 < 50 ms",
            figures.get("p95_ms"),
            lambda v: v < 50,
        ),
    }


def concurrent_targets(figures: dict[str, Any]) -> dict[str, Any]:
    """Section 2: four answers at once, two of them in view."""
    size = f"4 x {figures.get('tokens_each', 20_000):,} tokens at once"
    return {
        "concurrent_cpu_vs_raw": _target(
            f"{size}: app CPU ≤ 1.6× four raw SDK streams at once",
            figures.get("cpu_ratio_to_raw"),
            lambda v: v <= 1.6,
        ),
        "concurrent_heartbeat_p99": _target(
            f"{size}: GUI heartbeat gap p99 < 16 ms",
            _get(figures, "heartbeat", "p99_ms"),
            lambda v: v < 16,
        ),
        "concurrent_text_ok": _target(
            f"{size}: every stored text == sent, each visible view == a one-shot render",
            figures.get("text_ok"),
            bool,
        ),
    }


def long_line_targets(results: dict[str, Any]) -> dict[str, Any]:
    """Section 3.3: no long-line case stalls the GUI thread over 200 ms. A case killed at its
    time cap reports the cap as its heartbeat max (a lower bound), so it is not met."""
    return {
        f"long_line_{name}": _target(
            f"{name}: GUI heartbeat gap max < 200 ms",
            _get(figures, "heartbeat", "max_ms"),
            lambda v: v < 200,
        )
        for name, figures in results.items()
    }


def soak_targets(soak: dict[str, Any]) -> dict[str, Any]:
    """Section 7: the soak's leftovers."""
    completed = None
    if "streams_run" in soak:
        completed = soak["streams_run"] == soak["streams"] and not soak.get("stuck")
    return {
        "soak_completed": _target(
            "soak: every answer ran and none left the window busy",
            completed,
            bool,
        ),
        "soak_rss_growth": _target(
            "soak: resident set of the last answers over the first < +10 %",
            _get(soak, "rss", "growth_pct"),
            lambda v: v < 10,
        ),
        "soak_tasks_pending": _target(
            "soak: asyncio tasks still pending at the end == 0",
            soak.get("tasks_pending"),
            lambda v: v == 0,
        ),
        "soak_server_connections_open": _target(
            "soak: connections the server still has open at the end == 0",
            soak.get("server_connections_open"),
            lambda v: v == 0,
        ),
        "soak_answers_stored_ok": _target(
            "soak: every answer stored whole (done) or as a prefix of it (stopped)",
            soak.get("stored_text_not_ok_count"),
            lambda v: v == 0,
        ),
    }
