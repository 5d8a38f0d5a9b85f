"""`make bench`: streaming figures for Deltadesk against baselines measured in the same run.

Prints one JSON object on stdout (progress goes to stderr). Not a pass/fail test: it exits 0
when every measurement ran, whether targets were met or not, and 1 only if one crashed.
BENCH_QUICK=1 runs only the 2,000-token answer, each case once, and one cold start of each.
BENCH_CASES=soak,long_lines (a comma-separated list of SECTIONS) runs only those sections;
"concurrent" is four answers at once (4 x 20,000 tokens; 4 x 2,000 under BENCH_QUICK);
"search" is full-text search over 10,000 generated conversations (2,000 under BENCH_QUICK).
See tests/perf/README.md for what each figure means.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.context
import os
import platform
import queue
import sys
import tempfile
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from tests.perf import app_figures, cases, concurrent, long_lines, search, server, soak
from tests.perf.harness import child_main
from tests.perf.targets import evaluate_targets

TOKEN_COUNTS = (2_000, 20_000)
CASES: dict[str, Callable[..., dict[str, Any]]] = {
    "raw_sdk": cases.raw_sdk,
    "app": cases.app,
    "naive_append": cases.naive_append,
    "naive_set_markdown": cases.naive_set_markdown,
}
REPEATED_CASES = ("raw_sdk", "app")
REPEATS = 3  # of the floor and the app per token count, and of each Stop run
CHILD_TIMEOUT_S = 240.0
COLD_START_RUNS = 3
DISCONNECT_REPORT_WAIT_S = 10.0
SECTIONS = (
    "streams",
    "concurrent",
    "stop",
    "open_1m_conversation",
    "cold_start",
    "long_lines",
    "soak",
    "search",
)
SERVER_SECTIONS = frozenset({"streams", "concurrent", "stop", "soak"})
# Unfixed, Qt lays out one long line for minutes: each long-line case is killed after this.
LONG_LINE_TIMEOUT_S = 30.0
SOAK_STREAMS = 300
SOAK_STREAMS_QUICK = 100
SOAK_TIMEOUT_S = 300.0
CONCURRENT_TOKENS = 20_000  # each of the four answers (issue 8, section 2)
CONCURRENT_TOKENS_QUICK = 2_000
# Pairs of runs (raw, then app) for the concurrent ratio: this machine's speed drifts by a
# fifth over minutes, so each app run is set against the raw run just before it.
CONCURRENT_REPEATS = 5
SEARCH_TIMEOUT_S = 600.0  # building 200,000 messages and their index takes about 30 s here

SpawnContext = multiprocessing.context.SpawnContext


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_child(
    ctx: SpawnContext,
    target: Callable[..., dict[str, Any]],
    timeout_s: float = CHILD_TIMEOUT_S,
    **kwargs: Any,
) -> dict[str, Any]:
    """Runs target(**kwargs) in a fresh spawned process; its result dict, or {"error": ...}
    (with "timed_out": true when it gave no result within timeout_s; it is killed then)."""
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=child_main, args=(target, kwargs, sender), daemon=True)
    process.start()
    sender.close()
    try:
        if receiver.poll(timeout_s):
            result: dict[str, Any] = receiver.recv()
        else:
            result = {"error": f"no result within {timeout_s:.0f} s", "timed_out": True}
    except EOFError:
        process.join(5)
        result = {"error": f"the child process died (exit code {process.exitcode})"}
    process.join(0 if result.get("timed_out") else 10)
    if process.is_alive():
        process.kill()
        process.join()
    if result.get("timed_out"):
        progress(f"  {target.__name__}: no result within {timeout_s:.0f} s, killed")
    elif "error" in result:
        progress(f"  {target.__name__} FAILED: {result['error']}")
    return result


class BenchServer:
    """The SSE server process (server.serve) and the disconnect times it reports."""

    def __init__(
        self,
        ctx: SpawnContext,
        token_counts: tuple[int, ...],
        stop_runs: int,
        concurrent_counts: tuple[int, ...] = (),
    ) -> None:
        self._control, child_control = ctx.Pipe()
        self._reports = ctx.Queue()
        self._disconnects: dict[str, float] = {}
        self._process = ctx.Process(
            target=server.serve,
            args=(token_counts, stop_runs, child_control, self._reports, concurrent_counts),
            daemon=True,
        )
        self._process.start()
        child_control.close()
        if not self._control.poll(60):
            raise RuntimeError("the bench server did not start")
        self.addresses: server.ServerAddresses = self._control.recv()

    def disconnect_time(self, url: str) -> float | None:
        """When the server saw the client on `url` go away (its time.monotonic())."""
        deadline = time.monotonic() + DISCONNECT_REPORT_WAIT_S
        while url not in self._disconnects:
            try:
                remaining = max(deadline - time.monotonic(), 0.001)
                reported_url, at = self._reports.get(timeout=remaining)
            except queue.Empty:
                return None
            self._disconnects[reported_url] = at
        return self._disconnects[url]

    def __enter__(self) -> BenchServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):  # the server process is gone already
            self._control.send("quit")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def run_streams(ctx: SpawnContext, bench: BenchServer, tokens: int, repeats: int) -> dict[str, Any]:
    """Every case once; the floor and the app `repeats` times, interleaved, keeping the
    median run (by CPU per token), since their ratio is a target and this machine is noisy."""
    url = bench.addresses.main_url
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CASES}
    order = [*(list(REPEATED_CASES) * repeats), *(n for n in CASES if n not in REPEATED_CASES)]
    for name in order:
        progress(f"{name}: {tokens:,} tokens")
        runs[name].append(run_child(ctx, CASES[name], base_url=url, tokens=tokens))
    results = {name: median_run(case_runs) for name, case_runs in runs.items()}
    add_ratios(results)
    return results


def median_by(runs: list[dict[str, Any]], figure: str) -> dict[str, Any]:
    """The run with the median `figure` (a failed run wins, so failures show), listing the
    figure of every run beside it."""
    failed = [run for run in runs if "error" in run or run.get(figure) is None]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: float(run[figure]))
    median = ordered[(len(ordered) - 1) // 2]
    if len(runs) > 1:
        median[f"{figure}_runs"] = [run[figure] for run in runs]
    return median


def median_run(runs: list[dict[str, Any]], figure: str = "cpu_us_per_token") -> dict[str, Any]:
    median = median_by(runs, figure)
    if len(runs) > 1 and "error" not in median:
        # A wrong text in any run must show, whichever run is the median.
        median["text_ok"] = all(run.get("text_ok") is not False for run in runs)
    return median


def add_ratios(results: dict[str, Any]) -> None:
    """CPU per token and first-token time, relative to the raw SDK loop of the same run."""
    raw = results.get("raw_sdk", {})
    for name, figures in results.items():
        if "error" in figures or "error" in raw:
            continue
        figures["ratio_to_raw"] = round(figures["cpu_us_per_token"] / raw["cpu_us_per_token"], 2)
        if name != "raw_sdk" and figures.get("ttft_ms") is not None:
            figures["ttft_overhead_ms"] = round(figures["ttft_ms"] - raw["ttft_ms"], 2)


def run_concurrent(
    ctx: SpawnContext, bench: BenchServer, tokens: int, repeats: int
) -> dict[str, Any]:
    """Four answers at once through the raw SDK loop, then through the app: `repeats` such
    pairs. The ratio is the median of the pairs' ratios (each app run against the raw run
    just before it: a drift of the machine's speed moves both); the heartbeat is that of the
    app run with the median p99; the other figures are those of the median run by CPU."""
    url = bench.addresses.main_url
    raw_runs: list[dict[str, Any]] = []
    app_runs: list[dict[str, Any]] = []
    for _ in range(repeats):
        progress(f"concurrent: raw SDK, 4 x {tokens:,} tokens at once")
        raw_runs.append(run_child(ctx, concurrent.raw_concurrent, base_url=url, tokens=tokens))
        progress(f"concurrent: app, 4 x {tokens:,} tokens at once (2 columns in view)")
        app_runs.append(run_child(ctx, concurrent.app_concurrent, base_url=url, tokens=tokens))
    raw, app = median_run(raw_runs, "cpu_s"), median_run(app_runs, "cpu_s")
    if "error" in app or "error" in raw:
        return {"app": app, "raw_sdk": raw}
    pair_ratios = [
        round(a["cpu_s"] / r["cpu_s"], 2) for r, a in zip(raw_runs, app_runs, strict=True)
    ]
    return {
        "streams": app["streams"],
        "tokens_each": tokens,
        "cpu_ratio_to_raw": sorted(pair_ratios)[(len(pair_ratios) - 1) // 2],
        "cpu_ratio_runs": pair_ratios,
        "heartbeat": median_by(app_runs, "heartbeat_p99_ms")["heartbeat"],
        "heartbeat_p99_ms_runs": [run["heartbeat"]["p99_ms"] for run in app_runs],
        "text_ok": app["text_ok"] and raw["text_ok"],
        "cpu_us_per_token": app["cpu_us_per_token"],
        "wall_s": app["wall_s"],
        "app": app,
        "raw_sdk": raw,
    }


def run_stops(ctx: SpawnContext, bench: BenchServer, repeats: int) -> dict[str, Any]:
    """`repeats` Stop runs of each case, interleaved (each on a stop server of its own);
    the median by stop latency is reported: where a press lands is a matter of luck."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in CASES}
    stop_urls = iter(bench.addresses.stop_urls)
    for _ in range(repeats):
        for name in CASES:
            progress(f"{name}: Stop after ~500 tokens")
            runs[name].append(run_stop(ctx, bench, name, next(stop_urls)))
    return {name: median_stop(case_runs) for name, case_runs in runs.items()}


