"""A closed window (its history closed too) does not redraw when the theme changes: the
theme is the application's, so a switch elsewhere reaches every window still in memory."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deltadesk.core.paths import app_paths
from deltadesk.services import Services
from deltadesk.shell import build_window
from tests.test_controller import dispose


def test_a_theme_switch_after_the_window_and_its_history_closed_draws_nothing(
    qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    shell = build_window(services)
    qt_loop.run_until_complete(shell.controller.send(None, "hello"))
    assert shell.controller.conversation_id is not None
    shell.window.close()
    qt_loop.run_until_complete(shell.controller.shutdown())
    qt_loop.run_until_complete(services.aclose())
    try:
        # Reading the closed history from the redraw raised here (a StoreError in a slot).
        shell.window.set_theme("dark")
        shell.window.set_theme("light")
    finally:
        dispose(shell.window)
