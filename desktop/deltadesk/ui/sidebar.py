"""The conversation list on the left: a New chat button, titles with relative times, Delete.

A conversation whose answer is streaming shows a dot and "answering…" in place of its age; one
whose answer finished while another chat was in view shows its title in bold and "new". Both
marks are set one conversation at a time (set_marks), without rebuilding the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui.plain_text import one_line, plain_message_box
from deltadesk.ui.sidebar_items import (
    ID_ROLE,
    STREAMING_ROLE,
    UNSEEN_ROLE,
    UPDATED_ROLE,
    ConversationDelegate,
    describe,
    relative_time,
)

__all__ = ["ConversationItem", "ConversationList", "relative_time"]

UNTITLED = "Untitled"
EMPTY_TEXT = "No conversations yet"
MAX_TITLE_CHARS = 300
_REFRESH_MS = 60_000  # "just now" must turn into "1 min ago" without a reload


@dataclass(frozen=True)
class ConversationItem:
    id: int
    title: str
    updated_at: float  # seconds since the epoch
    streaming: bool = False  # an answer of it is streaming now
    unseen: bool = False  # an answer of it finished while another chat was in view


class _ConversationListView(QListWidget):
    """A list that says so when it is empty, instead of showing a blank panel."""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.count():
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        area = self.viewport().rect().adjusted(8, 16, -8, 0)
        flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        painter.drawText(area, int(flags | Qt.TextFlag.TextWordWrap), EMPTY_TEXT)
        painter.end()


class ConversationList(QWidget):
    """Lists conversations newest first (in the order given) and reports what the user does."""

    new_requested = Signal()
    selected = Signal(int)
    delete_requested = Signal(int)

    def __init__(
        self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        # Replaceable so tests (and embedders) can answer the confirmation without a dialog.
        self.confirm_delete: Callable[[str], bool] = self._ask_before_delete
        self._clock = clock
        self._updating = False  # set while the list is changed by code, not by the user
        self._new_button = QPushButton("&New chat", self)
        self._new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self._filter = QLineEdit(self)
        self._filter.setPlaceholderText("Filter by title (Ctrl+K)")
        self._filter.setClearButtonEnabled(True)
        self._filter.textChanged.connect(self._apply_filter)
        self._list = _ConversationListView(self)
        self._delete_action = QAction("&Delete", self)
        self._setup_list()
        self._build_layout()
        self._new_button.clicked.connect(self.new_requested)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._list.viewport().update)
        self._refresh_timer.start()

    # --- public API -----------------------------------------------------------------------

    def set_conversations(self, items: Sequence[ConversationItem]) -> None:
        """Replace the list; the current conversation stays selected if it is still there."""
        keep = self.current_id()
        self._updating = True
        try:
            self._list.clear()
            for item in items:
                self._list.addItem(self._make_item(item))
        finally:
            self._updating = False
        self._apply_filter(self._filter.text())
        self.select(keep)

    def set_marks(self, conversation_id: int, streaming: bool, unseen: bool) -> None:
        """Marks one conversation as streaming and/or finished unseen; the list stays as it
        is (order, selection, filter). An id not in the list: nothing."""
        row = self._row_of(conversation_id)
        if row is None:
            return
        item = self._list.item(row)
        item.setData(STREAMING_ROLE, streaming)
        item.setData(UNSEEN_ROLE, unseen)
        describe(item)

    def marks(self, conversation_id: int) -> tuple[bool, bool] | None:
        """(streaming, unseen) of a listed conversation."""
        row = self._row_of(conversation_id)
        if row is None:
            return None
        item = self._list.item(row)
        return bool(item.data(STREAMING_ROLE)), bool(item.data(UNSEEN_ROLE))

    def focus_filter(self) -> None:
        self._filter.setFocus()
        self._filter.selectAll()

    def visible_ids(self) -> list[int]:
        """The conversations the filter lets through, in list order."""
        return [
            int(item.data(ID_ROLE))
            for item in map(self._list.item, range(self._list.count()))
            if not item.isHidden()
        ]

    def select(self, conversation_id: int | None) -> None:
        """Highlight a conversation (or none) without emitting `selected`."""
        self._updating = True
        try:
            row = self._row_of(conversation_id)
            if row is None:
                self._list.setCurrentRow(-1)
                self._list.clearSelection()
            else:
                self._list.setCurrentRow(row)
                self._list.scrollToItem(self._list.item(row))
        finally:
            self._updating = False

    def current_id(self) -> int | None:
        item = self._selected_item()
        return None if item is None else int(item.data(ID_ROLE))

    def list_widget(self) -> QListWidget:
        """The list itself, for tab order and keyboard focus in the window."""
        return self._list

    def new_button(self) -> QPushButton:
        return self._new_button

    # --- construction -----------------------------------------------------------------------

    def _setup_list(self) -> None:
        self._list.setAccessibleName("Conversations")
        self._list.setUniformItemSizes(True)
        self._list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._list.setItemDelegate(ConversationDelegate(self._clock, self._list))
        self._list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self._list.customContextMenuRequested.connect(self._show_context_menu)
        self._list.itemSelectionChanged.connect(self._on_selection_changed)
        self._delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self._delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._delete_action.triggered.connect(self._delete_current)
        self._list.addAction(self._delete_action)

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._new_button)
        layout.addWidget(self._filter)
        layout.addWidget(self._list, 1)
        self.setMinimumWidth(180)
        self.setTabOrder(self._new_button, self._filter)
        self.setTabOrder(self._filter, self._list)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for row in range(self._list.count()):
            item = self._list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    @staticmethod
    def _make_item(conversation: ConversationItem) -> QListWidgetItem:
        # Titles are made from prompts (anything piped into `ask -`): one short line of text.
        title = one_line(conversation.title.strip(), MAX_TITLE_CHARS) or UNTITLED
        item = QListWidgetItem(title)
        item.setData(ID_ROLE, conversation.id)
        item.setData(UPDATED_ROLE, conversation.updated_at)
        item.setData(STREAMING_ROLE, conversation.streaming)
        item.setData(UNSEEN_ROLE, conversation.unseen)
        describe(item)
        return item

    # --- behaviour --------------------------------------------------------------------------

    def _row_of(self, conversation_id: int | None) -> int | None:
        if conversation_id is None:
            return None
        for row in range(self._list.count()):
            if self._list.item(row).data(ID_ROLE) == conversation_id:
                return row
        return None

    def _selected_item(self) -> QListWidgetItem | None:
        # Focusing the list makes its first row "current" without selecting it: not a choice.
        item = self._list.currentItem()
        return item if item is not None and item.isSelected() else None

    def _on_selection_changed(self) -> None:
        item = self._selected_item()
        if self._updating or item is None:
            return
        self.selected.emit(int(item.data(ID_ROLE)))

    def _show_context_menu(self, position: QPoint) -> None:
        item = self._list.itemAt(position)
        if item is None:
            return
        menu = QMenu(self)
        delete = menu.addAction(self._delete_action.icon(), self._delete_action.text())
        delete.setShortcut(self._delete_action.shortcut())
        chosen = menu.exec(self._list.viewport().mapToGlobal(position))
        if chosen is delete:
            self._confirm_and_request_delete(item)

    def _delete_current(self) -> None:
        item = self._selected_item()
        if item is not None:
            self._confirm_and_request_delete(item)

    def _confirm_and_request_delete(self, item: QListWidgetItem) -> None:
        conversation_id = int(item.data(ID_ROLE))
        if self.confirm_delete(item.text()):
            self.delete_requested.emit(conversation_id)

    def _ask_before_delete(self, title: str) -> bool:
        box = self.delete_question(title)
        box.exec()
        clicked = box.clickedButton()
        return clicked is not None and (
            box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole
        )

    def delete_question(self, title: str) -> QMessageBox:
        """The confirmation box, not yet shown; Delete is its destructive button."""
        box = plain_message_box(
            self,
            QMessageBox.Icon.Question,
            "Delete conversation",
            f"Delete “{title}”? This cannot be undone.",
        )
        box.addButton("&Delete", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)  # a stray Enter must not destroy anything
        box.setEscapeButton(cancel)
        return box
