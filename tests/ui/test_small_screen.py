"""The window on small virtual screens (a child process per screen layout: the offscreen
platform takes its screens from a config file when it starts): long outside text never widens
it past an 800x600 screen, and a saved geometry comes back on a screen it fits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect

from deltadesk.window_state import centred, fitting_rect

CHILD = Path(__file__).with_name("small_screen_child.py")
REPO = Path(__file__).resolve().parents[2]


def _screens_file(tmp_path: Path, screens: list[tuple[str, int, int, int, int]]) -> Path:
    path = tmp_path / "screens.json"
    path.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": name,
                        "x": x,
                        "y": y,
                        "width": w,
                        "height": h,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                    for name, x, y, w, h in screens
                ]
            }
        )
    )
    return path


def _run(tmp_path: Path, screens: list[tuple[str, int, int, int, int]], *args: str) -> Any:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screens_file(tmp_path, screens)}"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, str(CHILD), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


SMALL = [("small", 0, 0, 800, 600)]


def test_long_title_and_names_fit_an_800x600_screen(tmp_path: Path) -> None:
    result = _run(tmp_path, SMALL, "long")
    assert result["screen"] == [800, 600]
    assert result["minimum"][0] <= 800 and result["minimum"][1] <= 600, result
    assert result["window"][0] <= 800 and result["window"][1] <= 600, result
    assert result["send_on_screen"] and result["settings_on_screen"], result
    assert result["title_text_whole"]  # elided when drawn, whole in text() and the tooltip
    # No room beside the pickers: the title takes its own line rather than vanish.
    assert result["title_on_own_line"] and result["title_width"] >= 300, result
    assert result["title_on_screen"], result
    header = result["header"]
    assert result["title_ignored"]  # the title gives way to everything else
    del header["title"]
    assert header["profile"] <= 270, header  # a long profile name does not widen its box
    if "model" in header:
        assert header["model"] <= 270, header
    assert sum(header.values()) <= 800 - 250, header  # beside a sidebar on 800 pixels


def test_on_a_wide_screen_the_title_stays_in_the_top_bar(tmp_path: Path) -> None:
    result = _run(tmp_path, [("wide", 0, 0, 1600, 900)], "long", "[1500, 850]")
    assert not result["title_on_own_line"] and result["title_width"] >= 160, result
    assert result["send_on_screen"] and result["settings_on_screen"]


def test_a_geometry_off_every_screen_is_centred_on_the_primary(tmp_path: Path) -> None:
    result = _run(tmp_path, SMALL, "restore", json.dumps([2500, 1400, 1180, 760]))
    x, y, width, height = result["geometry"]
    assert width <= 800 and height <= 600
    assert x >= 0 and x + width <= 800 and y >= 0 and y + height <= 600
    assert abs((x + width / 2) - 400) <= 2 and abs((y + height / 2) - 300) <= 2  # centred


def test_a_geometry_on_a_second_screen_stays_there_and_shrinks_to_fit(tmp_path: Path) -> None:
    screens = [("left", 0, 0, 800, 600), ("right", 800, 0, 1280, 800)]
    result = _run(tmp_path, screens, "restore", json.dumps([1000, 100, 1400, 900]))
    x, y, width, height = result["geometry"]
    assert (width, height) == (1280, 800), result
    assert x == 800 and 0 <= y <= 4, result  # (the offscreen window frame may nudge it down)
    assert result["splitter"][0] == pytest.approx(300, abs=2)


def test_fitting_rect_keeps_a_rect_that_fits_and_moves_one_half_off() -> None:
    screen, primary = QRect(0, 0, 1280, 800), QRect(0, 0, 1280, 800)
    assert fitting_rect(QRect(100, 50, 900, 600), [screen], primary) == QRect(100, 50, 900, 600)
    assert fitting_rect(QRect(800, 500, 900, 600), [screen], primary) == QRect(380, 200, 900, 600)
    # Only a sliver on the screen (too little to grab): placed afresh on the primary.
    sliver = fitting_rect(QRect(1250, 780, 900, 600), [screen], primary)
    assert sliver == centred((900, 600), primary)
    # The screen it was on is gone: centred on the primary, at a size that fits.
    gone = fitting_rect(QRect(-2000, 0, 1600, 1000), [screen], primary)
    assert gone.width() <= 1280 * 0.95 and gone.height() <= 800 * 0.92
    assert primary.contains(gone)
