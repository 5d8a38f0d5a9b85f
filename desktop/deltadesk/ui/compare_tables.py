"""Markdown tables in a narrow compare column: no word cut in the middle.

Qt squeezes a table to the width it is given and then breaks a cell's words anywhere
("configura" over "tion"). In a compare column that is most tables. So after each edit the
tables it touched get fixed column widths: each column at least as wide as its longest word
(plus the cell's padding), the room left shared in proportion to what each column would take
on one line; a table whose words do not fit the column at all is wider than the column, and
the column scrolls sideways. A table that fits on one line per cell is left to Qt.

Code cards (one-column tables of the chat view) are left alone: their lines wrap with the
chat's own hanging indent. The text is never changed, only the table's column widths.

A table still streaming is inserted again at every render of the answer's tail, as Qt
squeezes it. So the widths last fitted to a table are kept by its header row, and a table
rendered again with that header gets them in its HTML (`with_widths`): laid out once, at the
widths it had, instead of squeezed until the next fit (it flickered between the two at every
render) and laid out twice. While it streams, its columns stay as they are as long as every
word of the new rows fits them (no jitter, no second layout); once it is final (in the frozen
part of the answer) it is fitted to all its rows.
"""

from __future__ import annotations

import html
import math
import re

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import (
    QFontMetricsF,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextLength,
    QTextTable,
    QTextTableCell,
)
from PySide6.QtWidgets import QTextEdit

