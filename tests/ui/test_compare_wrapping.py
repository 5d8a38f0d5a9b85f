"""Narrow compare columns (real widgets, offscreen): no code line runs out of sight, prose
and table cells wrap between words (a table wider than the column scrolls sideways), and a
wide window needs no sideways scroll. Checked on the laid-out
lines of the column's own document (QTextLayout), streamed and stored alike."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QTextBlock, QTextCursor, QTextDocument, QTextLength, QTextTable
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import MessageView
from deltadesk.ui.compare_view import CompareColumn, CompareView

CODE = [
    "def handler(request_identifier, configuration_dictionary, retry_count=3):",
    "    response = client.chat.completions.create(model='llama3.2', messages=messages)",
    "    return response",
]
TABLE = [
    "| Name | Description of the column | Value |",
    "| --- | --- | --- |",
    "| streaming | incrementally delivered responses | configuration |",
    "| websocket | bidirectional communication | acknowledgement |",
]
PARAGRAPH = "A plain paragraph of ordinary words wraps inside the column as any text does. " * 3
ANSWER = "\n".join(["Intro.", "", "```python", *CODE, "```", "", *TABLE, "", PARAGRAPH, ""])


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _blocks(document: QTextDocument) -> Iterator[QTextBlock]:
    block = document.begin()
    while block.isValid():
        yield block
        block = block.next()


def _cut_words(document: QTextDocument) -> list[tuple[str, str, bool]]:
    """Every line break that falls between two letters of one word: (before, after, in a
    table or code card)."""
    cuts = []
    for block in _blocks(document):
        layout, text = block.layout(), block.text()
        in_table = QTextCursor(block).currentTable() is not None
        for index in range(layout.lineCount() - 1):
            line = layout.lineAt(index)
            end = line.textStart() + line.textLength()
            if 0 < end < len(text) and _word_char(text[end - 1]) and _word_char(text[end]):
                cuts.append((text[max(0, end - 10) : end], text[end : end + 10], in_table))
    return cuts


def _paragraph_block(document: QTextDocument) -> QTextBlock:
    return next(b for b in _blocks(document) if b.text().startswith("A plain paragraph"))


@pytest.fixture
def narrow(qtbot: QtBot) -> Iterator[CompareView]:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(520, 520)  # two columns at about their minimum width
    compare.start([(1, "streamed"), (2, "stored")])
    compare.show()
    qtbot.waitExposed(compare)
    yield compare


def _column(compare: CompareView, message_id: int) -> CompareColumn:
    column = compare.column(message_id)
    assert column is not None
    return column


def _overflowing_lines(document: QTextDocument) -> list[str]:
    """Laid-out lines wider than the block they are in: text drawn past a code card's or a
    cell's edge, out of sight (nothing scrolls to it)."""
    layout = document.documentLayout()
    over = []
    for block in _blocks(document):
        table = QTextCursor(block).currentTable()
        edge = (
            layout.frameBoundingRect(table).right()
            if table is not None
            else document.textWidth() - document.documentMargin()
        )
        left = layout.blockBoundingRect(block).left()
        lines = block.layout()
        for index in range(lines.lineCount()):
            line = lines.lineAt(index)
            text = block.text()[line.textStart() :][: line.textLength()]
            if text.strip() and left + line.x() + line.naturalTextWidth() > edge + 1:
                over.append(text)
    return over


def test_no_code_line_runs_out_of_sight_in_a_narrow_column(
    narrow: CompareView, qtbot: QtBot
) -> None:
    for start in range(0, len(ANSWER), 7):  # streamed, in small pieces
        narrow.append_text(1, ANSWER[start : start + 7])
    narrow.end_streaming(1, "done")
    narrow.show_ended(MessageView(2, "assistant", ANSWER))  # and shown from the history
    for message_id in (1, 2):
        column = _column(narrow, message_id)
        view, document = column.view, column.view.document()
        qtbot.waitUntil(lambda view=view: "acknowledgement" in view.toPlainText())
        assert view.viewport().width() < 260  # narrow indeed: the code does not fit
        assert _overflowing_lines(document) == []
        assert column.width() < 300  # the column did not grow for it
        # Ordinary text wraps between words, to the column's width.
        block = _paragraph_block(document)
        layout = block.layout()
        assert layout.lineCount() > 3
        widths = [layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount())]
        assert max(widths) <= view.viewport().width()
        assert not [cut for cut in _cut_words(document) if not cut[2]]  # prose: no cut word
        # Table cells cut no word either: the table is as wide as its words need, wider
        # than the column here, which then scrolls sideways.
        qtbot.waitUntil(lambda document=document: not _table_cuts(document))
        assert view.horizontalScrollBar().maximum() > 0
        assert _overflowing_lines(document) == []


