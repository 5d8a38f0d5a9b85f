"""What the chat view opens outside itself for one message: a plain-text window with all of
it ("Open as text"), and the clipboard ("Copy answer", the text as it came: its markdown)."""

from __future__ import annotations

from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QToolTip, QWidget

from deltadesk.ui.text_viewer import TextViewer


class MessageWindows:
    """The open "as text" windows of one view, kept alive while shown."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent
        self.viewers: list[TextViewer] = []

    def open_as_text(self, title: str, text: str) -> TextViewer:
        viewer = TextViewer(title, text, self._parent)
        viewer.finished.connect(lambda _result: self._forget(viewer))
        self.viewers.append(viewer)
        viewer.show()
        return viewer

    def _forget(self, viewer: TextViewer) -> None:
        if viewer in self.viewers:
            self.viewers.remove(viewer)
        viewer.deleteLater()

    def copy(self, text: str) -> None:
        # QClipboard.setText: a QMimeData made in Python is called back by Qt at exit, after
        # Python is gone (docs/engineering-notes.md).
        QGuiApplication.clipboard().setText(text)
        QToolTip.showText(QCursor.pos(), "Copied", self._parent)