FITTED_FOR = QTextFormat.Property.UserProperty.value + 0x7C1  # the width a table was fitted to
MAX_FITTED_CELLS = 2000  # a bigger table (capped by the renderer anyway) is left to Qt
# Edits are fitted together, this long after the first: a table streaming in is re-rendered
# every frame, and fitting it each time would lay it out twice per frame (a 150-row table
# streamed in 142 flushes: 0.38 s without fitting, 0.79 s fitting every flush).
FIT_DELAY_MS = 150
MAX_CARRIED = 64  # headers whose widths are kept (a few tables stream at a time)
# Widths carried in HTML are whole pixels, rounded up (a word that just fits must not wrap):
# this close to the fitted width is the same width.
CARRIED_SLACK_PX = 1.0
# The header row of a markdown table as the renderer writes it, and each of its cells.
_HEADER_ROW = re.compile(r"(<table\b[^>]*>\s*<thead>\s*<tr>)(.*?)(</tr>)", re.DOTALL)
_HEADER_CELL = re.compile(r"<th\b([^>]*)>(.*?)</th>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


class TableFitter(QObject):
    """Keeps the markdown tables of one view's document from cutting words."""

    def __init__(self, view: QTextEdit) -> None:
        super().__init__(view)
        self._document = view.document()
        self._from: int | None = None  # the edited range not fitted yet
        self._to = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.fit)
        self._document.contentsChange.connect(self._changed)
        # Fixed widths last fitted, by header row (its cells' text): see with_widths().
        self._carried: dict[tuple[str, ...], list[float]] = {}
        self._streaming: set[tuple[str, ...]] = set()  # headers of tables still streaming
        view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Another width: every table again. Not another height only (the sideways scroll
        # bar of a wide table coming or going): the tables' room is the same.
        if event.type() == QEvent.Type.Resize and _width_changed(event):
            self._carried.clear()
            self._streaming.clear()
            self._changed(0, 0, self._document.characterCount())
        return False

    def with_widths(self, html_text: str, streaming: bool) -> str:
        """`html_text` (an answer's rendered HTML: its open tail when `streaming`, else
        final) with the widths last fitted to each table whose header row is the same, so it
        is laid out at them at once."""
        if not self._carried or "<thead>" not in html_text:
            return html_text
        return _HEADER_ROW.sub(lambda row: self._widen_header(row, streaming), html_text)

    def _widen_header(self, row: re.Match[str], streaming: bool) -> str:
        cells = _HEADER_CELL.findall(row.group(2))
        header = tuple(_plain(content) for _attributes, content in cells)
        widths = self._carried.get(header)
        if widths is None:
            return row.group(0)
        if streaming:
            self._streaming.add(header)
        else:
            self._streaming.discard(header)
        sized = "".join(
            f'<th{attributes} width="{math.ceil(width)}">{content}</th>'
            for (attributes, content), width in zip(cells, widths, strict=True)
        )
        return row.group(1) + sized + row.group(3)

    def _changed(self, position: int, _removed: int, added: int) -> None:
        start, end = position, position + added
        self._from = start if self._from is None else min(self._from, start)
        self._to = max(self._to, end)
        if not self._timer.isActive():
            self._timer.start(FIT_DELAY_MS)

    def fit(self) -> None:
        """Fits the tables in the range edited since the last time."""
        if self._from is None:
            return
        start, end = self._from, min(self._to, self._document.characterCount() - 1)
        self._from, self._to = None, 0
        for table in _tables_between(self._document, start, end):
            self._fit_table(table)

    def _fit_table(self, table: QTextTable) -> None:
        if table.columns() < 2 or table.rows() * table.columns() > MAX_FITTED_CELLS:
            return
        room = _room_for(self._document, table)
        table_format = table.format()
        if table_format.property(FITTED_FOR) == room:
            return  # fitted to this width already: nothing to do (and no edit)
        needs, natural = _column_widths(table)
        border = 2 * table_format.border() + table_format.cellSpacing()
        room_for_cells = room - border * table.columns()
        header = _header(table)
        now = table_format.columnWidthConstraints()
        if header in self._streaming and _still_holds(now, needs, room_for_cells):
            return  # still streaming, and its columns still hold every word: as it is
        if sum(natural) <= room_for_cells:
            constraints = [QTextLength() for _ in natural]  # all on one line: Qt's own way
            self._carried.pop(header, None)
        else:
            widths = _shared(needs, natural, room_for_cells)
            constraints = [QTextLength(QTextLength.Type.FixedLength, w) for w in widths]
            self._carry(header, widths)
        if _same_widths(now, constraints):
            return  # carried in its HTML already: laying it out again would change nothing
        table_format.setColumnWidthConstraints(constraints)
        table_format.setProperty(FITTED_FOR, room)
        table.setFormat(table_format)

    def _carry(self, header: tuple[str, ...], widths: list[float]) -> None:
        self._carried.pop(header, None)
        self._carried[header] = widths  # the newest last: the oldest goes first
        if len(self._carried) > MAX_CARRIED:
            oldest = next(iter(self._carried))
            del self._carried[oldest]
            self._streaming.discard(oldest)  # no widths to keep it at any more


def _width_changed(event: QEvent) -> bool:
    assert isinstance(event, QResizeEvent)
    return event.oldSize().width() != event.size().width()


def _plain(cell_html: str) -> str:
    """A header cell's text as Qt shows it (tags gone, entities read, spaces collapsed)."""
    return " ".join(html.unescape(_TAG.sub("", cell_html)).split())


def _header(table: QTextTable) -> tuple[str, ...]:
    """The text of the table's first row, cell by cell, as _plain() reads it from HTML."""
    texts = []
    for column in range(table.columns()):
        cell = table.cellAt(0, column)
        cursor = cell.firstCursorPosition()
        cursor.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
        texts.append(" ".join(cursor.selectedText().split()))
    return tuple(texts)


def _same_widths(now: list[QTextLength], wanted: list[QTextLength]) -> bool:
    now = now or [QTextLength() for _ in wanted]  # none set: every column Qt's own
    if len(now) != len(wanted):
        return False
    return all(
        a.type() == b.type() and abs(a.rawValue() - b.rawValue()) <= CARRIED_SLACK_PX
        for a, b in zip(now, wanted, strict=True)
    )


def _still_holds(now: list[QTextLength], needs: list[float], room: float) -> bool:
    """Whether fixed widths `now` give every column its longest word, within `room`."""
    fixed = QTextLength.Type.FixedLength
    if len(now) != len(needs) or any(width.type() != fixed for width in now):
        return False
    widths = [width.rawValue() for width in now]
    enough = all(need <= width for need, width in zip(needs, widths, strict=True))
    return enough and sum(widths) <= room + CARRIED_SLACK_PX * len(widths)


def _tables_between(document: QTextDocument, start: int, end: int) -> list[QTextTable]:
    found: list[QTextTable] = []
    block = document.findBlock(max(0, start))
    while block.isValid() and block.position() <= end:
        table = QTextCursor(block).currentTable()
        if table is not None and table not in found:
            found.append(table)
            block = document.findBlock(table.lastPosition() + 1)  # past it
            continue
        block = block.next()
    return found


def _room_for(document: QTextDocument, table: QTextTable) -> float:
    """The width the table's frame gives it (whole pixels, so the mark compares equal)."""
    parent: QTextFrame | None = table.parentFrame()
    layout = document.documentLayout()
    width = layout.frameBoundingRect(parent).width() if parent is not None else 0.0
    if width <= 0:
        width = document.textWidth()
    return float(int(width))


def _column_widths(table: QTextTable) -> tuple[list[float], list[float]]:
    """Per column: the longest word and the longest line, each with the cell's padding."""
    needs = [0.0] * table.columns()
    natural = [0.0] * table.columns()
    metrics: dict[str, QFontMetricsF] = {}  # by font: one per format, not per fragment
    for row in range(table.rows()):
        for column in range(table.columns()):
            cell = table.cellAt(row, column)
            if cell.row() != row or cell.column() != column or cell.columnSpan() != 1:
                continue  # a spanning cell is measured where it starts, and not shared
            padding = _padding(cell)
            word, line = _cell_text_widths(cell, metrics)
            needs[column] = max(needs[column], word + padding)
            natural[column] = max(natural[column], line + padding)
    return needs, natural


def _padding(cell: QTextTableCell) -> float:
    cell_format = cell.format().toTableCellFormat()
    return cell_format.leftPadding() + cell_format.rightPadding() + 2.0


def _cell_text_widths(
    cell: QTextTableCell, metrics: dict[str, QFontMetricsF]
) -> tuple[float, float]:
    longest_word = longest_line = 0.0
    end = cell.lastCursorPosition().position()
    block = cell.firstCursorPosition().block()
    while block.isValid() and block.position() <= end:
        line = 0.0
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.isValid():
                font = fragment.charFormat().font()
                measure = metrics.get(font.key())
                if measure is None:
                    measure = metrics[font.key()] = QFontMetricsF(font)
                text = fragment.text()
                line += measure.horizontalAdvance(text)
                longest = max(text.split(), key=len, default="")
                if len(longest) * measure.maxWidth() > longest_word:  # else it cannot win
                    for word in text.split():
                        longest_word = max(longest_word, measure.horizontalAdvance(word))
            fragments += 1
        longest_line = max(longest_line, line)
        block = block.next()
    return longest_word, longest_line


def _shared(needs: list[float], natural: list[float], room: float) -> list[float]:
    """Each column its longest word; what room is left goes to the columns that would use
    it, in proportion to how much more they would take."""
    spare = room - sum(needs)
    wants = [max(0.0, n - w) for n, w in zip(natural, needs, strict=True)]
    if spare <= 0 or sum(wants) <= 0:
        return needs
    return [w + spare * want / sum(wants) for w, want in zip(needs, wants, strict=True)]