def _table_cuts(document: QTextDocument) -> list[tuple[str, str, bool]]:
    """Cut words in the markdown table (not in a code card: those wrap with their indent)."""
    return [cut for cut in _cut_words(document) if cut[2] and not _in_code(document, cut)]


def _in_code(document: QTextDocument, cut: tuple[str, str, bool]) -> bool:
    return any(cut[0] in line or cut[1] in line for line in CODE)


def test_a_table_that_fits_is_left_as_qt_lays_it_out(qtbot: QtBot) -> None:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(900, 500)
    compare.start([(1, "one")])
    compare.show_ended(
        MessageView(1, "assistant", "\n".join(["| a | b |", "| - | - |", "| x | y |"]))
    )
    compare.show()
    qtbot.waitExposed(compare)
    column = _column(compare, 1)
    column.tables.fit()
    table = next(
        QTextCursor(block).currentTable()
        for block in _blocks(column.view.document())
        if QTextCursor(block).currentTable() is not None
    )
    constraints = table.format().columnWidthConstraints()
    assert [c.type() for c in constraints] in ([], [QTextLength.Type.VariableLength] * 2)
    assert column.view.horizontalScrollBar().maximum() == 0


def test_a_wide_window_needs_no_sideways_scroll(qtbot: QtBot) -> None:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(1900, 700)
    compare.start([(1, "wide")])
    compare.show_ended(MessageView(1, "assistant", ANSWER))
    compare.show()
    qtbot.waitExposed(compare)
    view = _column(compare, 1).view
    assert view.horizontalScrollBar().maximum() == 0
    assert _cut_words(view.document()) == []


def _md_table(document: QTextDocument) -> QTextTable:
    tables = {
        id(table): table
        for block in _blocks(document)
        if (table := QTextCursor(block).currentTable()) is not None and table.columns() > 1
    }
    (table,) = tables.values()
    return table


def test_tables_are_fitted_again_when_the_column_changes_width(qtbot: QtBot) -> None:
    compare = CompareView()
    qtbot.addWidget(compare)
    compare.resize(520, 500)
    compare.start([(1, "one"), (2, "two")])
    compare.show_ended(MessageView(1, "assistant", "\n".join(TABLE)))
    compare.show()
    qtbot.waitExposed(compare)
    document = _column(compare, 1).view.document()
    fixed = QTextLength.Type.FixedLength
    qtbot.waitUntil(
        lambda: (
            [c.type() for c in _md_table(document).format().columnWidthConstraints()] == [fixed] * 3
        )
    )
    assert not _table_cuts(document)
    compare.resize(1900, 500)  # room for every cell on one line: Qt's own layout again
    qtbot.waitUntil(
        lambda: all(
            c.type() != fixed for c in _md_table(document).format().columnWidthConstraints()
        )
    )
    assert not _cut_words(document)


def _fixed_widths(document: QTextDocument) -> list[float] | None:
    constraints = _md_table(document).format().columnWidthConstraints()
    fixed = QTextLength.Type.FixedLength
    if not constraints or any(c.type() != fixed for c in constraints):
        return None
    return [c.rawValue() for c in constraints]


def test_a_streaming_table_is_laid_out_at_its_fitted_widths_at_every_render(
    narrow: CompareView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open table is inserted again at each render of the tail: it comes back at the
    widths it was fitted to (not squeezed until the next fit, cutting words), and keeps
    them while the new rows' words fit; once final it is fitted to all its rows."""
    column = _column(narrow, 1)
    document = column.view.document()
    narrow.append_text(1, "\n".join(TABLE) + "\n")
    qtbot.waitUntil(lambda: _fixed_widths(document) is not None and not _table_cuts(document))
    fitted = _fixed_widths(document)
    assert fitted is not None
    fits: list[int] = []
    monkeypatch.setattr(column.tables, "fit", lambda: fits.append(1))  # no fit from now on
    narrow.append_text(1, "| grpc | remote procedure calls | protobuf |\n")
    qtbot.waitUntil(lambda: "protobuf" in column.view.toPlainText())
    assert fits == []  # what follows is the render's own doing
    now = _fixed_widths(document)
    assert now is not None
    # As fitted, in whole pixels, never narrower (a word that just fits must not wrap).
    assert all(0 <= carried - was < 1 for carried, was in zip(now, fitted, strict=True))
    assert not _table_cuts(document)
    monkeypatch.undo()
    narrow.append_text(1, "| x | a notwithstanding | y |\n")  # a word wider than its column
    narrow.end_streaming(1, "done")  # final: fitted to all its rows, no cut word
    qtbot.waitUntil(lambda: "notwithstanding" in column.view.toPlainText())
    qtbot.waitUntil(lambda: _fixed_widths(document) is not None and not _table_cuts(document))
