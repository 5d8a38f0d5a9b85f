"""How one conversation of the sidebar looks: title, age or mark, tooltip, spoken text; and
the header rows that group them by date ("Pinned", "Today", ...)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontMetrics, QHelpEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLineEdit,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QWidget,
)

from deltadesk.ui.plain_text import one_line, plain_tooltip

ID_ROLE = Qt.ItemDataRole.UserRole
UPDATED_ROLE = Qt.ItemDataRole.UserRole + 1
STREAMING_ROLE = Qt.ItemDataRole.UserRole + 2
UNSEEN_ROLE = Qt.ItemDataRole.UserRole + 3
HEADER_ROLE = Qt.ItemDataRole.UserRole + 4  # True on a group's header row (no conversation)
PINNED_ROLE = Qt.ItemDataRole.UserRole + 5
STREAMING_DOT = "●"
STREAMING_TEXT = "answering…"
UNSEEN_TEXT = "new"
MAX_RENAME_CHARS = 200  # a title typed by hand; one made from a prompt may be longer
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ConversationItem:
    id: int
    title: str
    updated_at: float  # seconds since the epoch
    streaming: bool = False  # an answer of it is streaming now
    unseen: bool = False  # an answer of it finished while another chat was in view
    pinned: bool = False  # listed under "Pinned", above the dates


def clean_title(text: str) -> str | None:
    """A typed title as it is kept: one line, spaces squeezed, trimmed, bounded; None if
    nothing is left (an empty title is refused, the old one stays)."""
    squeezed = " ".join(one_line(text, MAX_RENAME_CHARS * 4).split())
    return squeezed[:MAX_RENAME_CHARS].strip() or None


def is_header(index: QModelIndex | QPersistentModelIndex) -> bool:
    return bool(index.data(HEADER_ROLE))


def relative_time(timestamp: float, now: float) -> str:
    """A short, human age: "just now", "5 min ago", "3 h ago", "yesterday", "12 Mar"."""
    age = now - timestamp
    if age < 60:  # a clock a little ahead of ours is "just now" too
        return "just now"
    if age < 3600:
        return f"{int(age // 60)} min ago"
    then_day = datetime.fromtimestamp(timestamp).date()
    today = datetime.fromtimestamp(now).date()
    days = (today - then_day).days
    if days == 0:
        return f"{int(age // 3600)} h ago"
    if days == 1:
        return "yesterday"
    return _short_date(then_day, today)


def _short_date(day: date, today: date) -> str:
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


class ConversationDelegate(QStyledItemDelegate):
    """Paints the title on the left (elided) and its age on the right in a quieter colour;
    edits a title in place (F2, double-click) and says what was typed by `renamed`, never
    writing it into the list itself (the history is told, then the list is reloaded)."""

    renamed = Signal(int, str)  # conversation id, the cleaned new title

    def __init__(self, clock: Callable[[], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clock = clock

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        editor = QLineEdit(parent)
        editor.setMaxLength(MAX_RENAME_CHARS)
        editor.setAccessibleName("Conversation title")
        editor.setFrame(False)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(str(index.data() or "")[:MAX_RENAME_CHARS])
            editor.selectAll()

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if not isinstance(editor, QLineEdit) or index.data(ID_ROLE) is None:
            return
        title = clean_title(editor.text())
        if title is not None and title != index.data():
            self.renamed.emit(int(index.data(ID_ROLE)), title)

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid() and not is_header(index):
            QToolTip.showText(event.globalPos(), tooltip_of(index), view)
            return True
        return super().helpEvent(event, view, option, index)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), option.fontMetrics.height() + 14))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        if is_header(index):
            self._paint_header(painter, option, str(index.data()))
            return
        item_option = QStyleOptionViewItem(option)
        self.initStyleOption(item_option, index)
        title = item_option.text
        item_option.text = ""  # the style paints background, selection and focus; we paint text
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item_option, painter, widget)
        text_rect = style.subElementRect(
            QStyle.SubElement.SE_ItemViewItemText, item_option, widget
        ).adjusted(4, 0, -6, 0)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        streaming, unseen = bool(index.data(STREAMING_ROLE)), bool(index.data(UNSEEN_ROLE))
        age = relative_time(float(index.data(UPDATED_ROLE)), self._clock())
        if streaming or unseen:
            age = STREAMING_TEXT if streaming else UNSEEN_TEXT
        painter.save()
        age_width = self._paint_age(painter, option, text_rect, age, selected, streaming or unseen)
        title_rect = text_rect.adjusted(0, 0, -age_width - 10, 0)
        if streaming:
            title_rect.setLeft(title_rect.left() + self._paint_dot(painter, option, title_rect))
        self._paint_title(painter, option, title_rect, title, selected, unseen)
        painter.restore()

    @staticmethod
    def _paint_header(painter: QPainter, option: QStyleOptionViewItem, label: str) -> None:
        """A group's name, small and quiet, near the bottom of its row (it belongs below)."""
        painter.save()
        font = QFont(option.font)
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        area = option.rect.adjusted(8, 0, -6, -3)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
        elided = QFontMetrics(font).elidedText(label, Qt.TextElideMode.ElideRight, area.width())
        painter.drawText(area, int(flags), elided)
        painter.restore()

    @staticmethod
    def _paint_dot(painter: QPainter, option: QStyleOptionViewItem, area: QRect) -> int:
        """The streaming dot before the title, in the link colour; returns the width taken."""
        painter.setFont(option.font)
        painter.setPen(option.palette.color(QPalette.ColorRole.Link))
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(area, int(flags), STREAMING_DOT)
        return option.fontMetrics.horizontalAdvance(STREAMING_DOT + " ")

    @staticmethod
    def _paint_title(
        painter: QPainter,
        option: QStyleOptionViewItem,
        area: QRect,
        title: str,
        selected: bool,
        bold: bool,
    ) -> None:
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        font = QFont(option.font)
        font.setBold(bold)
        painter.setFont(font)
        painter.setPen(option.palette.color(role))
        elided = QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideRight, area.width())
        painter.drawText(
            area, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided
        )

    @staticmethod
    def _paint_age(
        painter: QPainter,
        option: QStyleOptionViewItem,
        area: QRect,
        age: str,
        selected: bool,
        marked: bool,
    ) -> int:
        """Draws the age (or the mark) right-aligned in a smaller font; returns its width."""
        role = QPalette.ColorRole.PlaceholderText
        if marked:
            role = QPalette.ColorRole.Link
        if selected:
            role = QPalette.ColorRole.HighlightedText
        font = QFont(option.font)
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        font.setBold(marked)
        painter.setFont(font)
        painter.setPen(option.palette.color(role))
        flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(area, int(flags), age)
        return QFontMetrics(font).horizontalAdvance(age)


def _marks(index: QModelIndex | QPersistentModelIndex | QListWidgetItem) -> list[str]:
    marks = []
    if index.data(STREAMING_ROLE):
        marks.append("an answer is streaming")
    if index.data(UNSEEN_ROLE):
        marks.append("a new answer you have not seen")
    return marks


def describe(item: QListWidgetItem) -> None:
    """The text a screen reader says: the title and its marks. (The tooltip is made when
    it is shown, by `tooltip_of`: made for every row, it was most of a 10,000-row reload.)"""
    item.setData(Qt.ItemDataRole.AccessibleTextRole, ", ".join([item.text(), *_marks(item)]))


def tooltip_of(index: QModelIndex | QPersistentModelIndex | QListWidgetItem) -> str:
    """The title, when it was last updated, and its marks, as tooltip markup."""
    stamp = datetime.fromtimestamp(float(index.data(UPDATED_ROLE))).strftime("%Y-%m-%d %H:%M")
    title = str(index.data(Qt.ItemDataRole.DisplayRole))
    return plain_tooltip("\n".join([title, f"Last updated {stamp}", *_marks(index)]))
