"""The composition root: parses the command line, builds the services and the window, and
wires them together (the window's wiring itself is in shell.py).

Start-up order matters: the window is built and painted before asyncio, qasync, SQLite and
the services are even imported, so it appears as soon as Qt allows; the rest follows.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from deltadesk.cli import parse_args
from deltadesk.core.paths import AppPaths, app_paths
from deltadesk.log_setup import setup_logging

if TYPE_CHECKING:
    from qasync import QEventLoop

    from deltadesk.ui.main_window import MainWindow

log = logging.getLogger("deltadesk")

# A save in the window waits this long for another process holding the history, then is
# tried again later: the GUI thread must not freeze for the default 5 s.
GUI_BUSY_TIMEOUT_MS = 100

NO_DISPLAY_HINT = """\
deltadesk: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set).
  Run it under a virtual screen:   Xvfb :99 & DISPLAY=:99 deltadesk
  or check the install headless:   deltadesk --self-test"""


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM") or sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def restore_plain_import() -> None:
    """Undoes PySide6's import hook (see deltadesk/__init__.py): measured, the SDK's
    per-chunk cost drops by about a third. Qt keeps working; only `__feature__` would not."""
    import builtins

    from deltadesk import PLAIN_IMPORT

    if getattr(PLAIN_IMPORT, "__name__", "") == "__import__":  # not itself a hook
        builtins.__import__ = PLAIN_IMPORT


def make_qt_app(argv: Sequence[str]) -> object:
    from PySide6.QtWidgets import QApplication

    restore_plain_import()
    app = QApplication.instance() or QApplication(list(argv))
    app.setApplicationName("Deltadesk")
    app.setOrganizationName("Deltadesk")
    return app


def make_qt_loop(argv: Sequence[str]) -> tuple[object, QEventLoop]:
    """The QApplication and a qasync loop on it, set as the current asyncio loop."""
    import asyncio

    import qasync

    app = make_qt_app(argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # qasync does not install the async-generator hooks: without them a half-consumed
    # async generator is never finalised (see PITFALLS.md).
    sys.set_asyncgen_hooks(loop._asyncgen_firstiter_hook, loop._asyncgen_finalizer_hook)
    return app, loop


# Languages whose highlighter is compiled ahead: compiling one takes 10-50 ms, a visible
# stall when the first code block in that language streams in.
WARM_LANGUAGES = (
    "python", "javascript", "typescript", "bash", "json", "yaml", "toml", "html", "css",
    "sql", "rust", "go", "c", "cpp", "java", "kotlin", "csharp", "ruby", "php", "swift",
    "diff",
)  # fmt: skip


def warm_up_imports() -> threading.Thread:
    """Loads the SDK (about a second), the markdown renderer and the common highlighters in
    the background once the window is up, so the first answer does not pay for them."""

    def load() -> None:
        import openai  # noqa: F401

        from deltadesk.core.markdown import render_markdown

        for language in WARM_LANGUAGES:
            render_markdown(f"```{language}\nx\n```\n")
        # Everything loaded so far lives as long as the app: keep it out of the cyclic
        # collector's full passes, which otherwise walk it all mid-stream.
        gc.freeze()

    thread = threading.Thread(target=load, name="warm-up", daemon=True)
    thread.start()
    return thread


def show_window_first(argv: Sequence[str], paths: AppPaths | None = None) -> MainWindow:
    """The bare window, painted, before the rest of the app is loaded: in the theme, zoom
    and place it was left in (the preferences file is all that is read for it)."""
    from deltadesk.core.preferences import Preferences, PreferenceStore
    from deltadesk.ui.appearance import use_early

    app = make_qt_app(argv)
    prefs = PreferenceStore(paths.preferences).current if paths is not None else Preferences()
    use_early(prefs.theme)  # before the widget modules build their style sheets
    from deltadesk.ui.main_window import MainWindow
    from deltadesk.window_state import restore_window, show_window

    window = MainWindow()
    window.set_theme(prefs.theme)
    restore_window(window, prefs)
    show_window(window)
    app.processEvents()  # type: ignore[attr-defined]
    return window


def _say_while_busy(window: MainWindow, note: str) -> None:
    """A slow history upgrade (building the search index) is said in the banner while it
    runs, not only afterwards: the window paints, but takes no input until it is done."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    window.show_banner(note)
    QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)


