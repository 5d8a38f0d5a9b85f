"""The conversation list on the left: a New chat button, a filter that is also the full-text
search, the conversations grouped by date, rename, pin and delete (with an undo bar).

A conversation whose answer is streaming shows a dot and "answering…" in place of its age; one
whose answer finished while another chat was in view shows its title in bold and "new". Both
marks are set one conversation at a time (set_marks), without rebuilding the list.

The field filters titles; Ctrl+Shift+F (or the "Messages" toggle beside it) makes it search
the text of every message instead (`search_requested`, debounced; the hits come back by
`set_search_results`). Esc goes back to the title filter; Down or Enter moves into the list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui.plain_text import one_line
from deltadesk.ui.search_results import NO_MATCHES, HitLike, SearchResults
from deltadesk.ui.sidebar_groups import GroupedListView, grouped, header_item, hide_empty_headers
from deltadesk.ui.sidebar_items import (
    HEADER_ROLE,
    ID_ROLE,
    PINNED_ROLE,
    STREAMING_ROLE,
    UNSEEN_ROLE,
    UPDATED_ROLE,
    ConversationDelegate,
    ConversationItem,
    describe,
    relative_time,
)
from deltadesk.ui.sidebar_rows import RowEdits, row_of
from deltadesk.ui.sidebar_search import FULL_TEXT_SHORTCUT, SEARCH_DELAY_MS, SearchField
from deltadesk.ui.undo_bar import UNDO_MS, UndoBar

__all__ = ["SEARCH_DELAY_MS", "ConversationItem", "ConversationList", "relative_time"]

UNTITLED = "Untitled"
EMPTY_TEXT = "No conversations yet"
MAX_TITLE_CHARS = 300
_REFRESH_MS = 60_000  # "just now" must turn into "1 min ago" without a reload
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ConversationList(QWidget):
    """Lists conversations by date group (pinned first) and reports what the user does."""

    new_requested = Signal()
    selected = Signal(int)
    delete_requested = Signal(int)  # for real: the undo time is over
    deletion_pending = Signal(int)  # hidden at once, the undo bar offers it back
    deletion_undone = Signal(int)
    rename_requested = Signal(int, str)
    pin_requested = Signal(int, bool)
    search_requested = Signal(str)
    hit_activated = Signal(int, int)  # conversation id, message id (-1: a title hit)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
        undo_ms: int = UNDO_MS,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._updating = False  # set while the list is changed by code, not by the user
        self._items: list[ConversationItem] = []
        self._shape: list[tuple[str, list[int]]] = []  # the groups' labels and ids shown
        self._grouped_on = datetime.fromtimestamp(clock()).date()
        self._new_button = QPushButton("&New chat", self)
        self._new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self._search = SearchField(self)
        self._filter = self._search.edit
        self._search.filter_changed.connect(lambda _text: self._apply_filter())
        self._search.query_ready.connect(self._on_query)
        self._search.mode_changed.connect(self._on_mode_changed)
        self._search.into_list.connect(self._enter_list)
        self._list = GroupedListView(self._empty_text)
        self._results = SearchResults(self, clock=clock)
        self._results.hit_activated.connect(self.hit_activated)
        self._results.dismissed.connect(self.show_title_filter)
        self._results.left_at_top.connect(self._filter.setFocus)
        self._pages = QStackedWidget(self)
        self._pages.addWidget(self._list)
        self._pages.addWidget(self._results)
        self._undo_bar = UndoBar(self, timeout_ms=undo_ms)
        self._rows = RowEdits(self._list, self._undo_bar, self, self)
        rows = self._rows
        rows.rename_requested.connect(self.rename_requested)
        rows.pin_requested.connect(self.pin_requested)
        rows.delete_requested.connect(self.delete_requested)
        rows.deletion_pending.connect(self.deletion_pending)
        rows.deletion_undone.connect(self.deletion_undone)
        self._delegate = ConversationDelegate(clock, self._list)
        self._delegate.renamed.connect(self._rows.renamed)
        full_text = QAction("Search all messages", self)
        full_text.setShortcut(QKeySequence(FULL_TEXT_SHORTCUT))
        # Window-wide: it works whichever widget of the window has the focus.
        full_text.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        full_text.triggered.connect(self.start_full_text_search)
        self.addAction(full_text)
        self._setup_list()
        self._build_layout()
        self._new_button.clicked.connect(self.new_requested)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(_REFRESH_MS)
        self._refresh_timer.timeout.connect(self._on_minute)
        self._refresh_timer.start()

    # --- public API -----------------------------------------------------------------------

    def set_conversations(self, items: Sequence[ConversationItem]) -> None:
        """Replace the list; the current conversation stays selected if it is still there.

        Called after every answer: when the groups and the order stay as they are (the chat
        answered was at the top already), only the rows that changed are written again
        (a rebuild of 10,000 rows took ~0.2 s of the GUI thread)."""
        keep = self.current_id()
        today = datetime.fromtimestamp(self._clock()).date()
        groups = grouped(items, self._clock())
        shape = [(label, [item.id for item in members]) for label, members in groups]
        self._updating = True
        try:
            if shape == self._shape:  # the same headers and rows, in the same places
                self._update_rows(items)
            else:
                self._list.clear()
                for label, members in groups:
                    self._list.addItem(header_item(label))
                    for item in members:
                        self._list.addItem(self._make_item(item))
        finally:
            self._updating = False
        self._items, self._shape, self._grouped_on = list(items), shape, today
        self._apply_filter()
        self.select(keep)

    def _update_rows(self, items: Sequence[ConversationItem]) -> None:
        """The rows in place, each whose conversation changed written again."""
        was = {item.id: item for item in self._items}
        now = {item.id: item for item in items}
        for row in range(self._list.count()):
            row_item = self._list.item(row)
            conversation_id = row_item.data(ID_ROLE)
            if conversation_id is None:  # a group's header
                continue
            conversation = now[int(conversation_id)]
            if conversation != was.get(conversation.id):
                self._fill_item(row_item, conversation)

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
        self._items = [  # kept for a regrouping at midnight
            replace(kept, streaming=streaming, unseen=unseen)
            if kept.id == conversation_id
            else kept
            for kept in self._items
        ]

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

    def start_full_text_search(self) -> None:
        """Ctrl+Shift+F: the field searches every message; the cursor goes there."""
        self._search.set_full_text(True)
        self.focus_filter()

    def show_title_filter(self) -> None:
        """Back from full text to the title filter (Esc), the field emptied."""
        self._search.set_full_text(False)
        self._filter.setFocus()

    def is_full_text(self) -> bool:
        return self._search.is_full_text()

    def set_search_results(self, hits: Sequence[HitLike]) -> None:
        """The hits of the last `search_requested`, best first."""
        if self._search.is_full_text() and self._search.text():
            pending = self._undo_bar.pending()  # deleted, waiting for its undo: not found
            self._results.set_hits([hit for hit in hits if hit.conversation_id != pending])

    def search_results(self) -> SearchResults:
        return self._results

    def undo_bar(self) -> UndoBar:
        return self._undo_bar

    def commit_pending_delete(self) -> None:
        """A deletion still offered for undo happens now (the app quits)."""
        self._undo_bar.commit()

    def visible_ids(self) -> list[int]:
        """The conversations the filter lets through, in list order."""
        return [int(self._list.item(row).data(ID_ROLE)) for row in self._list.conversation_rows()]

    def group_names(self) -> list[str]:
        """The group headers shown, in order."""
        return [
            self._list.item(row).text()
            for row in range(self._list.count())
            if self._list.item(row).data(HEADER_ROLE) and not self._list.item(row).isHidden()
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

    def filter_field(self) -> QLineEdit:
        return self._filter

    def new_button(self) -> QPushButton:
        return self._new_button

    def rename(self, conversation_id: int) -> None:
        """Opens the title of a listed conversation for editing in place."""
        row = self._row_of(conversation_id)
        if row is not None:
            self._rows.rename(self._list.item(row))

    def refilter(self) -> None:
        """The filter (and the deletion waiting for undo) applied again."""
        self._apply_filter()

    # --- construction -----------------------------------------------------------------------

    def _setup_list(self) -> None:
        self._list.setAccessibleName("Conversations")
        self._list.setUniformItemSizes(True)
        self._list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self._list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._list.setItemDelegate(self._delegate)
        self._list.setEditTriggers(QListWidget.EditTrigger.NoEditTriggers)  # F2, double-click
        self._list.itemSelectionChanged.connect(self._on_selection_changed)
        self._list.installEventFilter(self)

    def _build_layout(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._new_button)
        layout.addWidget(self._search)
        layout.addWidget(self._pages, 1)
        layout.addWidget(self._undo_bar)
        self.setMinimumWidth(180)
        self.setTabOrder(self._new_button, self._filter)
        self.setTabOrder(self._filter, self._search.toggle)
        self.setTabOrder(self._search.toggle, self._list)
        self.setTabOrder(self._list, self._results)

    @staticmethod
    def _make_item(conversation: ConversationItem) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        ConversationList._fill_item(item, conversation)
        return item

    @staticmethod
    def _fill_item(item: QListWidgetItem, conversation: ConversationItem) -> None:
        # Titles are made from prompts (anything piped into `ask -`): one short line of text.
        item.setText(one_line(conversation.title.strip(), MAX_TITLE_CHARS) or UNTITLED)
        item.setData(ID_ROLE, conversation.id)
        item.setData(UPDATED_ROLE, conversation.updated_at)
        item.setData(STREAMING_ROLE, conversation.streaming)
        item.setData(UNSEEN_ROLE, conversation.unseen)
        item.setData(PINNED_ROLE, conversation.pinned)
        describe(item)

    # --- title filter and full text ------------------------------------------------------------

    def _apply_filter(self) -> None:
        needle = self._search.title_filter().casefold()
        pending = self._undo_bar.pending()
        for row in range(self._list.count()):
            item = self._list.item(row)
            if item.data(HEADER_ROLE):
                continue
            hidden = bool(needle) and needle not in item.text().casefold()
            item.setHidden(hidden or item.data(ID_ROLE) == pending)
        hide_empty_headers(self._list)
        self._list.viewport().update()

    def _empty_text(self) -> str:
        if any(item.id != self._undo_bar.pending() for item in self._items):
            return NO_MATCHES
        return EMPTY_TEXT

    def _on_mode_changed(self, full_text: bool) -> None:
        self._results.clear_hits()
        self._pages.setCurrentWidget(self._results if full_text else self._list)
        self._apply_filter()

    def _on_query(self, query: str) -> None:
        if query:
            self.search_requested.emit(query)
        else:
            self._results.clear_hits()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._list and isinstance(event, QKeyEvent):
            return self._list_key(event)
        return super().eventFilter(watched, event)

    def _list_key(self, event: QKeyEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return False
        if self._list.state() == QListWidget.State.EditingState:
            return False
        if event.key() == Qt.Key.Key_Up and self._on_first_row():
            self._filter.setFocus()  # back up into the field, as Down came down from it
            return True
        if event.key() not in _ENTER_KEYS:
            return False
        item = self._list.currentItem()
        if item is not None and not item.data(HEADER_ROLE):
            if item.isSelected():
                self.selected.emit(int(item.data(ID_ROLE)))  # open it again: shown, focused
            else:
                item.setSelected(True)  # says `selected`
        return True

    def _on_first_row(self) -> bool:
        first = self._list.first_conversation_row()
        return first is not None and self._list.currentRow() == first

    def _enter_list(self) -> None:
        """Down or Enter in the field: into the list, on its first row (which opens it)."""
        if self._search.is_full_text():
            self._search.query_now()  # what was typed is what the list shows
            self._results.select_first()
            return
        self._list.setFocus()
        first = self._list.first_conversation_row()
        if first is not None:
            self._list.setCurrentRow(first)

    # --- behaviour --------------------------------------------------------------------------

    def _on_minute(self) -> None:
        if datetime.fromtimestamp(self._clock()).date() != self._grouped_on:
            self.set_conversations(self._items)  # past midnight: "Today" became "Yesterday"
        self._list.viewport().update()
        self._results.viewport().update()

    def _row_of(self, conversation_id: int | None) -> int | None:
        return row_of(self._list, conversation_id)

    def _selected_item(self) -> QListWidgetItem | None:
        # Focusing the list makes its first row "current" without selecting it: not a choice.
        item = self._list.currentItem()
        return item if item is not None and item.isSelected() else None

    def _on_selection_changed(self) -> None:
        item = self._selected_item()
        if self._updating or item is None:
            return
        self.selected.emit(int(item.data(ID_ROLE)))
