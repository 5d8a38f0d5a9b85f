"""The main window's own lines: title, status, notice and banner (real widgets, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from deltadesk.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    widget = MainWindow()
    qtbot.addWidget(widget)
    yield widget


def test_banner_shows_and_hides_apart_from_the_notice(window: MainWindow) -> None:
    window.show()
    window.show_notice("No keyring: keys are kept for this session only.")
    window.show_banner("The history is read-only: nothing new is saved.")
    assert window.banner_label.isVisible() and window.notice_label.isVisible()
    assert window.banner_label.text() == "The history is read-only: nothing new is saved."
    window.show_banner(None)
    assert not window.banner_label.isVisible()
    assert window.notice_label.isVisible()  # the notice stays


def test_banner_is_plain_text(window: MainWindow) -> None:
    window.show_banner('not saved: <img src="/nonexistent/picture.png">')
    assert window.banner_label.textFormat() == Qt.TextFormat.PlainText
    assert window.banner_label.text() == 'not saved: <img src="/nonexistent/picture.png">'


def test_a_huge_status_is_clipped_to_one_line(window: MainWindow) -> None:
    window.set_status("error\n" + "x" * 1_000_000)
    text = window.status_label.text()
    assert "\n" not in text and len(text) <= 2000 and text.endswith("…")
