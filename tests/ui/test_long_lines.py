"""Huge text in the real widgets (offscreen): one page laid out per message, Show more, Open
as text, copies without the view's break points, the composer's wrapping. The time bounds
are generous on purpose: they catch the old freezes (a minute and more), not jitter."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor
from pytestqt.qtbot import QtBot

from deltadesk.core.markdown_safety import ZERO_WIDTH_SPACE
from deltadesk.ui.chat_view import ChatView, MessageView
from deltadesk.ui.composer import LONG_WORD_CHARS, Composer
from deltadesk.ui.long_messages import PAGE_CHARS, PAGE_MARKUP_COST, Paging
from deltadesk.ui.text_viewer import DISPLAY_LINE_CHARS, TextViewer, display_lines

GENEROUS_S = 10.0  # each case took 3–150 s before; now well under a second
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def unbroken(length: int) -> str:
    return (_LETTERS * (length // len(_LETTERS) + 1))[:length]


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    yield widget


def _timed(action: object) -> float:
    started = time.monotonic()
    action()  # type: ignore[operator]
    QGuiApplication.processEvents()
    return time.monotonic() - started


def test_a_stored_megabyte_line_lays_out_one_page(view: ChatView) -> None:
    line = unbroken(1_000_000)
    spent = _timed(lambda: view.show_messages([MessageView(1, "assistant", line)]))
    assert spent < GENEROUS_S
    shown = view.message_plain_text(1)
    assert shown == line[:PAGE_CHARS]  # the text as it is: no break points in it
    assert ZERO_WIDTH_SPACE in view.document().toPlainText()  # but the layout has them
    assert f"Showing {PAGE_CHARS:,} of 1,000,000 characters." in view.toPlainText()


def test_show_more_lays_out_the_next_page_until_all_is_shown(view: ChatView) -> None:
    text = unbroken(PAGE_CHARS * 2 + 10)
    view.show_messages([MessageView(1, "assistant", text)])
    view.anchorClicked.emit(QUrl("show-more:1"))
    assert view.message_plain_text(1) == text[: 2 * PAGE_CHARS]
    view.show_more(1)
    assert view.message_plain_text(1) == text
    assert "Show more" not in view.toPlainText()


def test_open_as_text_shows_all_of_it(view: ChatView, qtbot: QtBot) -> None:
    text = "intro\n\n" + unbroken(300_000)
    view.show_messages([MessageView(1, "assistant", text)])
    viewer = view.open_as_text(1)
    assert isinstance(viewer, TextViewer)
    qtbot.addWidget(viewer)
    assert viewer.isVisible() and viewer.text() == text
    viewer.copy_all()
    assert QGuiApplication.clipboard().text() == text
    viewer.close()


def test_a_five_megabyte_delta_streams_without_laying_it_all_out(view: ChatView) -> None:
    line = unbroken(5_000_000)

    def stream() -> None:
        view.begin_streaming(1)
        view.append_text(1, line)
        view.append_text(1, " and more")
        view.end_streaming(1, "done")

    assert _timed(stream) < GENEROUS_S
    assert view.message_plain_text(1) == line[:PAGE_CHARS]
    assert "of 5,000,009 characters" in view.toPlainText()
    viewer = view.open_as_text(1)
    assert viewer is not None and viewer.text() == line + " and more"
    viewer.close()


def test_show_more_while_streaming_goes_through_the_stream(view: ChatView) -> None:
    view.begin_streaming(1)
    view.append_text(1, "a " * (PAGE_CHARS * 3 // 4))  # 150,000 characters: one page shown
    view.show_more(1)  # room for another page: the rest, and what streams after it
    view.append_text(1, "tail")
    view.end_streaming(1, "done")
    shown = view.message_plain_text(1)
    assert shown.endswith("a tail") and "Showing" not in view.toPlainText()


def test_a_huge_reasoning_lays_out_one_page(view: ChatView) -> None:
    view.begin_streaming(1)
    view.keep_reasoning_open = True
    assert _timed(lambda: view.append_reasoning(1, unbroken(2_000_000))) < GENEROUS_S
    view.append_reasoning(1, "more thinking")
    view.end_streaming(1, "done")
    assert len(view.document().toPlainText()) < PAGE_CHARS * 1.2


def test_a_copied_selection_has_no_break_points(view: ChatView) -> None:
    word = unbroken(5000)
    view.show_messages([MessageView(1, "assistant", f"before {word} after")])
    start, end = view.answer_span(1)
    cursor = view.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    view.copy()
    copied = QGuiApplication.clipboard().text()
    assert copied.strip() == f"before {word} after"
    html = QGuiApplication.clipboard().mimeData().html()
    assert ZERO_WIDTH_SPACE not in html


def test_copy_code_gives_the_code_without_invisible_characters(view: ChatView) -> None:
    code = 'if role == "user\u202e \u2066": # admin\u2069\u200b'
    view.show_messages([MessageView(1, "assistant", f"```python\n{code}\n```")])
    assert "⟨U+202E⟩" in view.message_plain_text(1)  # marked where it is shown
    view.anchorClicked.emit(QUrl("copy:1.0"))
    assert QGuiApplication.clipboard().text() == 'if role == "user ": # admin'


def test_a_wide_table_offers_the_text(view: ChatView) -> None:
    head = "| " + " | ".join(f"c{i}" for i in range(5000)) + " |"
    table = head + "\n|" + "---|" * 5000 + "\n"
    assert _timed(lambda: view.show_messages([MessageView(1, "assistant", table)])) < GENEROUS_S
    assert "Part of a table is not shown." in view.toPlainText()
    assert "Show more" not in view.toPlainText()
    viewer = view.open_as_text(1)
    assert viewer is not None and viewer.text() == table
    viewer.close()


def test_a_huge_user_prompt_lays_out_one_page(view: ChatView) -> None:
    prompt = unbroken(400_000)
    assert _timed(lambda: view.show_messages([MessageView(1, "user", prompt)])) < GENEROUS_S
    assert view.message_plain_text(1) == prompt[:PAGE_CHARS]
    view.show_more(1)
    assert view.message_plain_text(1) == prompt[: 2 * PAGE_CHARS]


# --- the composer ------------------------------------------------------------------------------


@pytest.fixture
def composer(qtbot: QtBot) -> Iterator[Composer]:
    widget = Composer()
    qtbot.addWidget(widget)
    widget.resize(700, 120)
    widget.show()
    yield widget


def test_a_long_one_line_paste_wraps_anywhere(composer: Composer) -> None:
    text = unbroken(200_000)
    QGuiApplication.clipboard().setText(text)
    edit = composer.input_widget()
    edit.setFocus()
    assert _timed(edit.paste) < GENEROUS_S
    assert composer.text() == text  # the prompt is exactly what was pasted
    assert edit.wraps_anywhere()
    composer.clear()
    assert not edit.wraps_anywhere()  # ordinary text wraps at words again


def test_ordinary_text_wraps_at_words(composer: Composer) -> None:
    composer.set_text("word " * 2000)  # a long line, but of ordinary words
    assert not composer.input_widget().wraps_anywhere()
    composer.set_text(unbroken(LONG_WORD_CHARS + 1))
    assert composer.input_widget().wraps_anywhere()


# --- the plain-text viewer -----------------------------------------------------------------


def test_display_lines_cut_long_lines_and_remember_where() -> None:
    text = "short\n" + "x" * (DISPLAY_LINE_CHARS * 2 + 5) + "\nend"
    shown, continuations = display_lines(text)
    assert shown.split("\n")[1:4] == ["x" * DISPLAY_LINE_CHARS] * 2 + ["xxxxx"]
    assert continuations == [2, 3]


def test_a_selection_copied_from_the_viewer_is_the_original_text(qtbot: QtBot) -> None:
    text = "first line\n" + "é😀" * DISPLAY_LINE_CHARS + "\nlast line"
    viewer = TextViewer("title", text)
    qtbot.addWidget(viewer)
    viewer.show()
    viewer.edit.selectAll()
    qtbot.keyClick(viewer.edit, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == text
    cursor = viewer.edit.textCursor()
    cursor.setPosition(3)
    cursor.setPosition(20, QTextCursor.MoveMode.KeepAnchor)
    viewer.edit.setTextCursor(cursor)
    viewer.edit.copy()
    assert QGuiApplication.clipboard().text() == _qt_slice(text, 3, 20)


def _qt_slice(text: str, start: int, end: int) -> str:
    """text between two Qt positions (UTF-16 code units; a display break adds none)."""
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")


@pytest.mark.parametrize("marker", ["> ", "- ", "1. "])
def test_deep_nesting_shows_its_text_in_the_view(view: ChatView, marker: str) -> None:
    text = marker * 30 + "deep text\n\n" + "> " * 10_000 + "deeper still\n\nafter"
    view.show_messages([MessageView(1, "assistant", text)])
    shown = view.message_plain_text(1)
    assert "deep text" in shown and "deeper still" in shown and "after" in shown
    view.begin_streaming(2)
    for start in range(0, len(text), 997):
        view.append_text(2, text[start : start + 997])
    view.end_streaming(2, "done")
    assert view.message_plain_text(2) == shown


@pytest.mark.parametrize("markup", ["&", "[", "\\", "<"])
def test_a_page_also_ends_on_markup(view: ChatView, markup: str) -> None:
    text = markup * 1_000_000  # markdown-it parses each of these on its own: seconds per page
    assert _timed(lambda: view.show_messages([MessageView(1, "assistant", text)])) < GENEROUS_S
    assert 0 < len(view.message_plain_text(1)) <= PAGE_MARKUP_COST
    assert "of 1,000,000 characters." in view.toPlainText()


def test_paging_counts_length_and_markup() -> None:
    paging = Paging()
    assert paging.take("a" * (PAGE_CHARS + 5)) == "a" * PAGE_CHARS
    assert paging.take("more") == ""  # cut: the rest waits for Show more
    assert paging.cut and paging.text() == "a" * (PAGE_CHARS + 5) + "more"
    assert paging.next_page() == "a" * 5 + "more"
    assert not paging.cut
    marked = Paging()
    assert marked.take("&" * PAGE_MARKUP_COST + "&tail") == "&" * PAGE_MARKUP_COST
    assert marked.next_page() == "&tail"


def test_a_streamed_long_answer_is_cut_where_the_stored_one_is(view: ChatView) -> None:
    rng = random.Random(3)
    words = ["plain", "*emph*", "[link](https://example.org)", "&amp;", "`x`", "\n\n", "a" * 90]
    text = " ".join(rng.choice(words) for _ in range(40_000))
    view.show_messages([MessageView(1, "assistant", text)])
    view.begin_streaming(2)
    position = 0
    while position < len(text):
        size = rng.randint(1, 5000)
        view.append_text(2, text[position : position + size])
        position += size
    view.end_streaming(2, "done")
    assert view.message_plain_text(2) == view.message_plain_text(1)
    assert "Showing" in view.toPlainText()


def test_show_more_goes_on_as_code_inside_a_code_block(view: ChatView) -> None:
    code = "\n".join(f"line_{n} = {n}" for n in range(12_000))
    text = f"Here:\n\n```python\n{code}\n```\n\nAfter the code."
    view.show_messages([MessageView(1, "assistant", text)])
    assert "Show more" in view.toPlainText()
    while "Show more" in view.toPlainText():
        view.show_more(1)
    blocks = [view.code_block(1, index) for index in range(4)]
    code_parts = [block for block in blocks if block is not None]
    assert len(code_parts) >= 2  # each page of the block goes on as code
    assert code_parts[-1].endswith("line_11999 = 11999")
    assert "".join(code_parts).replace("\n", "") == code.replace("\n", "")
    assert "After the code." in view.message_plain_text(1)
    assert not any("After the code." in part for part in code_parts)
