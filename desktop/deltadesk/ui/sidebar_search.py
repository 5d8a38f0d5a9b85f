"""The sidebar's field: a title filter, or (Ctrl+Shift+F, or its "Messages" toggle) the search
of every message's text. Its keys: Down or Enter go into the list below, Esc leaves the full
text (or empties the filter) before it is the window's Stop."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QToolButton, QWidget

MAX_QUERY_CHARS = 200
SEARCH_DELAY_MS = 250  # typing pauses this long before a full-text query runs
FULL_TEXT_SHORTCUT = "Ctrl+Shift+F"
TITLE_PLACEHOLDER = "Filter by title (Ctrl+K)"
FULL_TEXT_PLACEHOLDER = f"Search all messages ({FULL_TEXT_SHORTCUT})"
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SearchField(QWidget):
    """The field and its mode toggle."""

    filter_changed = Signal(str)  # title mode: at each key
    query_ready = Signal(str)  # full-text mode: after a pause in typing ("" when emptied)
    mode_changed = Signal(bool)  # True: full text
    into_list = Signal()  # Down or Enter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full_text = False
        self._switching = False
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(TITLE_PLACEHOLDER)
        self.edit.setClearButtonEnabled(True)
        self.edit.setMaxLength(MAX_QUERY_CHARS)
        self.edit.textChanged.connect(self._on_text_changed)
        self.edit.installEventFilter(self)
        self.toggle = QToolButton(self)
        self.toggle.setText("Messages")
        self.toggle.setCheckable(True)
        self.toggle.setToolTip(
            f"Search the text of every message, not only titles ({FULL_TEXT_SHORTCUT})"
        )
        self.toggle.setAccessibleName("Search all messages")
        # On, it must be seen to be on (Fusion draws a checked tool button almost as off).
        self.toggle.setStyleSheet(
            "QToolButton:checked { background-color: palette(highlight);"
            " color: palette(highlighted-text); border: 1px solid palette(highlight);"
            " border-radius: 3px; padding: 2px 5px; }"
        )
        self.toggle.toggled.connect(self._set_full_text)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.query_now)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.toggle)
        self.setFocusProxy(self.edit)

    def is_full_text(self) -> bool:
        return self._full_text

    def set_full_text(self, on: bool) -> None:
        self.toggle.setChecked(on)

    def text(self) -> str:
        return self.edit.text().strip()

    def title_filter(self) -> str:
        """What titles must contain ("" in full-text mode)."""
        return "" if self._full_text else self.text()

    def query_now(self) -> None:
        """The full-text query for what is typed, without waiting for the pause."""
        self._timer.stop()
        if self._full_text:
            self.query_ready.emit(self.text())

    def _on_text_changed(self, text: str) -> None:
        if self._switching:
            return
        if self._full_text:
            self._timer.start()  # restarted by each key: one query per pause
        else:
            self.filter_changed.emit(text)

    def _set_full_text(self, on: bool) -> None:
        if on == self._full_text:
            return
        self._full_text = on
        self._timer.stop()
        self._switching = True  # not blockSignals: the field's own clear button follows
        self.edit.clear()  # a title filter is not a query, nor the other way round
        self._switching = False
        self.edit.setPlaceholderText(FULL_TEXT_PLACEHOLDER if on else TITLE_PLACEHOLDER)
        self.mode_changed.emit(on)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.edit or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key = event.key()
        escape_here = key == Qt.Key.Key_Escape and bool(self._full_text or self.edit.text())
        if event.type() == QEvent.Type.ShortcutOverride:
            if escape_here:  # Esc is the window's Stop; here it leaves the search first
                event.accept()
                return True
            return False
        if event.type() != QEvent.Type.KeyPress:
            return False
        if escape_here:
            if self._full_text:
                self.set_full_text(False)
            else:
                self.edit.clear()
            return True
        if key == Qt.Key.Key_Down or key in _ENTER_KEYS:
            self.into_list.emit()
            return True
        return False
