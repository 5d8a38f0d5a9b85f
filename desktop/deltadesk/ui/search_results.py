"""The sidebar's full-text results: per hit the conversation's title, where the hit is and
when, and a snippet with the words found highlighted.

A snippet is text from the history (model output, pasted files): it is painted as plain text
with QTextLayout, the highlights as format ranges, so nothing in it is ever read as markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QTextCharFormat,
    QTextLayout,
    QTextLine,
)
from PySide6.QtWidgets import (
    QApplication,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from deltadesk.ui.plain_text import one_line, plain_tooltip
from deltadesk.ui.sidebar_items import relative_time

__all__ = ["NO_MATCHES", "HitLike", "SearchResults", "safe_snippet"]

NO_MATCHES = "No matches"
TYPE_TO_SEARCH = "Type to search every message"
MAX_SNIPPET_CHARS = 400  # the store gives ~200; more is cut, never laid out
MAX_TITLE_CHARS = 300
# The chat view's colours for the words found (search_reveal.py): the same hit looks the same
# in the list and in the conversation, dark text on yellow in either theme.
HIT_BACKGROUND = "#ffd84d"
HIT_TEXT = "#1f2328"
_LEAD_CHARS = 40  # a hit further into the snippet is brought this close to its start

CONVERSATION_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
SNIPPET_ROLE = Qt.ItemDataRole.UserRole + 2
HIGHLIGHTS_ROLE = Qt.ItemDataRole.UserRole + 3
WHEN_ROLE = Qt.ItemDataRole.UserRole + 4
PLACE_ROLE = Qt.ItemDataRole.UserRole + 5

_ROLE_NAMES = {"user": "you", "assistant": "answer", "system": "system", "tool": "tool"}
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


class HitLike(Protocol):
    """What a result needs of the store's SearchHit (core/search_hits.py)."""

    @property
    def conversation_id(self) -> int: ...
    @property
    def message_id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def snippet(self) -> str: ...
    @property
    def highlights(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def role(self) -> str | None: ...
    @property
    def updated_at(self) -> float: ...


def _safe_char(char: str) -> str:
    if char in "\n\r\t\v\f\x85\u2028\u2029":
        return " "
    if ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 or char in _BIDI_CONTROLS:
        return "\ufffd" if ord(char) != 0x7F else " "
    if 0xD800 <= ord(char) <= 0xDFFF:  # a lone surrogate cannot be drawn (or encoded)
        return "\ufffd"
    return char


def safe_snippet(
    snippet: str, highlights: Sequence[tuple[int, int]]
) -> tuple[str, list[tuple[int, int]]]:
    """The snippet as one drawable line of the same length (control characters become
    spaces or U+FFFD one for one, so the highlight offsets still point at the words),
    started near its first hit ("…" before it), bounded; the highlights checked and moved
    along with the text (an offset outside it, or reversed, is dropped)."""
    text = "".join(map(_safe_char, snippet[:MAX_SNIPPET_CHARS]))
    spans = sorted(
        (int(start), min(int(end), len(text)))
        for start, end in highlights
        if 0 <= int(start) < min(int(end), len(text))
    )
    if spans and spans[0][0] > _LEAD_CHARS:
        target = spans[0][0] - _LEAD_CHARS // 2
        space = text.rfind(" ", target - _LEAD_CHARS // 2, target)
        cut = space + 1 if space >= 0 else target
        text = "…" + text[cut:]
        spans = [(start - cut + 1, end - cut + 1) for start, end in spans if start >= cut]
    return text, spans


class _ResultDelegate(QStyledItemDelegate):
    """Line 1: the title, and "you · 3 h ago" on the right; lines 2-3: the snippet."""

    def __init__(self, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(100, option.fontMetrics.height() * 3 + 16)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        item_option = QStyleOptionViewItem(option)
        self.initStyleOption(item_option, index)
        item_option.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item_option, painter, widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        quiet_role = (
            QPalette.ColorRole.HighlightedText if selected else (QPalette.ColorRole.PlaceholderText)
        )
        area = option.rect.adjusted(8, 5, -8, -5)
        line_height = option.fontMetrics.height()
        painter.save()
        # The place and age, right-aligned and smaller.
        small = QFont(option.font)
        small.setPointSizeF(max(small.pointSizeF() * 0.85, 7.0))
        when = relative_time(float(index.data(WHEN_ROLE)), self._clock())
        place = str(index.data(PLACE_ROLE))
        side = f"{place} · {when}"
        painter.setFont(small)
        painter.setPen(option.palette.color(quiet_role))
        top = area.adjusted(0, 0, 0, -(area.height() - line_height))
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(top, right, side)
        side_width = QFontMetrics(small).horizontalAdvance(side) + 10
        # The title, bold, elided.
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(option.palette.color(text_role))
        title_rect = top.adjusted(0, 0, -side_width, 0)
        title = QFontMetrics(bold).elidedText(
            str(index.data()), Qt.TextElideMode.ElideRight, max(title_rect.width(), 0)
        )
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        painter.drawText(title_rect, left, title)
        # The snippet, two lines at most, its hits bold on the highlight colour.
        painter.setPen(option.palette.color(text_role))
        self._paint_snippet(
            painter,
            option,
            index,
            area.left(),
            area.top() + line_height + 2,
            area.width(),
            selected,
        )
        painter.restore()

    @staticmethod
    def _paint_snippet(
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
        x: int,
        y: int,
        width: int,
        selected: bool,
    ) -> None:
        text = str(index.data(SNIPPET_ROLE))
        spans: list[tuple[int, int]] = list(index.data(HIGHLIGHTS_ROLE) or [])
        layout = _two_lines(text, option.font, width)
        if layout is None:
            return
        hit = QTextCharFormat()
        hit.setFontWeight(QFont.Weight.Bold)
        if selected:  # on the selection colour, a background would not show
            hit.setFontUnderline(True)
        else:
            hit.setBackground(QColor(HIT_BACKGROUND))  # readable in light and dark themes
            hit.setForeground(QColor(HIT_TEXT))
        ranges = []
        for start, end in spans:
            span = QTextLayout.FormatRange()
            span.start, span.length, span.format = start, end - start, hit
            ranges.append(span)
        layout.draw(painter, QPointF(x, y), ranges)


def _two_lines(text: str, font: QFont, width: int) -> QTextLayout | None:
    """The snippet laid out in at most two lines of `width`, ending in "…" when cut."""
    if width <= 0 or not text:
        return None
    for attempt in range(2):
        layout = QTextLayout(text, font)
        layout.beginLayout()
        lines: list[QTextLine] = []
        for _ in range(2):
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, len(lines) * QFontMetrics(font).lineSpacing()))
            lines.append(line)
        layout.endLayout()
        end = lines[-1].textStart() + lines[-1].textLength() if lines else 0
        if end >= len(text) or attempt == 1:
            return layout
        text = text[: max(end - 2, 0)].rstrip() + "…"
    return None


class SearchResults(QListWidget):
    """The hits of one query, best first; Enter or a click on one says `hit_activated`,
    Esc says `dismissed` (back to the title filter), Up on the first one `left_at_top`."""

    hit_activated = Signal(int, int)  # conversation id, message id (-1: the hit is the title)
    dismissed = Signal()
    left_at_top = Signal()  # Up on the first result: back to the field above

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._searched = False  # results came for a query (else: nothing typed yet)
        self.setAccessibleName("Search results")
        self.setUniformItemSizes(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setItemDelegate(_ResultDelegate(clock, self))
        self.itemClicked.connect(self._activate)
        self.installEventFilter(self)

    def set_hits(self, hits: Sequence[HitLike]) -> None:
        self.clear()
        self._searched = True
        for hit in hits:
            self.addItem(_hit_item(hit))

    def clear_hits(self) -> None:
        """Nothing searched (the field is empty)."""
        self.clear()
        self._searched = False

    def select_first(self) -> None:
        if self.count():
            self.setCurrentRow(0)
        self.setFocus()

    def hits(self) -> list[tuple[int, int]]:
        """(conversation id, message id or -1) of each result, in order."""
        return [
            (int(self.item(row).data(CONVERSATION_ROLE)), int(self.item(row).data(MESSAGE_ROLE)))
            for row in range(self.count())
        ]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Esc is the window's Stop: here it means "back to the title filter" first.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.currentItem()
            if item is not None:
                self._activate(item)
            return
        if e.key() == Qt.Key.Key_Escape:
            self.dismissed.emit()
            return
        if e.key() == Qt.Key.Key_Up and self.currentRow() <= 0:
            self.left_at_top.emit()
            return
        super().keyPressEvent(e)

    def _activate(self, item: QListWidgetItem) -> None:
        self.hit_activated.emit(int(item.data(CONVERSATION_ROLE)), int(item.data(MESSAGE_ROLE)))

    def paintEvent(self, e: QPaintEvent) -> None:
        super().paintEvent(e)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(8, 16, -8, 0)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        said = NO_MATCHES if self._searched else TYPE_TO_SEARCH
        painter.drawText(area, int(flags | Qt.TextFlag.TextWordWrap), said)
        painter.end()

    def empty_text(self) -> str | None:
        """What the empty list says, or None when it has results."""
        if self.count():
            return None
        return NO_MATCHES if self._searched else TYPE_TO_SEARCH


def _hit_item(hit: HitLike) -> QListWidgetItem:
    title = one_line(hit.title.strip(), MAX_TITLE_CHARS) or "Untitled"
    snippet, spans = safe_snippet(hit.snippet, hit.highlights)
    place = "title" if hit.message_id is None else _ROLE_NAMES.get(hit.role or "", "message")
    item = QListWidgetItem(title)
    item.setData(CONVERSATION_ROLE, int(hit.conversation_id))
    item.setData(MESSAGE_ROLE, -1 if hit.message_id is None else int(hit.message_id))
    item.setData(SNIPPET_ROLE, snippet)
    item.setData(HIGHLIGHTS_ROLE, spans)
    item.setData(WHEN_ROLE, float(hit.updated_at))
    item.setData(PLACE_ROLE, place)
    item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{title}, {place}: {snippet}")
    item.setToolTip(plain_tooltip(f"{title}\n{snippet}"))
    return item
