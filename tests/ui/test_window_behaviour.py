"""The window's conveniences on real widgets, offscreen: zoom keys, focus after Send / Stop /
a dialog, Up recalling the last prompt, the welcome page, the shortcut list, the theme."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from deltadesk.ui import theme
from deltadesk.ui.help_dialog import WIDGET_KEYS, HelpDialog, shortcut_rows
from deltadesk.ui.main_window import MainWindow
from deltadesk.ui.welcome import EXAMPLE_PROMPTS
from tests.ui.signals import record


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    widget = MainWindow()
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()  # window shortcuts act only in the active window
    qtbot.waitUntil(widget.isActiveWindow)
    yield widget
    widget.set_theme("light")  # the theme is process-wide: leave it as the other tests expect


def _prompt(window: MainWindow) -> object:
    return window.composer.input_widget()


def _wait_prompt_is_focus(window: MainWindow, qtbot: QtBot) -> None:
    """The prompt is the window's focus widget: what has the keyboard once the window is
    active again (offscreen, the window is not re-activated when a dialog closes)."""
    qtbot.waitUntil(lambda: window.focusWidget() is _prompt(window))


def _point_size(widget: object) -> float:
    return widget.font().pointSizeF()  # type: ignore[attr-defined]


# --- zoom -----------------------------------------------------------------------------------


def test_zoom_keys_scale_the_labels_and_the_prompt(window: MainWindow, qtbot: QtBot) -> None:
    changes = record(window.zoom_changed)
    prompt = window.composer.input_widget()
    title, status = window.conversation_title, window.status_label
    sizes = (_point_size(title), _point_size(status), _point_size(prompt))
    qtbot.keyClick(prompt, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom_percent() == 110 and changes == [(110,)]
    assert _point_size(title) == pytest.approx(sizes[0] * 1.1)
    assert _point_size(status) == pytest.approx(sizes[1] * 1.1)
    assert _point_size(prompt) == pytest.approx(sizes[2] * 1.1)
    # The placeholder ("Ask anything…") is drawn in the viewport's font: it grows too.
    assert _point_size(prompt.viewport()) == pytest.approx(sizes[2] * 1.1)
    qtbot.keyClick(prompt, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)  # Ctrl++
    assert window.zoom_percent() == 125
    qtbot.keyClick(prompt, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(prompt, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom_percent() == 100
    assert _point_size(title) == pytest.approx(sizes[0])
    qtbot.keyClick(prompt, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(prompt, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.zoom_percent() == 100
    assert [c[0] for c in changes] == [110, 125, 110, 100, 110, 100]


def test_zoom_is_bounded_and_the_prompt_keeps_fitting_its_lines(window: MainWindow) -> None:
    for _ in range(20):
        window.zoom_in()
    assert window.zoom_percent() == 300
    for _ in range(30):
        window.zoom_out()
    assert window.zoom_percent() == 50
    window.set_zoom(1000)
    assert window.zoom_percent() == 300
    prompt = window.composer.input_widget()
    window.composer.set_text("one\ntwo\nthree")
    for percent in (50, 67, 80, 90, 110, 125, 150, 175, 200, 250, 300):
        window.set_zoom(percent)
        QApplication.processEvents()
        # Three lines at any size: no scroll bar in a box that grows to its text.
        assert prompt.verticalScrollBar().maximum() == 0, percent


def test_zoom_reaches_the_conversation(window: MainWindow) -> None:
    before = window.chat_view.document().defaultFont().pointSizeF()
    window.set_zoom(150)
    assert window.chat_view.document().defaultFont().pointSizeF() > before


# --- focus ----------------------------------------------------------------------------------


def test_send_and_stop_by_click_leave_the_keyboard_in_the_prompt(
    window: MainWindow, qtbot: QtBot
) -> None:
    prompt = window.composer.input_widget()
    button = window.composer.button()
    stops = record(window.stop_requested)
    window.composer.set_text("hello")
    prompt.setFocus()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert prompt.hasFocus()
    window.set_streaming(True)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # Stop
    assert stops == [()]
    window.set_streaming(False)  # the answer ends: Stop turns into a disabled Send
    assert prompt.hasFocus()
    assert not window.keep_reasoning_box.hasFocus()
    qtbot.keyClick(prompt, Qt.Key.Key_Space)
    assert not window.keep_reasoning_box.isChecked() and window.composer.text() == " "


def test_a_button_reached_by_tab_gives_focus_back_when_it_turns_disabled(
    window: MainWindow, qtbot: QtBot
) -> None:
    prompt, button = window.composer.input_widget(), window.composer.button()
    window.set_streaming(True)
    button.setFocus(Qt.FocusReason.TabFocusReason)
    assert button.hasFocus()
    window.set_streaming(False)  # empty prompt: Send is disabled
    assert prompt.hasFocus()


def test_esc_stops_and_puts_the_keyboard_in_the_prompt(window: MainWindow, qtbot: QtBot) -> None:
    stops = record(window.stop_requested)
    window.sidebar.setFocus()
    window.findChild(type(window.settings_button)).setFocus()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
    assert stops == [()]
    assert _prompt(window).hasFocus()  # type: ignore[attr-defined]


def test_the_checkbox_and_settings_button_take_focus_from_tab_only(window: MainWindow) -> None:
    for widget in (window.keep_reasoning_box, window.settings_button, window.composer.button()):
        assert widget.focusPolicy() == Qt.FocusPolicy.TabFocus


@pytest.mark.parametrize("kind", ["dialog", "message box", "link warning in the chat"])
def test_every_dialog_gives_the_keyboard_back_to_the_prompt(
    window: MainWindow, qtbot: QtBot, kind: str
) -> None:
    window.settings_button.setFocus()
    dialog: QDialog
    if kind == "dialog":
        dialog = QDialog(window)
    elif kind == "message box":
        dialog = QMessageBox(QMessageBox.Icon.Question, "Delete?", "Delete it?", parent=window)
    else:  # chat_links.ask_before_opening: a box parented to the chat view
        window.chat_view.setFocus()
        dialog = QMessageBox(QMessageBox.Icon.Warning, "Open?", "Open it?", parent=window.chat_view)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.reject()
    _wait_prompt_is_focus(window, qtbot)


# --- Up recalls the last prompt -------------------------------------------------------------


def test_up_in_an_empty_prompt_recalls_the_last_one(window: MainWindow, qtbot: QtBot) -> None:
    prompt = window.composer.input_widget()
    prompt.setFocus()
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert window.composer.text() == ""  # nothing sent yet
    qtbot.keyClicks(prompt, "first question")
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    assert window.composer.text() == ""
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert window.composer.text() == "first question"
    qtbot.keyClick(prompt, Qt.Key.Key_Up)  # not empty: Up moves the cursor as always
    assert window.composer.text() == "first question"
    window.composer.clear()
    window.composer.set_recall_source(lambda: "the conversation's own")
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert window.composer.text() == "the conversation's own"
    window.composer.clear()
    window.composer.set_recall_source(lambda: None)  # a new chat: the last one sent anywhere
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert window.composer.text() == "first question"


# --- welcome --------------------------------------------------------------------------------


def test_the_welcome_page_sends_an_example_and_opens_settings(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert not window.welcome_shown()  # only when the shell asks (an empty new chat)
    window.set_welcome(True)
    assert window.welcome_shown() and window.welcome.isVisible()
    assert not window.chat_view.isVisible()
    sent = record(window.prompt_submitted)
    settings = record(window.settings_requested)
    qtbot.mouseClick(window.welcome.prompt_buttons[1], Qt.MouseButton.LeftButton)
    assert sent == [(EXAMPLE_PROMPTS[1],)]
    assert not window.welcome_shown() and window.chat_view.isVisible()  # a message is coming
    window.set_welcome(True)
    qtbot.mouseClick(window.welcome.settings_button, Qt.MouseButton.LeftButton)
    assert settings == [()]
    window.composer.set_text("typed")
    qtbot.keyClick(window.composer.input_widget(), Qt.Key.Key_Return)
    assert not window.welcome_shown()


def test_an_example_is_not_sent_while_an_answer_streams(window: MainWindow, qtbot: QtBot) -> None:
    window.set_welcome(True)
    window.set_streaming(True)
    sent = record(window.prompt_submitted)
    qtbot.mouseClick(window.welcome.prompt_buttons[0], Qt.MouseButton.LeftButton)
    assert sent == []


def test_comparing_keeps_the_compare_view_over_the_welcome(window: MainWindow) -> None:
    window.set_welcome(True)
    window.compare_view.start([(1, "a"), (2, "b")])
    window.show_compare()
    window.set_welcome(True)
    assert window.is_comparing()
    window.show_chat()
    assert window.welcome_shown()


# --- help -----------------------------------------------------------------------------------


def _window_keys(window: MainWindow) -> set[str]:
    native = QKeySequence.SequenceFormat.NativeText
    return {
        sequence.toString(native)
        for action in window.findChildren(type(window.actions()[0]))
        for sequence in action.shortcuts()
    }


def test_f1_shows_every_shortcut_of_the_window(window: MainWindow, qtbot: QtBot) -> None:
    qtbot.keyClick(window.composer.input_widget(), Qt.Key.Key_F1)
    dialog = window.findChild(HelpDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog)
    rows = dialog.rows()
    listed = {keys for keys, _ in rows}
    real = _window_keys(window)
    for keys, _what in rows[: len(rows) - len(WIDGET_KEYS)]:  # each listed action exists
        assert set(keys.split(", ")) <= real, keys
    for keys in real:  # and each real shortcut is listed
        assert any(keys in row.split(", ") for row in listed), keys
    for expected in ("Ctrl+=", "Ctrl+-", "Ctrl+0", "Ctrl+N", "Ctrl+,", "Esc", "F1", "Ctrl+L"):
        assert any(expected in row.split(", ") for row in listed), expected
    dialog.reject()
    _wait_prompt_is_focus(window, qtbot)


def test_the_keys_the_prompt_handles_itself_do_what_the_list_says(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert [keys for keys, _ in WIDGET_KEYS] == ["Enter", "Shift+Enter", "Up", "Esc"]
    prompt = window.composer.input_widget()
    sent, stops = record(window.prompt_submitted), record(window.stop_requested)
    compares = record(window.compare_requested)
    qtbot.keyClicks(prompt, "a")
    qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.text() == "a\n"
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    assert sent == [("a",)]
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert window.composer.text() == "a"
    qtbot.keyClick(prompt, Qt.Key.Key_Escape)
    assert stops == [()]
    window.set_profiles(["one", "two"], "one")
    window.compare_picker.set_checked(["one", "two"])
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(prompt, Qt.Key.Key_Return, both)
    assert compares == [("a",)]  # the prompt's own key, and the Compare action's
    assert any(row[1] == "Compare" for row in shortcut_rows(window))
    assert shortcut_rows(window)[-len(WIDGET_KEYS) :] == list(WIDGET_KEYS)


# --- theme ----------------------------------------------------------------------------------


def test_the_theme_override_switches_the_palette_and_is_said(window: MainWindow) -> None:
    chosen = record(window.theme_chosen)
    window.chat_view.show_messages([])
    window.theme_actions["dark"].trigger()
    assert chosen == [("dark",)]
    assert window.theme_mode() == "dark" and theme.is_dark()
    assert window.theme_actions["dark"].isChecked()
    app_palette = QApplication.palette()
    assert app_palette.color(QPalette.ColorRole.Window).lightness() < 80
    base = window.chat_view.palette().color(QPalette.ColorRole.Base).name()
    assert base == theme.DARK.background
    assert theme.DARK.text in window.chat_view.document().defaultStyleSheet()
    window.theme_actions["light"].trigger()
    assert not theme.is_dark()
    assert window.chat_view.palette().color(QPalette.ColorRole.Base).name() == "#ffffff"
    window.theme_actions["system"].trigger()  # offscreen has no dark system theme
    assert chosen[-1] == ("system",) and not theme.is_dark()


def test_system_mode_follows_the_desktop_switching_to_dark_and_back(
    window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    from deltadesk.ui import appearance

    applied = record(window.appearance.changed)
    window.set_theme("system")
    assert not theme.is_dark()
    hints = QApplication.styleHints()
    # Offscreen has no desktop theme to change: the desktop's answer and its signal stand in.
    monkeypatch.setattr(appearance, "system_is_dark", lambda: True)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.is_dark() and applied[-1] == ("dark",)
    assert window.chat_view.palette().color(QPalette.ColorRole.Base).name() == theme.DARK.background
    window.set_theme("light")  # an explicit choice is not overridden by the desktop
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not theme.is_dark()
    monkeypatch.setattr(appearance, "system_is_dark", lambda: False)
    window.set_theme("system")
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not theme.is_dark() and applied[-1] == ("light",)


def test_ctrl_wheel_over_the_chat_zooms_the_window(window: MainWindow, qtbot: QtBot) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    changes = record(window.zoom_changed)
    viewport = window.chat_view.viewport()

    def wheel(steps: int) -> None:
        spot = QPointF(viewport.rect().center())
        event = QWheelEvent(
            spot,
            QPointF(viewport.mapToGlobal(spot.toPoint())),
            QPoint(0, 0),
            QPoint(0, 120 * steps),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.ControlModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, event)

    wheel(1)
    assert window.zoom_percent() == 110
    wheel(-1)
    wheel(-1)
    assert window.zoom_percent() == 90 and [c[0] for c in changes] == [110, 100, 90]


@pytest.mark.parametrize(("first", "then"), [("dark", "light"), ("light", "dark")])
def test_the_chat_page_takes_the_new_theme_behind_its_text(
    window: MainWindow, first: str, then: str
) -> None:
    """Seen in a real window: after dark -> light the page behind the text stayed dark (the
    window's style sheet gave the viewport a palette of its own)."""
    window.set_theme(first)
    window.set_theme(then)
    expected = (theme.DARK if then == "dark" else theme.LIGHT).background
    viewport = window.chat_view.viewport()
    assert viewport.palette().color(QPalette.ColorRole.Base).name() == expected
    painted = viewport.grab().toImage().pixelColor(3, 3).name()
    assert painted == expected