def run_gui(paths: AppPaths, argv: Sequence[str]) -> int:
    if not has_display():
        print(NO_DISPLAY_HINT, file=sys.stderr)
        return 2
    window = show_window_first(argv, paths)
    import asyncio

    from deltadesk.core.store import StoreError
    from deltadesk.services import Services
    from deltadesk.shell import build_window

    qt_app, loop = make_qt_loop(argv)
    # Closing the last window would otherwise quit Qt's event loop, which is the asyncio
    # loop too: the shutdown below (ending a running answer, closing the clients) would then
    # run with no loop ("Event loop stopped before Future completed", exit 1). The loop ends
    # when until_closed() is done instead.
    qt_app.setQuitOnLastWindowClosed(False)  # type: ignore[attr-defined]
    try:
        services = Services(
            paths,
            busy_timeout_ms=GUI_BUSY_TIMEOUT_MS,
            stand_in_if_read_only=True,
            upgrade_progress=lambda note: _say_while_busy(window, note),
        )
    except StoreError as exc:  # damaged, or made by a newer Deltadesk: say so, change nothing
        from PySide6.QtWidgets import QMessageBox

        from deltadesk.ui.plain_text import plain_message_box

        log.error("%s", exc)
        # The message names a path, which may hold markup: shown literally, never as rich text.
        title = "Deltadesk cannot open its history"
        plain_message_box(window, QMessageBox.Icon.Critical, title, str(exc)).exec()
        return 1
    shell = build_window(services, window=window)
    closed = asyncio.Event()
    shell.window.closing.connect(closed.set)
    shell.window.composer.focus_input()
    warm_up_imports()

    async def until_closed() -> None:
        await closed.wait()
        # Each step runs whatever the one before it raised: the user asked to quit, and
        # quitting is not the moment for a traceback (the log has it).
        for step in (shell.controller.shutdown, services.aclose, loop.shutdown_asyncgens):
            try:
                await step()
            except Exception:
                log.exception("while quitting, %s failed", step.__name__)

    with loop:
        loop.run_until_complete(until_closed())
    return 0


def run_self_test(paths: AppPaths, argv: Sequence[str]) -> int:
    from deltadesk.core.profiles import demo_profile
    from deltadesk.selftest import self_test
    from deltadesk.services import Services
    from deltadesk.shell import build_window

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app, loop = make_qt_loop(argv)
    services = Services(paths, demo_tokens_per_second=0)
    shell = build_window(services, active_profile=demo_profile)
    with loop:
        problem = loop.run_until_complete(self_test(shell))
        loop.run_until_complete(services.aclose())
    if problem:
        print(f"self-test FAILED: {problem}", file=sys.stderr)
        return 1
    print("self-test passed: the demo answer streamed, rendered and was stored.")
    return 0


def run_ask_command(args: argparse.Namespace, paths: AppPaths) -> int:
    from deltadesk.ask import BUSY_TIMEOUT_MS, run_ask
    from deltadesk.core.store import StoreError
    from deltadesk.core.text_safety import strip_control_chars
    from deltadesk.services import Services

    try:
        services = Services(paths, busy_timeout_ms=BUSY_TIMEOUT_MS)
    except StoreError as exc:  # damaged, or from a newer Deltadesk: say so, change nothing
        print(f"deltadesk: {strip_control_chars(str(exc))}", file=sys.stderr)
        return 1
    return run_ask(args, services)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = args.data_dir
    if args.self_test and data_dir is None:
        data_dir = tempfile.mkdtemp(prefix="deltadesk-self-test-")
    try:
        paths = app_paths(data_dir)
    except OSError as exc:  # e.g. a --data-dir inside a folder that cannot be written
        print(f"deltadesk: cannot use the data folder: {exc}", file=sys.stderr)
        return 1
    setup_logging(paths, args.verbose)
    if args.command == "ask":
        return run_ask_command(args, paths)
    if args.command == "history":
        from deltadesk.history_cli import run_history

        return run_history(args, paths)
    if args.self_test:
        return run_self_test(paths, sys.argv[:1])
    return run_gui(paths, sys.argv[:1])


if __name__ == "__main__":
    raise SystemExit(main())
