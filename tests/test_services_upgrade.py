"""A slow upgrade of the history (building the search index of a large one) is told: through
the progress callback while it runs, and by a banner when the window opens."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core import migrations
from deltadesk.core.paths import app_paths
from deltadesk.services import Services
from deltadesk.shell import build_window
from tests.test_controller import dispose

V3_FILE = Path(__file__).parent / "core" / "data" / "history-v3.sqlite3"


def v3_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    paths = app_paths(home)
    shutil.copyfile(V3_FILE, paths.db)
    return home


def test_a_quick_upgrade_or_none_says_nothing(tmp_path: Path) -> None:
    services = Services(app_paths(v3_home(tmp_path)), demo_tokens_per_second=0)
    try:
        assert services.store.upgrade is not None  # upgraded, in milliseconds
        assert services.history_notice_at_start is None
    finally:
        asyncio.run(services.aclose())
    again = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    try:
        assert again.store.upgrade is None and again.history_notice_at_start is None
    finally:
        asyncio.run(again.aclose())


def test_a_slow_upgrade_is_told_while_it_runs_and_shown_when_the_window_opens(
    qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "SLOW_UPGRADE_SECONDS", 0.0)  # every upgrade is "slow"
    monkeypatch.setattr(migrations, "_PROGRESS_STEPS", 50)
    told: list[str] = []
    services = Services(
        app_paths(v3_home(tmp_path)), demo_tokens_per_second=0, upgrade_progress=told.append
    )
    assert told and "building its search index of 13 messages" in told[0]
    note = services.history_notice_at_start
    assert note is not None and "built its search index of 13 messages" in note
    shell = build_window(services)
    try:
        assert shell.window.banner_label.text() == note
    finally:
        qt_loop.run_until_complete(shell.controller.shutdown())
        qt_loop.run_until_complete(services.aclose())
        dispose(shell.window)


def test_the_window_says_a_slow_upgrade_while_it_runs(
    qapp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app's progress callback puts the note in the window's banner as it comes."""
    from deltadesk.app import _say_while_busy
    from deltadesk.ui.main_window import MainWindow

    monkeypatch.setattr(migrations, "SLOW_UPGRADE_SECONDS", 0.0)
    monkeypatch.setattr(migrations, "_PROGRESS_STEPS", 50)
    window = MainWindow()
    seen: list[str] = []

    def progress(note: str) -> None:
        _say_while_busy(window, note)
        seen.append(window.banner_label.text())

    services = Services(
        app_paths(v3_home(tmp_path)), demo_tokens_per_second=0, upgrade_progress=progress
    )
    try:
        assert seen and "building its search index" in seen[0]
        assert not window.banner_label.isHidden()
    finally:
        asyncio.run(services.aclose())
        dispose(window)
