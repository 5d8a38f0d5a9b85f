"""The Compare button of the window and its list of profiles to compare.

Clicking the button asks for a comparison of the prompt being typed; its arrow opens a
checkable list of the profiles (2 to 4 of them are compared). The list stays open while
profiles are checked, so choosing three is three clicks, not three trips to the menu; a
click on a profile's name ticks it as a click on its box does.
Profile names come from the user's file: list items show them as plain text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from deltadesk.ui.plain_text import one_line

COMPARE_COUNTS = range(2, 5)  # how many profiles a comparison takes
TOOLTIP = "Send the prompt to the checked profiles at once, side by side (Ctrl+Shift+Enter)"


class ComparePicker(QToolButton):
    """Emits `compare_clicked` when pressed; `checked()` names the profiles to compare."""

    compare_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip(TOOLTIP)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._list = QListWidget()
        self._list.setAccessibleName("Profiles to compare")
        self._list.itemChanged.connect(self._update_text)
        self._pressed: tuple[int, Qt.CheckState] | None = None  # (row, its state at the press)
        self._list.itemPressed.connect(self._remember_press)
        self._list.itemClicked.connect(self._toggle_on_name)
        menu = QMenu(self)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(self._list)
        menu.addAction(holder)
        self.setMenu(menu)
        self.clicked.connect(self.compare_clicked)
        self._update_text()

    def list_widget(self) -> QListWidget:
        return self._list

    def set_profiles(self, names: Sequence[str], active: str) -> None:
        """Lists the profiles; those checked before stay checked, else the active one is."""
        before = set(self.checked())
        self._list.blockSignals(True)
        self._list.clear()
        for name in names:
            item = QListWidgetItem(one_line(name, 200))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            keep = name in before if before else name == active
            item.setCheckState(Qt.CheckState.Checked if keep else Qt.CheckState.Unchecked)
            self._list.addItem(item)
        self._list.blockSignals(False)
        rows = max(1, min(len(names), 8))
        self._list.setFixedHeight(rows * self._list.sizeHintForRow(0) + 6 if names else 30)
        self._update_text()

    def checked(self) -> list[str]:
        """The profiles to compare, in list order."""
        items = [self._list.item(row) for row in range(self._list.count())]
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]

    def set_checked(self, names: Sequence[str]) -> None:
        for row in range(self._list.count()):
            item = self._list.item(row)
            wanted = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if wanted else Qt.CheckState.Unchecked)

    def ready(self) -> bool:
        """True when the checked profiles make a comparison (2 to 4 of them)."""
        return len(self.checked()) in COMPARE_COUNTS

    def _remember_press(self, item: QListWidgetItem) -> None:
        self._pressed = (self._list.row(item), item.checkState())

    def _toggle_on_name(self, item: QListWidgetItem) -> None:
        """A click on the name ticks or unticks it: Qt toggles only on the box itself (and
        has done so by the time the click is reported, so a changed state means the box)."""
        pressed, self._pressed = self._pressed, None
        if pressed is None or pressed[0] != self._list.row(item):
            return
        if item.checkState() == pressed[1]:
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)

    def _update_text(self, _item: QListWidgetItem | None = None) -> None:
        count = len(self.checked())
        self.setText(f"Compare ({count})" if count else "Compare")
