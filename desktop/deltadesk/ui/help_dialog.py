"""F1: the keyboard shortcuts, read from the window's actions and shortcuts (its own and its
widgets', so the list is what the keys really do) plus the keys the prompt box handles itself."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Keys the prompt box handles in its own key handling (composer.py), not through an action:
# (keys, what they do). tests/ui/test_help_dialog.py presses each one.
WIDGET_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the prompt"),
    ("Shift+Enter", "New line in the prompt"),
    ("Up", "In an empty prompt: the last prompt sent, to edit and send again"),
    ("Esc", "In the prompt: stop the answer; in the message editor: cancel the edit"),
)  # (Ctrl+Shift+Enter, Compare, is an action too: listed with the actions)


def _keys(sequences: Iterable[QKeySequence]) -> str:
    native = QKeySequence.SequenceFormat.NativeText
    return ", ".join(s.toString(native) for s in sequences if not s.isEmpty())


def action_keys(window: QWidget) -> list[tuple[str, str]]:
    """(keys, name) of every action and shortcut with keys in ``window`` and its widgets,
    keys in the platform's spelling, each once."""
    rows: list[tuple[str, str]] = []
    for action in window.findChildren(QAction):
        keys = _keys(action.shortcuts())
        name = action.text().replace("&", "").rstrip("…").strip()
        if keys and name:
            rows.append((keys, name))
    for shortcut in window.findChildren(QShortcut):
        keys = _keys([shortcut.key()])
        name = shortcut.objectName() or shortcut.whatsThis()
        if keys and name:
            rows.append((keys, name))
    return list(dict.fromkeys(rows))


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    return [*action_keys(window), *WIDGET_KEYS]


class HelpDialog(QDialog):
    def __init__(self, rows: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        for row, (keys, text) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(text))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 420)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def rows(self) -> list[tuple[str, str]]:
        table = self.table
        return [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]
