"""What a new, empty chat shows instead of a blank page: what the demo is, three prompts to try
and how to add a real provider. Our own text, plain; shown by the window (set_welcome) until
the chat has a message."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui.plain_text import plain_label

HEADING = "Welcome to Deltadesk"
DEMO_TEXT = (
    "The Demo profile answers right away, offline: a built-in stand-in for a real model, "
    "so you can try the window without an account or a key."
)
PROVIDER_TEXT = (
    "To talk to a real model, add a provider (OpenAI, a local server, any OpenAI-compatible "
    "endpoint) in Settings, then pick it in the Profile list."
)
EXAMPLE_PROMPTS = (
    "Explain server-sent events in three sentences.",
    "Write a Python function that checks for palindromes.",
    "Compare three sorting algorithms in a table.",
)
SETTINGS_TEXT = "Add a provider…"
COLUMN_WIDTH = 640
PROMPT_PADDING = 10


class PromptButton(QPushButton):
    """A button whose text is cut with "…" when narrower than it (never mid-letter); the
    whole text is its tooltip and what it sends."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.full_text = text
        self.setToolTip(text)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # zoom
            self._elide()

    def _elide(self) -> None:
        room = self.width() - 2 * PROMPT_PADDING - 8
        elided = self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, room)
        if elided != self.text():
            self.setText(elided)


class Welcome(QScrollArea):
    """Scrolls when a big zoom on a small window leaves it too little room."""

    prompt_chosen = Signal(str)  # one of EXAMPLE_PROMPTS, to be sent in the new chat
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setBackgroundRole(QPalette.ColorRole.Window)
        page = QWidget()
        page.setStyleSheet(
            f"QPushButton#welcomePrompt {{ text-align: left; padding: 6px {PROMPT_PADDING}px; }}"
        )
        self.heading = plain_label(HEADING)
        self.heading.setObjectName("welcomeHeading")
        self.labels = [self.heading]
        self.prompt_buttons: list[PromptButton] = []
        column = QWidget()
        column.setMaximumWidth(COLUMN_WIDTH)  # a readable line, centred on a wide window
        outer = QHBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(column, 4)
        outer.addStretch(1)
        layout = QVBoxLayout(column)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.setSpacing(10)
        layout.addStretch(1)
        layout.addWidget(self.heading)
        layout.addWidget(self._paragraph(DEMO_TEXT))
        layout.addSpacing(6)
        layout.addWidget(self._paragraph("Try one:"))
        for prompt in EXAMPLE_PROMPTS:
            button = PromptButton(prompt)
            button.setObjectName("welcomePrompt")
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # a click leaves focus in the prompt
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _=False, text=prompt: self.prompt_chosen.emit(text))
            self.prompt_buttons.append(button)
            layout.addWidget(button)
        layout.addSpacing(6)
        layout.addWidget(self._paragraph(PROVIDER_TEXT))
        self.settings_button = QPushButton(SETTINGS_TEXT)
        self.settings_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.settings_button.clicked.connect(self.settings_requested)
        layout.addWidget(self.settings_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(2)
        self.setWidget(page)

    def _paragraph(self, text: str) -> QWidget:
        label = plain_label(text)
        label.setWordWrap(True)
        # Wrapped labels report a wide minimum: let the column decide the width.
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.labels.append(label)
        return label
