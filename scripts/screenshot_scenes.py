"""The README's screenshots, taken from the real app on the X display in $DISPLAY.

    .venv/bin/python scripts/screenshot_scenes.py --theme light|dark --out DIR [--scenes a,b]

Run by `scripts/screenshot.sh --docs` (which starts Xvfb and installs the X tools). Starts the
app through its own entry point (`deltadesk.app.main`, so start-up, preferences and theme are
the real ones) on a fresh data directory holding three demo profiles and the chosen theme,
plays each scene on the app's own loop (prompts typed into the composer and sent with Return,
Ctrl+Shift+F and typing for the search, buttons clicked), and grabs the window with
`xwd -id` once the scene is drawn. Light shots are DIR/NAME.png, dark ones DIR/NAME-dark.png.

The demo provider streams at its own speed, so a scene waits for its answers to end (or, for
compare, for a few seconds of streaming) before the grab.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

# Compare last: its answers are still streaming when it is grabbed.
SCENES = ("screenshot", "branches", "search", "long-answer", "compare")
PROFILES = ("Demo B", "Demo C")  # besides the built-in demo: three columns to compare
SEARCH_QUERY = "websocket"


def log(text: str) -> None:
    print(f"screenshot: {text}", file=sys.stderr, flush=True)


def prepare(data_dir: Path, theme: str) -> None:
    """Profiles and preferences, written as the app writes them."""
    from deltadesk.core.paths import app_paths
    from deltadesk.core.preferences import PreferenceStore
    from deltadesk.core.profiles import ProfileStore, demo_profile

    paths = app_paths(data_dir)
    profiles = ProfileStore(paths.profiles)
    for name in PROFILES:
        profiles.upsert(replace(demo_profile(), name=name))
    preferences = PreferenceStore(paths.preferences)
    if "theme" in {f for f in type(preferences.current).__dataclass_fields__}:
        preferences.update(theme=theme)
    elif theme != "light":
        log("this build has no theme preference: the dark shots will look light")


async def until(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


class Director:
    """Plays the scenes on the running app and grabs the window after each."""

    def __init__(self, shell: Any, out: Path, suffix: str, scenes: list[str]) -> None:
        self.failed = False
        self.saved: set[str] = set()
        self.shell = shell
        self.window = shell.window
        self.out = out
        self.suffix = suffix
        self.scenes = scenes

    async def run(self) -> None:
        try:
            await until(self.window.isVisible, 30, "the window")
            await asyncio.sleep(1.0)  # the rest of start-up (warm-up, first paint)
            await self.focus()
            for name in self.scenes:
                method = f"scene_{name.replace('-', '_')}"
                scene: Callable[[], Coroutine[Any, Any, None]] = getattr(self, method)
                log(f"scene {name}")
                await scene()
                if name not in self.saved:  # a scene may grab at its own moment
                    await self.grab(name)
        except Exception as exc:  # said, and the app closes with a failure code
            log(f"failed: {exc!r}")
            self.failed = True
            raise
        finally:
            # Every shot is saved: an answer that would not end must not hold the app open.
            watchdog = threading.Timer(60, lambda: os._exit(1 if self.failed else 0))
            watchdog.daemon = True  # a normal end of the app does not wait for it
            watchdog.start()
            self.window.close()

    # --- helpers -----------------------------------------------------------------------------

    async def focus(self) -> None:
        """No window manager: the window takes the keyboard itself."""
        window_id = int(self.window.winId())
        subprocess.run(["xdotool", "windowfocus", "--sync", str(window_id)], check=False)
        self.window.activateWindow()
        await until(self.window.isActiveWindow, 10, "keyboard focus")

    async def settle(self, seconds: float = 0.8) -> None:
        """Lets layout, lazy rendering and paint catch up before a grab."""
        from PySide6.QtWidgets import QApplication

        await asyncio.sleep(seconds)
        QApplication.processEvents()
        await asyncio.sleep(0.2)

    async def grab(self, name: str) -> None:
        await self.settle()
        await self.grab_now(name)

    async def grab_now(self, name: str) -> None:
        target = self.out / f"{name}{self.suffix}.png"
        window_id = str(int(self.window.winId()))
        xwd = subprocess.run(["xwd", "-id", window_id, "-silent"], capture_output=True, check=True)
        pnm = subprocess.run(["xwdtopnm"], input=xwd.stdout, capture_output=True, check=True)
        png = subprocess.run(["pnmtopng"], input=pnm.stdout, capture_output=True, check=True)
        target.write_bytes(png.stdout)
        self.saved.add(name)
        log(f"saved {target}")

    def composer_input(self) -> Any:
        composer = self.window.composer
        return getattr(composer, "input", None) or composer.focusWidget() or composer

    async def type_prompt(self, text: str) -> None:
        """Typed into the composer and sent with Return, as a person does."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        self.window.composer.focus_input()
        target = self.window.focusWidget()
        QTest.keyClicks(target, text)
        QTest.keyClick(target, Qt.Key.Key_Return)

    async def answered(self, timeout: float = 90) -> None:
        controller = self.shell.controller
        await until(lambda: controller.busy, 10, "the answer to start")
        await until(lambda: not controller.busy, timeout, "the answer to end")

    async def ask(self, text: str) -> None:
        await self.type_prompt(text)
        await self.answered()

    def new_chat(self) -> None:
        """A new chat, with the sidebar back on the list of chats (Esc leaves a search)."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        sidebar = self.window.sidebar
        if sidebar.is_full_text():
            field = sidebar.filter_field()
            field.setFocus()
            QTest.keyClick(field, Qt.Key.Key_Escape)
        self.shell.new_chat()

    def scroll_to(self, message_id: int, above: int = 90) -> None:
        """The chat scrolled so the message starts near the top (its header in sight)."""
        from PySide6.QtGui import QTextCursor

        view = self.shell.view
        start, _end = view.answer_span(message_id)
        cursor = QTextCursor(view.document())
        cursor.setPosition(start)
        top = view.cursorRect(cursor).top() + view.verticalScrollBar().value()
        view.verticalScrollBar().setValue(max(0, top - above))

    # --- scenes ------------------------------------------------------------------------------

    async def scene_screenshot(self) -> None:
        """A markdown answer from the demo provider, its figures under it."""
        self.new_chat()
        await self.ask("Show me a short Python example with a table of what it prints.")
        self.shell.view.verticalScrollBar().setValue(0)

    async def scene_branches(self) -> None:
        """Two turns, the second answer regenerated: ◀ 2/2 ▶ and figures under each."""
        self.new_chat()
        await self.ask("Any tips for writing better prompts?")
        await self.ask("Compare server-sent events and WebSocket for chat")
        controller = self.shell.controller
        store = self.shell.services.store
        prompt, answer = store.active_path(controller.conversation_id)[-2:]
        self.shell._run(controller.regenerate(answer.id))
        await self.answered()
        await self.settle()
        self.scroll_to(prompt.id, above=160)

    async def scene_long_answer(self) -> None:
        """A long answer streaming (code, tables), read from above: "Jump to latest"."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        self.new_chat()
        await self.type_prompt("Tell me everything about streaming, the long version")
        controller, view = self.shell.controller, self.shell.view
        await until(lambda: len(controller.live_text()[0]) > 6000, 60, "a long stretch of text")
        for _ in range(3):  # the reader pages up while it streams
            QTest.keyClick(view, Qt.Key.Key_PageUp)
        await until(view.jump_button.isVisible, 10, "Jump to latest")
        await asyncio.sleep(1.5)
        await self.grab_now("long-answer")
        controller.stop(controller.conversation_id)
        await until(lambda: not controller.busy, 30, "the long answer to stop")

    async def scene_compare(self) -> None:
        """One prompt to three profiles, side by side; the third stopped, two streaming."""
        self.new_chat()
        window = self.window
        names = [window.profile_box.itemText(i) for i in range(window.profile_box.count())]
        window.compare_picker.set_checked(names[:3])
        window.composer.set_text("Show me a short Python script that streams an answer")
        window.request_compare()
        await until(window.is_comparing, 10, "the compare view")
        columns = window.compare_view
        await until(
            lambda: all(
                len(c.view.toPlainText()) > 200
                for c in map(columns.column, columns.message_ids())
                if c is not None
            ),
            30,
            "three columns of text",
        )
        third = columns.column(columns.message_ids()[-1])
        third.stop_button.click()
        await asyncio.sleep(2.5)

    async def scene_search(self) -> None:
        """Full-text search from the sidebar: Ctrl+Shift+F, a word, its hits."""
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        self.new_chat()
        await self.settle(0.3)
        ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
        QTest.keyClick(self.window, Qt.Key.Key_F, ctrl_shift)
        await self.settle(0.3)
        field = QApplication.focusWidget()
        QTest.keyClicks(field, SEARCH_QUERY)
        await asyncio.sleep(1.5)  # the search waits for typing to pause
        # Enter goes into the results, Enter again opens the best hit: its chat scrolled to
        # it, the word highlighted, and the results still listed beside it.
        QTest.keyClick(field, Qt.Key.Key_Return)  # into the results
        await self.settle(0.3)
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        await self.settle(1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--scenes", default=",".join(SCENES))
    args = parser.parse_args()
    scenes = [s for s in args.scenes.split(",") if s]
    unknown = set(scenes) - set(SCENES)
    if unknown:
        parser.error(f"unknown scenes: {', '.join(sorted(unknown))} (known: {', '.join(SCENES)})")
    if not os.environ.get("DISPLAY"):
        parser.error("no DISPLAY: run it through scripts/screenshot.sh --docs")
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.theme == "light" else f"-{args.theme}"

    import deltadesk.shell
    from deltadesk.app import main as app_main

    directors: list[Director] = []
    build_window = deltadesk.shell.build_window

    def build_and_direct(*a: Any, **k: Any) -> Any:
        shell = build_window(*a, **k)
        director = Director(shell, args.out.resolve(), suffix, scenes)
        directors.append(director)
        shell._run(director.run())
        return shell

    deltadesk.shell.build_window = build_and_direct  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="deltadesk-shots.") as data_dir:
        prepare(Path(data_dir), args.theme)
        code = app_main(["--data-dir", data_dir])
    if not directors or directors[0].failed:
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
