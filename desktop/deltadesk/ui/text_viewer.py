"""A read-only window showing a whole message as plain text, however long its lines are.

The chat view lays out only the first part of a huge answer. This viewer shows all of it:
QPlainTextEdit lays out only the blocks on screen, so a long line is shown as several blocks
of DISPLAY_LINE_CHARS (measured: 5 MB in 2,000-character blocks opens in under 0.1 s; as one
line it takes seconds). Those display breaks are not in the text: a copy, and "Copy all",
give the text exactly as it is.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QContextMenuEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QTextOption,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.core.markdown import sanitize
from deltadesk.ui.plain_text import one_line

DISPLAY_LINE_CHARS = 2000


def display_lines(text: str, width: int = DISPLAY_LINE_CHARS) -> tuple[str, list[int]]:
    """The text with long lines cut into pieces of `width`, and the numbers of the blocks that
    continue the line before them (sorted)."""
    pieces: list[str] = []
    continuations: list[int] = []
    for line in text.split("\n"):
        if len(line) <= width:
            pieces.append(line)
            continue
        for start in range(0, len(line), width):
            if start:
                continuations.append(len(pieces))
            pieces.append(line[start : start + width])
    return "\n".join(pieces), continuations


def _utf16_slice(text: str, start: int, end: int) -> str:
    """text[start:end] counted as Qt counts positions: in UTF-16 code units."""
    start, end = max(0, start), max(0, end)
    if text.isascii():
        return text[start:end]
    return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le", "replace")


class _ViewerEdit(QPlainTextEdit):
    """Copies the original text: display breaks are left out of a copied selection.

    The copy goes through QClipboard.setText, never through a QMimeData made in Python from
    createMimeDataFromSelection: Qt calls such an object back through its Python wrapper, and
    at exit, with Python already gone, that crashed the process (SIGSEGV). Drag and drop and
    the X11 selection keep Qt's own copy, display breaks included.
    """

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        shown, self._continuations = display_lines(text)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        self.setPlainText(shown)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )

    def copy(self) -> None:  # Ctrl+C, the context menu's Copy, and callers
        if self.textCursor().hasSelection():
            QGuiApplication.clipboard().setText(self.selected_text())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            event.accept()
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu(event.pos())
        for action in menu.actions():
            if action.objectName() == "edit-copy":
                action.triggered.disconnect()
                action.triggered.connect(self.copy)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def selected_text(self) -> str:
        """The selection as it is in the text: display breaks left out."""
        cursor = self.textCursor()
        document = self.document()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        first = document.findBlock(start)
        parts: list[str] = []
        block = first
        while block.isValid() and block.position() <= end:
            block_start = block.position()
            piece = _utf16_slice(block.text(), start - block_start, end - block_start)
            if block != first:
                joined = self._is_continuation(block.blockNumber())
                parts.append("" if joined else "\n")
            parts.append(piece)
            block = block.next()
        return "".join(parts)

    def _is_continuation(self, block_number: int) -> bool:
        index = bisect.bisect_left(self._continuations, block_number)
        return index < len(self._continuations) and self._continuations[index] == block_number


class TextViewer(QDialog):
    """The whole text of one message, read-only, with Copy all."""

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = sanitize(text)
        self.setWindowTitle(one_line(title, 200))
        self.edit = _ViewerEdit(self._text, self)
        self.copy_button = QPushButton("&Copy all")
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_all)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.edit, 1)
        layout.addWidget(buttons)
        self.resize(820, 620)

    def text(self) -> str:
        return self._text

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self._text)
