"""Where the conversation's title goes: in the top bar, or on its own line on a narrow window."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

TITLE_ROOM = 160  # pixels the title needs beside the top bar's controls to stay in the bar


class TitlePlace(QObject):
    """Keeps the title in the top bar while the bar leaves it room (TITLE_ROOM pixels beside
    the pickers and buttons), else on its own line above them: on a narrow window it would
    be elided to nothing."""

    def __init__(self, title: QLabel, bar: QHBoxLayout, row: QHBoxLayout, column: QWidget):
        super().__init__(column)
        self.title, self.bar, self.row = title, bar, row
        column.installEventFilter(self)

    def on_own_line(self) -> bool:
        return self.row.indexOf(self.title) >= 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and isinstance(watched, QWidget):
            self.place(watched.width())
        return False

    def place(self, width: int) -> None:
        others = sum(
            item.sizeHint().width()
            for i in range(self.bar.count())
            if (item := self.bar.itemAt(i)) is not None and item.widget() is not self.title
        )
        margins = self.bar.contentsMargins()
        spacing = max(0, self.bar.spacing()) * self.bar.count()
        room = width - others - margins.left() - margins.right() - spacing
        wanted_alone = room < TITLE_ROOM
        if wanted_alone == self.on_own_line():
            return
        if wanted_alone:
            self.bar.removeWidget(self.title)
            self.row.addWidget(self.title, 1)
        else:
            self.row.removeWidget(self.title)
            self.bar.insertWidget(0, self.title, 1)
