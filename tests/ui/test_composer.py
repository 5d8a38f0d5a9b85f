import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt

from deltadesk.ui.composer import MAX_LINES, PLACEHOLDER, Composer
from tests.ui.signals import record


@pytest.fixture
def composer(qtbot):
    widget = Composer()
    qtbot.addWidget(widget)
    widget.resize(500, 200)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_enter_submits_the_prompt_and_clears_the_box(composer, qtbot):
    submitted = record(composer.submitted)
    qtbot.keyClicks(composer.input_widget(), "hello there")
    qtbot.keyClick(composer.input_widget(), Qt.Key.Key_Return)
    assert submitted == [("hello there",)]
    assert composer.text() == ""


def test_keypad_enter_submits_too(composer, qtbot):
    submitted = record(composer.submitted)
    composer.set_text("hi")
    qtbot.keyClick(composer.input_widget(), Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert submitted == [("hi",)]


def test_shift_enter_inserts_a_newline_without_sending(composer, qtbot):
    submitted = record(composer.submitted)
    editor = composer.input_widget()
    qtbot.keyClicks(editor, "one")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor, "two")
    assert submitted == []
    assert composer.text() == "one\ntwo"
    assert editor.document().blockCount() == 2  # a real paragraph, not a U+2028 soft break


def test_ctrl_shift_enter_asks_for_a_comparison_and_keeps_the_text(composer, qtbot):
    submitted, compares = record(composer.submitted), record(composer.compare_pressed)
    composer.set_text("compare me")
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(composer.input_widget(), Qt.Key.Key_Return, modifiers)
    assert compares == [()] and submitted == []
    assert composer.text() == "compare me"  # the window takes it once the comparison can go


def test_send_button_submits_trimmed_text(composer, qtbot):
    submitted = record(composer.submitted)
    composer.set_text("  question?\n\n")
    qtbot.mouseClick(composer.button(), Qt.MouseButton.LeftButton)
    assert submitted == [("question?",)]


@pytest.mark.parametrize("blank", ["", "   ", "\n\n", " \t\n "])
def test_blank_prompt_does_nothing(composer, qtbot, blank):
    submitted = record(composer.submitted)
    composer.set_text(blank)
    qtbot.keyClick(composer.input_widget(), Qt.Key.Key_Return)
    composer.button().click()
    assert submitted == []
    assert composer.text() == blank
    assert not composer.button().isEnabled()


def test_escape_asks_to_stop(composer, qtbot):
    stops = record(composer.stop_requested)
    qtbot.keyClick(composer.input_widget(), Qt.Key.Key_Escape)
    assert stops == [()]


def test_streaming_turns_send_into_stop_and_keeps_the_box_editable(composer, qtbot):
    submitted = record(composer.submitted)
    stops = record(composer.stop_requested)
    composer.set_streaming(True)
    button = composer.button()
    assert button.text() == "Stop"
    assert "Esc" in button.toolTip()
    assert button.isEnabled()
    assert button.property("streaming") is True

    editor = composer.input_widget()
    qtbot.keyClicks(editor, "next question")
    assert not editor.isReadOnly()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert submitted == []  # no second prompt while an answer streams
    assert composer.text() == "next question"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert stops == [()]
    assert submitted == []

    composer.set_streaming(False)
    assert button.text() == "Send"
    assert "Enter" in button.toolTip()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert submitted == [("next question",)]


def test_the_box_grows_with_the_text_and_then_scrolls(composer):
    editor = composer.input_widget()
    one_line = editor.height()
    composer.set_text("a\nb\nc")
    three_lines = editor.height()
    assert three_lines > one_line
    assert editor.verticalScrollBar().maximum() == 0  # everything visible, no scrolling yet

    composer.set_text("\n".join(str(n) for n in range(MAX_LINES)))
    full = editor.height()
    composer.set_text("\n".join(str(n) for n in range(MAX_LINES * 3)))
    assert editor.height() == full  # capped at MAX_LINES
    assert editor.verticalScrollBar().maximum() > 0

    composer.clear()
    assert editor.height() == one_line


def test_text_api_and_placeholder(composer):
    assert composer.input_widget().placeholderText() == PLACEHOLDER
    composer.set_text("put back after a failed send")
    assert composer.text() == "put back after a failed send"
    assert composer.input_widget().textCursor().atEnd()
    composer.clear()
    assert composer.text() == ""


def test_focus_input_gives_the_text_box_focus(composer, qtbot):
    composer.button().setFocus()
    composer.focus_input()
    qtbot.waitUntil(lambda: composer.input_widget().hasFocus(), timeout=1000)
