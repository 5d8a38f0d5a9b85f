"""The warning at the top of the settings dialog when no keyring can hold API keys."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QWidget

from deltadesk.ui.plain_text import plain_label

_STYLE = (
    "#keyringWarning { background: rgba(241, 196, 15, 0.18);"
    " border: 1px solid rgba(241, 196, 15, 0.6); border-radius: 6px; }"
)


class KeyringNotice(QFrame):
    """An icon and the problem as core/secrets.py words it (it already says what happens to
    keys). The problem may quote a backend's own error: plain text."""

    def __init__(self, problem: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keyringWarning")
        self.setStyleSheet(_STYLE)
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(24, 24)
        )
        self.label = plain_label(problem.strip())
        self.label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
