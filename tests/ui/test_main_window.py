"""The main window's own lines: title, status, notice and banner (real widgets, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import MessageView
from deltadesk.ui.main_window import MainWindow
from tests.ui.signals import record


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


# --- compare: the picker, the request, the view in place of the chat -----------------------------

PROFILES = ["openai", "groq <b>fast</b>", "local"]


def _ready(window: MainWindow, checked: list[str], prompt: str = "Which sort is stable?") -> None:
    window.set_profiles(PROFILES, "openai")
    window.compare_picker.set_checked(checked)
    window.composer.set_text(prompt)


def test_compare_button_sends_the_prompt_with_the_checked_profiles(
    window: MainWindow, qtbot: QtBot
) -> None:
    _ready(window, ["openai", "local"])
    asked = record(window.compare_requested)
    sent = record(window.prompt_submitted)
    qtbot.mouseClick(window.compare_picker, Qt.MouseButton.LeftButton)
    assert asked == [("Which sort is stable?",)] and sent == []
    assert window.compare_profiles() == ["openai", "local"]
    assert window.composer.text() == ""
    assert window.compare_picker.text() == "Compare (2)"


def test_ctrl_shift_enter_in_the_prompt_compares(window: MainWindow, qtbot: QtBot) -> None:
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    _ready(window, PROFILES)
    asked = record(window.compare_requested)
    sent = record(window.prompt_submitted)
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.composer.input_widget(), Qt.Key.Key_Return, modifiers)
    assert asked == [("Which sort is stable?",)] and sent == []
    assert "\n" not in window.composer.text()


def test_compare_needs_two_to_four_profiles_and_a_prompt(window: MainWindow) -> None:
    asked = record(window.compare_requested)
    _ready(window, ["groq <b>fast</b>"])
    window.request_compare()
    assert asked == []
    assert window.composer.text() == "Which sort is stable?"  # kept for when it can go
    assert "2 to 4 profiles" in window.statusBar().currentMessage()
    _ready(window, PROFILES, prompt="   ")
    window.request_compare()
    assert asked == []
    window.composer.set_text("now")
    window.set_streaming(True)
    window.request_compare()
    assert asked == [] and not window.compare_picker.isEnabled()


def test_profile_list_keeps_its_checks_and_shows_names_as_text(window: MainWindow) -> None:
    window.set_profiles(PROFILES, "openai")
    assert window.compare_profiles() == ["openai"]  # the active one to begin with
    window.compare_picker.set_checked(["groq <b>fast</b>", "local"])
    window.set_profiles([*PROFILES, "new one"], "openai")
    assert window.compare_profiles() == ["groq <b>fast</b>", "local"]
    items = window.compare_picker.list_widget()
    assert [items.item(row).text() for row in range(items.count())][1] == "groq <b>fast</b>"


def test_compare_view_takes_the_chat_place_and_a_choice_brings_the_chat_back(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    window.compare_view.start([(5, "openai"), (6, "local")])
    window.show_compare()
    assert window.is_comparing()
    assert window.compare_view.isVisible() and not window.chat_view.isVisible()
    chosen = record(window.compare_view.chosen)
    column = window.compare_view.column(6)
    assert column is not None
    qtbot.mouseClick(column.choose_button, Qt.MouseButton.LeftButton)
    assert chosen == [(6,)]
    assert not window.is_comparing() and window.chat_view.isVisible()
    window.show_compare()
    qtbot.mouseClick(window.compare_view.back_button, Qt.MouseButton.LeftButton)
    assert not window.is_comparing()


def test_escape_in_the_message_editor_cancels_the_edit_not_the_answer(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.show()
    window.activateWindow()  # window shortcuts (Esc is Stop) act only in the active window
    qtbot.waitUntil(window.isActiveWindow)
    window.chat_view.show_messages([MessageView(1, "user", "Question")])
    stops = record(window.stop_requested)
    window.chat_view.edit_message(1)
    qtbot.keyClick(window.chat_view.editor.input, Qt.Key.Key_Escape)
    assert stops == []
    assert not window.chat_view.editor.isVisible()
    qtbot.keyClick(window.composer.input_widget(), Qt.Key.Key_Escape)
    assert stops == [()]  # in the prompt box Esc still stops


def test_the_window_fits_a_small_screen(window: MainWindow, qtbot: QtBot) -> None:
    window.set_profiles(["a profile with a rather long name", "second"], "second")
    window.resize(800, 600)
    window.show()
    qtbot.waitExposed(window)
    long_name = "a-very-long-model-name-" * 6
    window.set_title("A long title made from a long prompt " * 8)
    window.compare_view.start(
        [(1, long_name), (2, "b"), (3, "c"), (4, "d")], prompt="a long prompt " * 30
    )
    window.compare_view.set_figures(1, long_name * 3)
    window.set_status("status " + long_name * 3)
    window.show_notice("notice " + long_name * 3)
    window.show_compare()
    hint = window.minimumSizeHint()
    assert hint.width() <= 800 and hint.height() <= 600
    assert window.width() <= 800 and window.height() <= 600
