"""The settings dialog's left column: the profiles by name, and Add / Duplicate / Remove."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui.plain_text import one_line

NO_NAME = "(no name)"
ACTIVE_TOOLTIP = "The active profile"
MAX_NAME_CHARS = 200  # a list row shows one line; a pasted novel would only slow it down


class ProfileList(QWidget):
    """The list and its buttons; the dialog decides what the buttons do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setAccessibleName("Profiles")
        self.list.setStyleSheet("QListWidget::item { padding: 4px 6px; }")
        self.list.setMinimumWidth(200)
        self.list.setMaximumWidth(260)
        self.add_button = QPushButton("&Add")
        self.add_button.setToolTip("Add a new profile")
        self.duplicate_button = QPushButton("&Duplicate")
        self.duplicate_button.setToolTip("Copy the selected profile (without its key)")
        self.remove_button = QPushButton("Remo&ve")
        self.remove_button.setToolTip("Remove the selected profile and its stored key")
        self._build_layout()

    def _build_layout(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        title = QLabel("&Profiles")
        title.setBuddy(self.list)
        column.addWidget(title)
        column.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        column.addLayout(buttons)

    def add_row(self, name: str, *, active: bool) -> None:
        item = QListWidgetItem()
        self.list.addItem(item)
        self.show_row(self.list.count() - 1, name, active=active)

    def show_row(self, row: int, name: str, *, active: bool) -> None:
        """Item texts are plain text; the name is still clipped to one short line."""
        item = self.list.item(row)
        item.setText(one_line(name.strip(), MAX_NAME_CHARS) or NO_NAME)
        font = QFont(self.list.font())
        font.setBold(active)  # the profile new chats use
        item.setFont(font)
        item.setToolTip(ACTIVE_TOOLTIP if active else "")