def run_stop(ctx: SpawnContext, bench: BenchServer, name: str, stop_url: str) -> dict[str, Any]:
    main_url = bench.addresses.main_url
    figures = run_child(ctx, CASES[name], base_url=main_url, tokens=0, stop_url=stop_url)
    if "error" not in figures:
        pressed = figures.pop("pressed_at")
        seen = bench.disconnect_time(stop_url)
        latency = None if pressed is None or seen is None else round((seen - pressed) * 1000, 2)
        figures["stop_latency_ms"] = latency
    return figures


def median_stop(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return median_by(runs, "stop_latency_ms")


def run_open_conversation(ctx: SpawnContext) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-1m-") as home:
        progress("open_1m_conversation: building the store")
        built = run_child(ctx, app_figures.build_conversation, home=home)
        if "error" in built:
            return built
        progress(f"open_1m_conversation: opening {built['characters']:,} characters")
        figures = run_child(
            ctx, app_figures.open_conversation, home=home, conversation_id=built["conversation_id"]
        )
        return {**built, **figures}


def run_long_lines(ctx: SpawnContext) -> dict[str, Any]:
    """Each case of long_lines in a child of its own, killed after LONG_LINE_TIMEOUT_S."""
    results: dict[str, Any] = {}
    for name in long_lines.ACTIONS:
        progress(f"long_lines: {name}")
        figures = run_child(ctx, long_lines.long_line, timeout_s=LONG_LINE_TIMEOUT_S, name=name)
        if figures.get("timed_out"):
            # Not a crash: the GUI thread was stuck at least this long (a lower bound).
            capped_ms = LONG_LINE_TIMEOUT_S * 1000
            figures = {
                "timed_out": True,
                "wall_ms": capped_ms,
                "heartbeat": {"max_ms": capped_ms},
                "met": False,
            }
        results[name] = figures
    return results


def run_soak(ctx: SpawnContext, bench: BenchServer, quick: bool) -> dict[str, Any]:
    streams = SOAK_STREAMS_QUICK if quick else SOAK_STREAMS
    # Another seed stops other answers at other moments: BENCH_SOAK_SEED=N to explore.
    seed = int(os.environ.get("BENCH_SOAK_SEED") or soak.SEED)
    progress(f"soak: {streams} answers in one app, a third of them stopped (seed {seed})")
    figures = run_child(
        ctx,
        soak.soak,
        timeout_s=SOAK_TIMEOUT_S,
        base_url=bench.addresses.soak_url,
        counts_url=soak.counts_url_for(bench.addresses.main_url),
        streams=streams,
        seed=seed,
    )
    return {"seed": seed, **figures}


def run_search(ctx: SpawnContext, quick: bool) -> dict[str, Any]:
    size = search.QUICK_CONVERSATIONS if quick else search.CONVERSATIONS
    progress(f"search: {size:,} conversations generated, indexed, then searched")
    return run_child(ctx, search.search_case, timeout_s=SEARCH_TIMEOUT_S, quick=quick)


def selected_sections() -> tuple[str, ...]:
    """BENCH_CASES (comma-separated section names), or every section."""
    chosen = [name.strip() for name in os.environ.get("BENCH_CASES", "").split(",")]
    chosen = [name for name in chosen if name]
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        raise SystemExit(
            f"BENCH_CASES: unknown {', '.join(unknown)}; choose from {', '.join(SECTIONS)}"
        )
    return tuple(chosen) or SECTIONS


def run_cold_start(runs: int) -> dict[str, Any]:
    progress(f"cold_start: {runs} app and {runs} bare PySide6 starts")
    with tempfile.TemporaryDirectory(prefix="deltadesk-bench-cold-") as home:
        try:
            return app_figures.cold_start(home, runs)
        except (RuntimeError, OSError, ValueError) as exc:
            return {"error": str(exc)}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    packages = ("PySide6-Essentials", "qasync", "openai", "markdown-it-py")
    return {
        "python": platform.python_version(),
        **{name: version(name) for name in packages},
        "cpus": str(os.cpu_count()),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
    }


def errors_in(report: dict[str, Any], path: str = "") -> list[str]:
    found: list[str] = []
    for key, value in report.items():
        if key == "error":
            found.append(f"{path}: {str(value).strip().splitlines()[-1]}")
        elif isinstance(value, dict):
            found.extend(errors_in(value, f"{path}.{key}" if path else key))
    return found


def binding_check() -> dict[str, Any]:
    """Is the Qt binding sound? (PySide6 6.12.0 on Python 3.11 is not; see harness.py.)"""
    from tests.perf.harness import none_refs_lost_per_void_call

    lost = none_refs_lost_per_void_call()
    figures: dict[str, Any] = {"none_refs_lost_per_void_qt_call": lost}
    if lost > 0:
        # Each lost reference brings None closer to being freed: this many calls from now.
        figures["void_calls_until_abort_here"] = sys.getrefcount(None)
        figures["problem"] = (
            "This PySide6 drops a reference to None on every call of a void method; on "
            f"Python {platform.python_version()} None is not immortal, so any process "
            "(the app too) aborts with 'Fatal Python error: none_dealloc' after a few "
            "thousand such calls. The bench's children give None spare references so the "
            "measurements can finish; the app has no such guard."
        )
    return figures


def texts_not_ok(report: dict[str, Any]) -> list[str]:
    """Every case whose shown text differed from what was sent: never to be missed."""
    return [
        f"{tokens} tokens: {name}"
        for tokens, results in report.get("streams", {}).items()
        for name, figures in results.items()
        if figures.get("text_ok") is False
    ] + (["concurrent"] if report.get("concurrent", {}).get("text_ok") is False else [])


def main() -> int:
    quick = os.environ.get("BENCH_QUICK") == "1"
    token_counts = TOKEN_COUNTS[:1] if quick else TOKEN_COUNTS
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    report: dict[str, Any] = {"quick": quick, "versions": versions()}
    report["qt_binding"] = binding_check()
    repeats = 1 if quick else REPEATS
    sections = selected_sections()
    report["sections"] = list(sections)
    if SERVER_SECTIONS.intersection(sections):
        stop_runs = len(CASES) * repeats if "stop" in sections else 0
        concurrent_tokens = CONCURRENT_TOKENS_QUICK if quick else CONCURRENT_TOKENS
        concurrent_counts = (concurrent_tokens,) if "concurrent" in sections else ()
        with BenchServer(ctx, token_counts, stop_runs, concurrent_counts) as bench:
            if "streams" in sections:
                report["streams"] = {
                    str(n): run_streams(ctx, bench, n, repeats) for n in token_counts
                }
            if "concurrent" in sections:
                concurrent_repeats = 1 if quick else CONCURRENT_REPEATS
                report["concurrent"] = run_concurrent(
                    ctx, bench, concurrent_tokens, concurrent_repeats
                )
            if "stop" in sections:
                report["stop"] = run_stops(ctx, bench, repeats)
            if "soak" in sections:
                report["soak"] = run_soak(ctx, bench, quick)
    if "open_1m_conversation" in sections:
        report["open_1m_conversation"] = run_open_conversation(ctx)
    if "cold_start" in sections:
        report["cold_start"] = run_cold_start(1 if quick else COLD_START_RUNS)
    if "long_lines" in sections:
        report["long_lines"] = run_long_lines(ctx)
    if "search" in sections:
        report["search"] = run_search(ctx, quick)
    report["targets"] = evaluate_targets(report, token_counts)
    report["text_not_ok"] = texts_not_ok(report)
    report["errors"] = errors_in(report)
    report["duration_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    missed = [name for name, target in report["targets"].items() if target["met"] is False]
    progress(f"done in {report['duration_s']} s; targets missed: {', '.join(missed) or 'none'}")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
