"""The compare view with real widgets (offscreen): columns that stream independently, their
own Stop, "Continue with this one", plain-text names and figures."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette, QTextLayout, QTextOption
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import ChatView, MessageView
from deltadesk.ui.compare_view import (
    CompareColumn,
    CompareView,
    wrappable_figures,
)
from tests.ui.signals import record

ANSWERS = {
    21: "# One\n\nThe **first** answer, with a list:\n\n- a\n- b\n",
    22: "Second answer.\n\n```python\nprint('two')\n```\n",
    23: "Third | answer\n--- | ---\ncell | cell\n\nand a closing line.",
}
LABELS = ["openai · gpt-4o", '<img src="/dev/zero"> groq', "local · qwen"]


@pytest.fixture
def compare(qtbot: QtBot) -> Iterator[CompareView]:
    widget = CompareView()
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.start(list(zip(ANSWERS, LABELS, strict=True)), prompt="Which is best?")
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _text(compare: CompareView, message_id: int) -> str:
    column = compare.column(message_id)
    assert column is not None
    return column.view.message_plain_text(message_id)


def _shown_whole(qtbot: QtBot, message_id: int, text: str) -> str:
    """The text of the answer as the chat shows it stored: what streaming must end with."""
    view = ChatView()
    qtbot.addWidget(view)
    view.add_message(MessageView(message_id, "assistant", text))
    return view.message_plain_text(message_id)


def test_three_columns_stream_independently(compare: CompareView, qtbot: QtBot) -> None:
    rng = random.Random(8)
    rest = dict(ANSWERS)
    while rest:  # chunks of the three answers interleaved, as three streams deliver them
        message_id = rng.choice(sorted(rest))
        size = rng.choice([1, 2, 5, 13])
        compare.append_text(message_id, rest[message_id][:size])
        rest[message_id] = rest[message_id][size:]
        if not rest[message_id]:
            del rest[message_id]
    for message_id in ANSWERS:
        compare.end_streaming(message_id, "done")
    expected = {m: _shown_whole(qtbot, m, text) for m, text in ANSWERS.items()}
    assert {m: _text(compare, m) for m in ANSWERS} == expected
    assert "print('two')" in expected[22] and "closing line" in expected[23]
    assert not compare.is_streaming()


def test_a_column_edits_only_its_own_document(compare: CompareView) -> None:
    touched: list[int] = []
    for message_id in ANSWERS:
        column = compare.column(message_id)
        assert column is not None
        column.view.document().contentsChange.connect(
            lambda *_args, m=message_id: touched.append(m)
        )
    compare.append_text(22, "only the second")
    compare.append_reasoning(22, "thinking")
    compare.set_figures(22, "groq · 40 tok/s")
    assert set(touched) == {22}


def test_headers_and_figures_are_plain_text(compare: CompareView) -> None:
    column = compare.column(22)
    assert column is not None
    assert column.header.textFormat() == Qt.TextFormat.PlainText
    assert column.header.text() == '<img src="/dev/zero"> groq'
    compare.set_figures(22, "<b>model</b>\x1b[2J · first token 90 ms")
    assert column.figures.textFormat() == Qt.TextFormat.PlainText
    assert column.figures.text() == "<b>model</b>[2J\u00a0· first\u00a0token\u00a090\u00a0ms"
    assert column.figures.isVisible()
    compare.end_streaming(22, "done")
    compare.set_figures(22, "")
    assert not column.figures.isVisible()
    assert compare.prompt_label.text() == "Which is best?"


def test_live_figures_show_a_few_times_a_second_and_the_last_at_the_end(
    compare: CompareView, qtbot: QtBot
) -> None:
    column = compare.column(21)
    assert column is not None
    for tokens in range(1, 51):
        compare.set_figures(21, f"{tokens} tokens")
    assert column.figures.text() == "1 tokens"  # the first at once, the rest a moment later
    qtbot.waitUntil(lambda: column.figures.text() == "50 tokens")
    compare.set_figures(21, "51 tokens")
    compare.end_streaming(21, "done")
    assert column.figures.text() == "51 tokens"


def test_each_stop_button_stops_its_own_answer(compare: CompareView, qtbot: QtBot) -> None:
    stops = record(compare.stop_requested)
    for message_id in (23, 21):
        column = compare.column(message_id)
        assert column is not None
        qtbot.mouseClick(column.stop_button, Qt.MouseButton.LeftButton)
    assert stops == [(23,), (21,)]
    compare.end_streaming(23, "stopped")
    column = compare.column(23)
    assert column is not None
    assert not column.stop_button.isEnabled()
    assert "Stopped" in column.view.toPlainText()
    second = compare.column(22)
    assert second is not None and second.stop_button.isEnabled()  # the others go on
    assert compare.is_streaming()


def test_continue_with_this_one_names_its_answer(compare: CompareView, qtbot: QtBot) -> None:
    chosen = record(compare.chosen)
    compare.append_text(22, "good answer")
    compare.end_streaming(22, "done")
    column = compare.column(22)
    assert column is not None
    qtbot.mouseClick(column.choose_button, Qt.MouseButton.LeftButton)
    still_streaming = compare.column(21)
    assert still_streaming is not None
    qtbot.mouseClick(still_streaming.choose_button, Qt.MouseButton.LeftButton)
    assert chosen == [(22,), (21,)]


def test_a_failed_column_shows_its_error_beside_its_text(compare: CompareView) -> None:
    compare.append_text(21, "Partial")
    compare.end_streaming(21, "failed", "server", "The provider failed (502).")
    column = compare.column(21)
    assert column is not None
    assert _text(compare, 21) == "Partial"
    assert "The provider failed (502)." in column.view.toPlainText()
    # The column's own buttons act on the answer: no links inside it.
    assert "Retry" not in column.view.toPlainText()


def test_unknown_ids_are_ignored(compare: CompareView) -> None:
    compare.append_text(99, "foreign")
    compare.append_reasoning(99, "foreign")
    compare.set_figures(99, "foreign")
    compare.end_streaming(99, "done")
    compare.set_waiting_note(99, "foreign")
    for message_id in ANSWERS:
        column = compare.column(message_id)
        assert column is not None
        assert "foreign" not in column.view.toPlainText()


def test_start_again_replaces_the_columns(compare: CompareView, qtbot: QtBot) -> None:
    compare.append_text(21, "old")
    compare.start([(31, "a"), (32, "b")])
    assert compare.message_ids() == [31, 32]
    assert compare.column(21) is None
    assert not compare.prompt_label.isVisible()
    stops = record(compare.stop_requested)
    column = compare.column(32)
    assert column is not None
    qtbot.mouseClick(column.stop_button, Qt.MouseButton.LeftButton)
    assert stops == [(32,)]
    with pytest.raises(ValueError):
        compare.start([(1, "a"), (1, "b")])


def test_narrow_window_keeps_columns_readable(qtbot: QtBot) -> None:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(520, 480)
    compare.start([(1, "a"), (2, "b"), (3, "c"), (4, "d")])
    compare.show()
    qtbot.waitExposed(compare)
    widths = []
    for message_id in range(1, 5):
        column = compare.column(message_id)
        assert column is not None
        widths.append(column.width())
    assert min(widths) >= 200  # they scroll sideways instead of being squeezed
    assert compare.width() <= 520


def _wrapped_lines(text: str, font: QFont, width: int) -> list[str]:
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)  # as a word-wrapping QLabel
    layout = QTextLayout(text, font)
    layout.setTextOption(option)
    layout.beginLayout()
    lines = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        lines.append(text[line.textStart() :][: line.textLength()])
    layout.endLayout()
    return lines


def test_figures_wrap_only_between_figures(qtbot: QtBot) -> None:
    line = "openrouter/some model · first token 285 ms · 50 tok/s · ~154 tokens · streaming"
    shown = wrappable_figures(line)
    assert shown.replace("\u00a0", " ").replace("\u2060", "") == line
    assert shown.startswith("openrouter/some model\u00a0· first\u00a0token")  # the name may wrap
    column = CompareColumn(7, "narrow")
    qtbot.addWidget(column)
    column.set_figures(line)
    assert column.figures.text() == shown
    for width in range(120, 400, 7):
        lines = _wrapped_lines(shown, column.figures.font(), width)
        assert not any(wrapped.startswith("·") for wrapped in lines), (width, lines)
        assert not any(wrapped.rstrip("\u2060").endswith("tok/") for wrapped in lines)


def test_an_answer_shown_again_as_it_ended(compare: CompareView, qtbot: QtBot) -> None:
    stored = MessageView(
        22,
        "assistant",
        "Stored **answer**.",
        status="stopped",
        sibling_index=2,
        sibling_count=3,
        figures="model-b · first token 90 ms · 40 tok/s · stopped",
    )
    compare.show_ended(stored)
    column = compare.column(22)
    assert column is not None
    assert column.status == "stopped" and not column.stop_button.isEnabled()
    assert _text(compare, 22) == "Stored answer."
    assert "Stopped" in column.view.toPlainText()
    assert "tok/s" not in column.view.toPlainText()  # the figures are the column's own line
    assert "2/3" not in column.view.toPlainText()  # no ◀ ▶ inside a column
    assert column.figures.isVisible() and "40\u00a0tok/\u2060s" in column.figures.text()
    assert compare.is_streaming()  # the other two still stream
    chosen = record(compare.chosen)
    qtbot.mouseClick(column.choose_button, Qt.MouseButton.LeftButton)
    assert chosen == [(22,)]
    compare.show_ended(MessageView(99, "assistant", "foreign"))  # not a column: ignored
    assert all("foreign" not in _text(compare, m) for m in ANSWERS)


def test_zoom_scales_every_column_and_the_next_comparison(compare: CompareView) -> None:
    column = compare.column(21)
    assert column is not None
    header_size = column.header.font().pointSizeF()
    figures_size = column.figures.font().pointSizeF()
    compare.set_zoom(150)
    assert column.header.font().pointSizeF() == pytest.approx(header_size * 1.5)
    assert column.figures.font().pointSizeF() == pytest.approx(figures_size * 1.5)
    compare.start([(31, "a"), (32, "b")])
    later = compare.column(32)
    assert later is not None and compare.zoom() == 150
    assert later.header.font().pointSizeF() == pytest.approx(header_size * 1.5)
    compare.set_zoom(100)
    assert later.header.font().pointSizeF() == pytest.approx(header_size)


def test_columns_follow_the_theme(compare: CompareView) -> None:
    from deltadesk.ui import theme

    column = compare.column(21)
    assert column is not None
    assert theme.LIGHT.background in compare.styleSheet()
    try:
        theme.use(theme.DARK)
        compare.apply_theme()
        assert theme.DARK.background in compare.styleSheet()
        assert theme.LIGHT.background not in compare.styleSheet()
        base = column.view.palette().color(QPalette.ColorRole.Base)
        assert base == QColor(theme.DARK.background)
        assert column.view.document().defaultStyleSheet() == theme.CHAT_CSS
        compare.start([(41, "made in the dark")])
        later = compare.column(41)
        assert later is not None
        assert later.view.palette().color(QPalette.ColorRole.Base) == QColor(theme.DARK.background)
    finally:
        theme.use(theme.LIGHT)
        compare.apply_theme()
    assert theme.LIGHT.background in compare.styleSheet()
