"""The chat view's page: a reading width on wide windows, the wheel over its margins, and
Ctrl+wheel handed to the window's zoom (QTextEdit would zoom its own font, behind the back of
the view's zoom; see document_zoom.py)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QWidget

from deltadesk.ui.following_browser import FollowingBrowser
from deltadesk.ui.reading_width import ReadingWidth


class ReadingBrowser(FollowingBrowser):
    zoom_requested = Signal(int)  # Ctrl+wheel: +1 (in) or -1 (out); the window zooms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reading_width = ReadingWidth(self)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.reading_width.fit()
        super().resizeEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            self.wheelEvent(event)  # over the margins beside the reading width: scroll too
            return True
        return super().event(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoom_requested.emit(1 if delta > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)
