"""Conversations grouped by date: Pinned, Today, Yesterday, Last 7 days, Last 30 days, then one
group per month ("March 2024"). The groups are header rows of the list, which the keyboard
skips and nobody can select; the list also says so when nothing is in it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from deltadesk.ui.sidebar_items import HEADER_ROLE, ConversationItem, is_header

PINNED = "Pinned"
TODAY = "Today"
YESTERDAY = "Yesterday"
LAST_7_DAYS = "Last 7 days"
LAST_30_DAYS = "Last 30 days"
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def group_label(updated_at: float, now: float, pinned: bool = False) -> str:
    """The group a conversation is listed in, by its last activity in local time."""
    if pinned:
        return PINNED
    then = datetime.fromtimestamp(updated_at)
    days = (datetime.fromtimestamp(now).date() - then.date()).days
    if days <= 0:  # a clock a little ahead of ours is today too
        return TODAY
    if days == 1:
        return YESTERDAY
    if days <= 7:
        return LAST_7_DAYS
    if days <= 30:
        return LAST_30_DAYS
    return f"{_MONTH_NAMES[then.month - 1]} {then.year}"


def grouped(
    items: Sequence[ConversationItem], now: float
) -> list[tuple[str, list[ConversationItem]]]:
    """The groups in the order shown (pinned first, then newest first), each with its
    conversations in the order given; a conversation is in exactly one group."""
    pinned = [item for item in items if item.pinned]
    rest = sorted(
        (item for item in items if not item.pinned), key=lambda item: -item.updated_at
    )  # sorted() is stable: equal times keep the order given
    groups: list[tuple[str, list[ConversationItem]]] = []
    if pinned:
        groups.append((PINNED, pinned))
    for item in rest:
        label = group_label(item.updated_at, now)
        if not groups or groups[-1][0] != label:
            groups.append((label, []))
        groups[-1][1].append(item)
    return groups


def header_item(label: str) -> QListWidgetItem:
    """A group's header row: shown, never selected, never current."""
    item = QListWidgetItem(label)
    item.setData(HEADER_ROLE, True)
    item.setFlags(Qt.ItemFlag.NoItemFlags)
    item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{label}:")
    return item


def hide_empty_headers(view: QListWidget) -> None:
    """A header whose conversations are all hidden (by the filter) is hidden too."""
    header: QListWidgetItem | None = None
    shown_under = False
    for row in range(view.count()):
        item = view.item(row)
        if item.data(HEADER_ROLE):
            if header is not None:
                header.setHidden(not shown_under)
            header, shown_under = item, False
        elif not item.isHidden():
            shown_under = True
    if header is not None:
        header.setHidden(not shown_under)


_BACKWARDS = {
    QAbstractItemView.CursorAction.MoveUp,
    QAbstractItemView.CursorAction.MoveLeft,
    QAbstractItemView.CursorAction.MovePrevious,
    QAbstractItemView.CursorAction.MovePageUp,
    QAbstractItemView.CursorAction.MoveEnd,  # lands on the last row: look back from there
}


class GroupedListView(QListWidget):
    """A list with header rows the cursor keys step over, which says something (no
    conversations yet, no matches) instead of showing a blank panel."""

    def __init__(self, empty_text: Callable[[], str]) -> None:
        super().__init__()
        self._empty_text = empty_text

    def conversation_rows(self) -> list[int]:
        """The rows that are conversations and shown."""
        return [
            row
            for row in range(self.count())
            if not self.item(row).isHidden() and not self.item(row).data(HEADER_ROLE)
        ]

    def first_conversation_row(self) -> int | None:
        return self._next_conversation_row(0, 1)

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        index = super().moveCursor(cursorAction, modifiers)
        if not index.isValid() or not is_header(index):
            return index
        step = -1 if cursorAction in _BACKWARDS else 1
        row = self._next_conversation_row(index.row(), step)
        if row is None:
            row = self._next_conversation_row(index.row(), -step)
        if row is None:
            return self.currentIndex()
        return self.model().index(row, 0)

    def _next_conversation_row(self, start: int, step: int) -> int | None:
        row = start
        while 0 <= row < self.count():
            item = self.item(row)
            if not item.isHidden() and not item.data(HEADER_ROLE):
                return row
            row += step
        return None

    def paintEvent(self, e: QPaintEvent) -> None:
        super().paintEvent(e)
        if self.conversation_rows():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(8, 16, -8, 0)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        painter.drawText(area, int(flags | Qt.TextFlag.TextWordWrap), self._empty_text())
        painter.end()
