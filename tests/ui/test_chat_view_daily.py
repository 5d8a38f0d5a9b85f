"""The chat view's daily conveniences with real widgets (offscreen): actions dim while the
chat streams, Copy answer, the time on hover, zoom, the reading width, wrapped code lines
that keep their indentation, and a search hit revealed (also in messages not laid out yet)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import (
    QFontMetricsF,
    QGuiApplication,
    QHelpEvent,
    QTextBlock,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import ChatView, MessageView
from deltadesk.ui.long_messages import PAGE_CHARS
from deltadesk.ui.reading_width import READING_CHARS
from tests.ui.signals import record
from tests.ui.test_branching import _anchors, _click, _link_point


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _conversation() -> list[MessageView]:
    return [
        MessageView(1, "user", "Question", created_at=datetime(2024, 3, 9, 8, 5, 7).timestamp()),
        MessageView(2, "assistant", "An **answer**.", status="stopped"),
        MessageView(3, "user", "Again"),
        MessageView(4, "assistant", "Failed half", status="failed", error_message="Boom."),
    ]


# --- busy: the actions that start an answer -----------------------------------------------------


def _dimmed(view: ChatView) -> list[str]:
    """The texts drawn dim over the document (the refused links)."""
    return sorted(selection.cursor.selectedText() for selection in view.extraSelections())


BUSY_LINKS = {"edit:1", "edit:3", "regenerate:2", "continue:2", "retry:4"}


def test_busy_dims_the_links_that_start_an_answer_and_refuses_them(
    view: ChatView, qtbot: QtBot
) -> None:
    view.show_messages(_conversation())
    idle_text, idle_anchors = view.toPlainText(), set(_anchors(view.document()))
    assert idle_anchors >= BUSY_LINKS
    asked = [
        record(view.regenerate_requested),
        record(view.continue_requested),
        record(view.retry_requested),
    ]
    view.set_busy(True)
    assert _dimmed(view) == ["Continue", "Edit", "Edit", "Regenerate", "Retry"]
    for href in BUSY_LINKS:
        _click(qtbot, view, href)
    assert asked == [[], [], []] and not view.editor.isVisible()  # refused
    assert "Not while" in _tooltip_over(view, qtbot, _link_point(view, "regenerate:2"))
    _click(qtbot, view, "copy-answer:2")  # copying starts nothing: still offered
    assert QGuiApplication.clipboard().text() == "An **answer**."
    # The document itself is not edited (laid out again) for it: the same text and links.
    assert view.toPlainText() == idle_text and set(_anchors(view.document())) == idle_anchors
    view.set_busy(False)
    assert _dimmed(view) == []
    _click(qtbot, view, "regenerate:2")
    _click(qtbot, view, "edit:1")
    assert asked[0] == [(2,)] and view.editor.isVisible()


def test_messages_added_while_busy_are_dimmed_too(view: ChatView, qtbot: QtBot) -> None:
    messages = [
        MessageView(i, "user" if i % 2 else "assistant", f"Message {i} " + "x " * 1500)
        for i in range(1, 60)
    ]
    view.set_busy(True)  # the conversation opened streams already
    view.show_messages(messages)
    qtbot.waitUntil(lambda: view.pending_message_count == 0)  # older ones rendered late
    view.add_message(MessageView(60, "assistant", "Done one", status="done"))
    view.begin_streaming(61)
    view.append_text(61, "Streaming")
    qtbot.waitUntil(lambda: len(_dimmed(view)) == 60)  # 30 Edit, 30 Regenerate
    assert len([t for t in _dimmed(view) if t == "Edit"]) == 30
    view.end_streaming(61, "done")  # its figures line comes with Regenerate: dim as well
    qtbot.waitUntil(lambda: len(_dimmed(view)) == 61)
    view.set_busy(False)
    assert _dimmed(view) == []


def test_busy_costs_no_layout_of_the_conversation(view: ChatView, qtbot: QtBot) -> None:
    messages = [
        MessageView(i, "user" if i % 2 else "assistant", f"Message {i} " + "text " * 100)
        for i in range(1, 401)
    ]
    view.show_messages(messages)
    qtbot.waitUntil(lambda: view.pending_message_count == 0)
    changes = record(view.document().contentsChange)
    view.set_busy(True)
    view.set_busy(False)
    assert changes == []  # nothing edited: nothing to lay out again


# --- copy answer ------------------------------------------------------------------------------


def test_copy_answer_puts_the_markdown_on_the_clipboard(view: ChatView, qtbot: QtBot) -> None:
    source = "# Title\n\nSome **bold** and `code`.\n\n```python\nprint(1)\n```\n"
    view.show_messages([MessageView(1, "user", "Q"), MessageView(2, "assistant", source)])
    QGuiApplication.clipboard().setText("")
    _click(qtbot, view, "copy-answer:2")
    assert QGuiApplication.clipboard().text() == source  # the stored text, not the rendering


def test_copy_answer_gives_the_whole_of_a_long_answer(view: ChatView, qtbot: QtBot) -> None:
    source = "word " * (PAGE_CHARS // 4)
    view.show_messages([MessageView(2, "assistant", source)])
    assert "Show more" in view.toPlainText()
    view.copy_answer(2)
    assert QGuiApplication.clipboard().text() == source


def test_a_streamed_answer_offers_copy_once_it_ended(view: ChatView) -> None:
    view.begin_streaming(7)
    view.append_text(7, "Part one, ")
    assert "copy-answer:7" not in _anchors(view.document())
    view.append_text(7, "part two.")
    view.end_streaming(7, "done")
    assert "copy-answer:7" in _anchors(view.document())
    view.copy_answer(7)
    assert QGuiApplication.clipboard().text() == "Part one, part two."


# --- the time a message was written, on hover -------------------------------------------------


def _tooltip_over(view: ChatView, qtbot: QtBot, point: QPoint) -> str:
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible())
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.viewport().mapToGlobal(point))
    QGuiApplication.sendEvent(view.viewport(), event)
    return QToolTip.text() if QToolTip.isVisible() else ""


def _header_point(view: ChatView, message_id: int) -> QPoint:
    cursor = QTextCursor(view.document())
    cursor.setPosition(view._chat.entries[message_id].frame.firstPosition() + 1)
    return view.cursorRect(cursor).center()


def test_hovering_a_header_shows_the_local_date_and_time(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation())
    text = _tooltip_over(view, qtbot, _header_point(view, 1))
    assert "2024" in text and "08:05:07" in text and "March" in text
    assert _tooltip_over(view, qtbot, _header_point(view, 2)) == ""  # time not known
    cursor = QTextCursor(view.document())
    cursor.setPosition(view.answer_span(1)[0] + 2)  # the prompt's text: no tooltip
    assert _tooltip_over(view, qtbot, view.cursorRect(cursor).center()) == ""


# --- zoom --------------------------------------------------------------------------------------


def _line_height(view: ChatView, message_id: int) -> float:
    block = view.document().findBlock(view.answer_span(message_id)[0])
    view.document().documentLayout().blockBoundingRect(block)  # laid out
    assert block.layout().lineCount() > 0
    return block.layout().lineAt(0).height()


def _sizes(view: ChatView) -> list[float]:
    sizes = []
    block = view.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            font = iterator.fragment().charFormat().font().resolve(view.document().defaultFont())
            sizes.append(font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize())
            iterator += 1
        block = block.next()
    return sizes


def test_zoom_scales_every_size_and_back_without_drift(view: ChatView) -> None:
    messages = [
        *_conversation(),
        MessageView(5, "assistant", "# Heading\n\nText", reasoning="hm", figures="m · done"),
    ]
    view.show_messages(messages)
    before_sizes, body = _sizes(view), _line_height(view, 5)
    view.set_zoom(150)
    assert view.zoom_percent == 150
    assert _line_height(view, 5) > body * 1.3
    zoomed = _sizes(view)
    assert all(z > b for z, b in zip(zoomed, before_sizes, strict=True) if b > 2)
    for percent in (50, 175, 90, 100):
        view.set_zoom(percent)
    assert _sizes(view) == pytest.approx(before_sizes, abs=0.01)
    assert _line_height(view, 5) == pytest.approx(body, abs=0.5)


def test_text_streamed_after_a_zoom_comes_at_the_zoomed_size(view: ChatView) -> None:
    reference = ChatView()
    reference.resize(700, 500)
    reference.show()
    reference.show_messages([MessageView(1, "assistant", "Hello there")])
    normal = _line_height(reference, 1)
    view.set_zoom(200)
    view.begin_streaming(1)
    view.append_text(1, "Hello ")
    view.append_text(1, "there")
    view.set_message_figures(1, "m · 3 tokens")
    assert _line_height(view, 1) > normal * 1.6
    view.end_streaming(1, "done")
    assert _line_height(view, 1) > normal * 1.6
    reference.deleteLater()


# --- reading width -------------------------------------------------------------------------------


def _longest_line_chars(view: ChatView, message_id: int) -> int:
    block = view.document().findBlock(view.answer_span(message_id)[0])
    layout = block.layout()
    return max(layout.lineAt(i).textLength() for i in range(layout.lineCount()))


def test_a_wide_window_keeps_lines_to_a_reading_width(view: ChatView, qtbot: QtBot) -> None:
    text = " ".join(["reading"] * 200)
    view.show_messages([MessageView(1, "assistant", text)])
    view.resize(1800, 600)
    qtbot.waitUntil(lambda: view.viewport().width() < 1500)
    assert READING_CHARS * 0.8 <= _longest_line_chars(view, 1) <= READING_CHARS * 1.15
    # Centred: as much room on either side, the scroll bar still at the edge.
    left = view.viewport().geometry().left()
    right = view.width() - view.viewport().geometry().right()
    assert abs(left - (right - view.verticalScrollBar().width())) <= 4
    bar = view.verticalScrollBar()
    assert bar.mapTo(view, QPoint(bar.width(), 0)).x() >= view.width() - 2
    view.resize(500, 600)  # a narrow window: the whole width
    qtbot.waitUntil(lambda: view.viewport().geometry().left() == 0)
    assert _longest_line_chars(view, 1) < READING_CHARS * 0.8


def test_the_reading_width_follows_the_zoom(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages([MessageView(1, "assistant", " ".join(["reading"] * 200))])
    view.resize(1800, 600)
    qtbot.waitUntil(lambda: view.viewport().width() < 1500)
    narrow = view.viewport().width()
    view.set_zoom(130)
    assert view.viewport().width() > narrow * 1.2
    assert _longest_line_chars(view, 1) <= READING_CHARS * 1.15


def test_the_wheel_scrolls_over_the_margins(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages([MessageView(i, "assistant", "words " * 300) for i in range(1, 8)])
    view.resize(1800, 500)
    qtbot.waitUntil(lambda: view.viewport().geometry().left() > 50)
    bar = view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    before = bar.value()
    point = QPointF(10, 100)  # in the left margin, outside the viewport
    wheel = QWheelEvent(
        point,
        view.mapToGlobal(point),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QGuiApplication.sendEvent(view, wheel)
    assert bar.value() > before


# --- code lines keep their indentation when they wrap ------------------------------------------


def _space(view: ChatView, block: QTextBlock) -> float:
    font = block.begin().fragment().charFormat().font().resolve(view.document().defaultFont())
    return QFontMetricsF(font).horizontalAdvance(" ")


def _code_block(view: ChatView, startswith: str) -> QTextBlock:
    block = view.document().begin()
    while block.isValid():
        if block.text().startswith(startswith):
            return block
        block = block.next()
    raise AssertionError(f"no block starting with {startswith!r}")


def test_a_wrapped_code_line_continues_at_its_indentation(view: ChatView, qtbot: QtBot) -> None:
    long_call = "result = compute(" + ", ".join(f"argument_{n}" for n in range(30)) + ")"
    code = f"def f():\n    if ready:\n        {long_call}\n    return result\n"
    view.resize(420, 600)
    view.show_messages([MessageView(1, "assistant", f"```python\n{code}```\n")])
    qtbot.waitUntil(lambda: _code_block(view, "        result").layout().lineCount() > 2)
    block = _code_block(view, "        result")
    layout = block.layout()

    def line_x(of: QTextBlock, number: int) -> float:
        """Where a line of the block starts in the document (the layout's own origin is
        moved by the block's margins)."""
        return of.layout().position().x() + of.layout().lineAt(number).x()

    # The first line starts where an unindented line does, its text after 8 spaces.
    assert line_x(block, 0) == pytest.approx(line_x(_code_block(view, "def f"), 0), abs=0.5)
    x8 = layout.lineAt(0).cursorToX(8)
    indentation_x = layout.position().x() + (x8[0] if isinstance(x8, tuple) else x8)
    assert indentation_x > line_x(block, 0) + 7 * _space(view, block)
    for n in range(1, layout.lineCount()):
        assert line_x(block, n) >= indentation_x - 0.5  # never back to the left edge
    # The text is the code exactly: copying it gives the spaces back.
    assert view.code_block(1, 0) == code.rstrip("\n")
    assert block.text() == f"        {long_call}"


def test_streamed_code_gets_the_same_hanging_indent(view: ChatView, qtbot: QtBot) -> None:
    code = "    " + "x = [" + ", ".join(str(n) for n in range(80)) + "]"
    view.resize(420, 600)
    view.begin_streaming(1)
    view.append_text(1, "```python\ndef g():\n")
    view.append_text(1, code + "\n")
    qtbot.waitUntil(lambda: "x = [" in view.toPlainText())  # a slow render defers the next
    assert _code_block(view, "    x = [").blockFormat().leftMargin() > 0
    view.append_text(1, "```\n")
    view.end_streaming(1, "done")
    streamed = _code_block(view, "    x = [").blockFormat()
    other = ChatView()
    other.resize(420, 600)
    other.show_messages([MessageView(1, "assistant", f"```python\ndef g():\n{code}\n```\n")])
    stored = _code_block(other, "    x = [").blockFormat()
    assert (streamed.leftMargin(), streamed.textIndent()) == (
        stored.leftMargin(),
        stored.textIndent(),
    )
    assert streamed.leftMargin() == -streamed.textIndent() > 0
    other.deleteLater()


# --- a search hit revealed --------------------------------------------------------------------


def _highlighted(view: ChatView) -> list[str]:
    return [selection.cursor.selectedText() for selection in view.extraSelections()]


def _visible(view: ChatView, cursor: QTextCursor) -> bool:
    rect = view.cursorRect(cursor)
    return rect.top() >= 0 and rect.bottom() <= view.viewport().height()


def test_reveal_scrolls_to_the_hit_and_highlights_the_words(view: ChatView) -> None:
    messages = [
        MessageView(i, "user" if i % 2 else "assistant", f"Filler message {i}. " * 40)
        for i in range(1, 30)
    ]
    messages[4] = MessageView(5, "assistant", "The Quokka lives on Rottnest; quokkas smile.")
    view.show_messages(messages)
    assert view.reveal_message(5, "quokka smile")
    assert sorted(_highlighted(view)) == ["Quokka", "quokkas", "smile"]
    assert _visible(view, view.extraSelections()[0].cursor)
    assert not view.following
    view.show_messages(messages)  # the next show: the highlight is gone
    assert view.extraSelections() == []


def test_reveal_renders_an_older_message_still_waiting(view: ChatView) -> None:
    messages = [
        MessageView(i, "user" if i % 2 else "assistant", f"Old message {i} " + "x " * 1500)
        for i in range(1, 120)
    ]
    messages[2] = MessageView(3, "assistant", "Far back there is a capybara.")
    view.show_messages(messages)
    assert 3 in view.message_ids()[: view.pending_message_count]  # not laid out yet
    assert view.reveal_message(3, "capybara")
    assert _highlighted(view) == ["capybara"]
    assert _visible(view, view.extraSelections()[0].cursor)


def test_reveal_lays_out_the_page_that_holds_the_hit(view: ChatView) -> None:
    text = "plain words " * (PAGE_CHARS // 6) + "the axolotl is here " + "more " * 100
    view.show_messages([MessageView(1, "user", "Q"), MessageView(2, "assistant", text)])
    assert "axolotl" not in view.toPlainText()  # past the first page
    assert view.reveal_message(2, "axolotl")
    assert _highlighted(view) == ["axolotl"]
    assert _visible(view, view.extraSelections()[0].cursor)


def test_reveal_of_a_message_not_shown_is_false(view: ChatView) -> None:
    view.show_messages(_conversation())
    assert not view.reveal_message(99, "anything")
    assert view.extraSelections() == []


def test_reveal_takes_any_query_text(view: ChatView) -> None:
    view.show_messages([MessageView(1, "assistant", "C++ (and) regex: a.b*c [x]")])
    for query in ['"', "*", "a.b*", "(and)", "[x", "NEAR(", "", "  ", "\\", "ü"]:
        assert view.reveal_message(1, query)
    assert view.reveal_message(1, "regex")
    assert _highlighted(view) == ["regex"]
    edits = record(view.edit_submitted)
    assert edits == []


def _wheel(view: ChatView, modifiers: Qt.KeyboardModifier, delta: int) -> None:
    point = QPointF(view.viewport().width() / 2, 50)
    wheel = QWheelEvent(
        point,
        view.viewport().mapToGlobal(point),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QGuiApplication.sendEvent(view.viewport(), wheel)


def test_ctrl_wheel_asks_the_window_to_zoom_and_leaves_the_fonts(view: ChatView) -> None:
    view.show_messages([MessageView(1, "assistant", "Some text " * 50)])
    font = view.document().defaultFont().pointSizeF()
    asked = record(view.zoom_requested)
    _wheel(view, Qt.KeyboardModifier.ControlModifier, 120)
    _wheel(view, Qt.KeyboardModifier.ControlModifier, -120)
    assert asked == [(1,), (-1,)]
    assert view.document().defaultFont().pointSizeF() == font  # QTextEdit's own zoom: not here


def test_a_theme_switch_keeps_the_zoom(view: ChatView) -> None:
    view.set_zoom(200)
    view.apply_theme()
    view.show_messages([MessageView(1, "assistant", "# Big heading\n\nText")])
    reference = ChatView()
    reference.resize(700, 500)
    reference.show()
    reference.show_messages([MessageView(1, "assistant", "# Big heading\n\nText")])
    assert _line_height(view, 1) > _line_height(reference, 1) * 1.6  # the heading's px size too
    reference.deleteLater()


def test_a_zoom_keeps_the_message_read_at_the_top(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages([MessageView(i, "assistant", f"Message {i} " * 200) for i in range(1, 30)])
    qtbot.waitUntil(lambda: view.pending_message_count == 0)
    view.place_message(12, 0.0)
    view.set_zoom(160)
    top = view.message_top(12)
    assert top is not None and abs(top) <= 1
    view.set_zoom(80)
    top = view.message_top(12)
    assert top is not None and abs(top) <= 1
    view.scroll_to_bottom()
    view.set_zoom(120)  # at the bottom: it stays at the bottom
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum()


def test_thought_times_read_as_times() -> None:
    from deltadesk.ui.reasoning_parts import thought_time

    assert [thought_time(ms) for ms in (20, 240, 3240, 9_960, 27_400, 60_000, 65_000)] == [
        "under 0.1 s",
        "0.2 s",
        "3.2 s",
        "10 s",
        "27 s",
        "1 min",
        "1 min 5 s",
    ]


def test_a_deep_line_in_a_narrow_column_keeps_room_for_its_text(
    view: ChatView, qtbot: QtBot
) -> None:
    """Seen in a compare column: 24 spaces of indentation plus the hang left ~8 characters
    per continuation line. The hang takes at most a share of the width."""
    deep = " " * 24 + "client.close_the_stream(" + ", ".join(f"arg{n}" for n in range(12)) + ")"
    view.resize(300, 600)
    view.show_messages([MessageView(1, "assistant", f"```python\n{deep}\n```\n")])
    qtbot.waitUntil(lambda: _code_block(view, " " * 24).layout().lineCount() > 1)
    block = _code_block(view, " " * 24)
    text_width = view.document().textWidth()
    assert 0 < block.blockFormat().leftMargin() <= 0.2 * text_width + 0.5
    assert block.blockFormat().textIndent() == -block.blockFormat().leftMargin()
    layout = block.layout()
    # A continuation line holds 12 or more characters (6 to 9 with the hang uncapped).
    assert all(layout.lineAt(n).textLength() >= 12 for n in range(1, layout.lineCount() - 1))
