"""What the sidebar does to one conversation: rename in place (F2, double-click), pin to top
(Ctrl+P), delete with an undo bar (Delete; Ctrl+Z in the list undoes), and its context menu.

A deleted conversation is hidden at once and offered back by the undo bar; it is deleted for
real (`delete_requested`) when the bar's time is up, at the next delete, or at quit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

from deltadesk.ui.sidebar_items import HEADER_ROLE, ID_ROLE, PINNED_ROLE, describe
from deltadesk.ui.undo_bar import UndoBar

PIN_SHORTCUT = "Ctrl+P"


class _Host(Protocol):
    def current_id(self) -> int | None: ...
    def select(self, conversation_id: int | None) -> None: ...
    def refilter(self) -> None: ...


def row_of(view: QListWidget, conversation_id: int | None) -> int | None:
    """The row of a listed conversation (never a header's)."""
    if conversation_id is None:
        return None
    for row in range(view.count()):
        item = view.item(row)
        if item.data(ID_ROLE) == conversation_id and not item.data(HEADER_ROLE):
            return row
    return None


class RowEdits(QObject):
    """Rename, pin and delete of the sidebar's rows, by key and by context menu."""

    rename_requested = Signal(int, str)
    pin_requested = Signal(int, bool)
    delete_requested = Signal(int)  # for real: the undo time is over
    deletion_pending = Signal(int)  # hidden at once, the undo bar offers it back
    deletion_undone = Signal(int)

    def __init__(
        self, view: QListWidget, undo_bar: UndoBar, host: _Host, menu_parent: QWidget
    ) -> None:
        super().__init__(view)
        self._view = view
        self._undo_bar = undo_bar
        self._host = host
        self._menu_parent = menu_parent
        self._hidden_current: int | None = None  # the open one, deleted pending undo
        self._shortcuts = {
            "delete": self._action(
                "Delete the selected conversation", QKeySequence.StandardKey.Delete, self._delete
            ),
            "rename": self._action(
                "Rename the selected conversation", QKeySequence("F2"), self.rename
            ),
            "pin": self._action(
                "Pin or unpin the selected conversation",
                QKeySequence(PIN_SHORTCUT),
                self._toggle_pin,
            ),
        }
        undo = QAction("Undo the last delete (in the list)", view)
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        undo.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        undo.triggered.connect(undo_bar.undo)
        view.addAction(undo)
        undo_bar.expired.connect(self._on_undo_expired)
        undo_bar.undone.connect(self._restore)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_context_menu)
        view.itemDoubleClicked.connect(self.rename)

    def _action(
        self,
        text: str,
        key: QKeySequence | QKeySequence.StandardKey,
        slot: Callable[[QListWidgetItem | None], None],
    ) -> QKeySequence:
        """A key of the list (only when it has the focus) acting on the selected row; its
        text is what the F1 list of shortcuts says."""
        made = QAction(text, self._view)
        made.setShortcut(key)
        made.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        made.triggered.connect(lambda: slot(self._selected()))
        self._view.addAction(made)
        return made.shortcut()

    def _selected(self) -> QListWidgetItem | None:
        item = self._view.currentItem()
        return item if item is not None and item.isSelected() else None

    def _show_context_menu(self, position: QPoint) -> None:
        item = self._view.itemAt(position)
        if item is None or item.data(HEADER_ROLE):
            return
        pinned = bool(item.data(PINNED_ROLE))
        menu = QMenu(self._menu_parent)
        choices: dict[QAction, Callable[[QListWidgetItem | None], None]] = {}
        for name, text, slot in (
            ("rename", "&Rename", self.rename),
            ("pin", "Un&pin" if pinned else "&Pin to top", self._toggle_pin),
            ("delete", "&Delete", self._delete),
        ):
            entry = menu.addAction(text)
            entry.setShortcut(self._shortcuts[name])
            choices[entry] = slot
        chosen = menu.exec(self._view.viewport().mapToGlobal(position))
        if chosen is not None and chosen in choices:
            choices[chosen](item)

    def rename(self, item: QListWidgetItem | None) -> None:
        if item is not None and not item.data(HEADER_ROLE):
            self._view.setFocus()
            self._view.editItem(item)

    def renamed(self, conversation_id: int, title: str) -> None:
        """The editor's new title (cleaned): shown at once; the reload after the history
        has it agrees."""
        row = row_of(self._view, conversation_id)
        if row is not None:
            self._view.item(row).setText(title)
            describe(self._view.item(row))
        self.rename_requested.emit(conversation_id, title)

    def _toggle_pin(self, item: QListWidgetItem | None) -> None:
        if item is not None and not item.data(HEADER_ROLE):
            self.pin_requested.emit(int(item.data(ID_ROLE)), not item.data(PINNED_ROLE))

    def _delete(self, item: QListWidgetItem | None) -> None:
        """Hidden at once, deleted when the undo bar's time is up."""
        if item is None or item.data(HEADER_ROLE):
            return
        conversation_id = int(item.data(ID_ROLE))
        was_current = self._host.current_id() == conversation_id
        self._undo_bar.offer(conversation_id, item.text())  # commits an earlier one first
        self._hidden_current = conversation_id if was_current else None
        self._host.refilter()
        if was_current:
            self._host.select(None)
        self.deletion_pending.emit(conversation_id)
        self._view.setFocus()

    def _on_undo_expired(self, conversation_id: int) -> None:
        self.delete_requested.emit(conversation_id)
        self._host.refilter()  # still listed (the history refused): shown again

    def _restore(self, conversation_id: int) -> None:
        self._host.refilter()
        self.deletion_undone.emit(conversation_id)
        row = row_of(self._view, conversation_id)
        if self._hidden_current == conversation_id and row is not None:
            self._view.setCurrentRow(row)  # says `selected`: it is open again
        self._hidden_current = None
        self._view.setFocus()
