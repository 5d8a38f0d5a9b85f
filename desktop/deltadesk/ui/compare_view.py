"""Compare: one prompt's answers from several profiles, streamed side by side.

Each column is one answer (a sibling of the prompt in the conversation's tree): a header with
the profile or model name, a live answer view (a ChatView showing that one message, so the
rendering is the chat's own: frozen markdown blocks, only the open tail re-rendered), the
answer's figures line, its own Stop, and "Continue with this one", which makes it the active
branch. The columns sit in a splitter; on a narrow window they keep a readable width and the
row scrolls sideways instead of squeezing them.

Widgets only: Stop and the choice leave as signals with the answer's message id.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui import theme
from deltadesk.ui.chat_view import ChatView, MessageView
from deltadesk.ui.compare_tables import TableFitter
from deltadesk.ui.plain_text import clip, let_shrink, one_line, plain_label, plain_tooltip
from deltadesk.ui.tail_renderer import FIGURES_INTERVAL_SECONDS

COLUMN_MIN_WIDTH = 240
MAX_LABEL_CHARS = 120
CHOOSE_TEXT = "Continue with this one"
FIGURES_SEPARATOR = " · "
SHORT_FIGURE_CHARS = 20  # "first token 1234 ms": a figure kept on one line when wrapped


def compare_css() -> str:
    """The columns' frames and lines in the theme's palette in use (light or dark)."""
    return f"""
QFrame#compareColumn {{ border: 1px solid {theme.RULE}; border-radius: 6px;
    background: {theme.BACKGROUND}; }}
QLabel#compareHeader {{ font-weight: 600; padding: 2px 4px; color: {theme.TEXT}; }}
QLabel#compareFigures {{ color: {theme.FAINT}; padding: 0 4px; }}
QLabel#comparePrompt {{ color: {theme.MUTED}; padding: 4px 8px; }}
"""


def wrappable_figures(line: str) -> str:
    """The figures line as a narrow column wraps it: after a "·", never before one, and not
    inside a short figure ("50 tok/" over "s"). The model's name, first, may still wrap."""
    first, *rest = line.split(FIGURES_SEPARATOR)
    glued = [
        part.replace(" ", "\u00a0").replace("/", "/\u2060")
        if len(part) <= SHORT_FIGURE_CHARS
        else part
        for part in rest
    ]
    return "\u00a0· ".join([first, *glued])


class CompareColumn(QFrame):
    """One answer of a comparison: header, live answer, figures, Stop, choose."""

    def __init__(self, message_id: int, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareColumn")
        self.message_id = message_id
        self.status = "streaming"
        self.header = let_shrink(plain_label(one_line(label, MAX_LABEL_CHARS)))
        self.header.setToolTip(plain_tooltip(self.header.text()))
        self.header.setObjectName("compareHeader")
        self.view = ChatView(self)
        self.view.show_actions = False  # the column's own buttons act on this answer
        self.view.set_compact(True)
        # Words cut only where one is wider than its place (the chat's own wrapping): Qt's
        # word-only wrapping would let a deep-indented code line run past the code card's
        # edge, out of sight, since a card does not widen for it (Qt counts a break point
        # in its leading spaces that its line breaker does not use). What is wider than the
        # column anyway (a wide table) scrolls sideways.
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.tables = TableFitter(self.view)  # no word cut in a table's narrow cells
        self.view.adjust_streamed_html(self.tables.with_widths)
        self.view.setAccessibleName(f"Answer from {one_line(label, MAX_LABEL_CHARS)}")
        self.figures = plain_label()
        self.figures.setObjectName("compareFigures")
        self.figures.setWordWrap(True)
        self.figures.hide()
        self._figures_text = ""
        self._figures_shown_at = 0.0
        self._figures_timer = QTimer(self)  # live figures: a few times a second, as in the chat
        self._figures_timer.setSingleShot(True)
        self._figures_timer.timeout.connect(self._show_figures)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop this answer; the others go on")
        self.choose_button = QPushButton(CHOOSE_TEXT, self)
        # Choosing does not wait for the end: a clearly better answer may still be streaming
        # (it goes on streaming in the chat).
        self.choose_button.setToolTip("Make this answer the conversation's branch")
        for button in (self.stop_button, self.choose_button):
            button.setAutoDefault(False)
        self._build_layout()
        self.setMinimumWidth(COLUMN_MIN_WIDTH)
        self._label_sizes = {label: label.font().pointSizeF() for label in self._labels()}
        self.view.begin_streaming(message_id)

    def _labels(self) -> tuple[QLabel, ...]:
        return (self.header, self.figures)

    def set_zoom(self, percent: int) -> None:
        """The answer and the column's own lines at ``percent`` of their size (100: as is)."""
        self.view.set_zoom(percent)
        for label, size in self._label_sizes.items():
            if size > 0:
                font = label.font()
                font.setPointSizeF(size * percent / 100)
                label.setFont(font)

    def _build_layout(self) -> None:
        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 0, 4, 4)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.choose_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.figures)
        layout.addLayout(buttons)

    def set_figures(self, text: str) -> None:
        self._figures_text = text
        wait = self._figures_shown_at + FIGURES_INTERVAL_SECONDS - time.monotonic()
        if self.status != "streaming" or wait <= 0:
            self._show_figures()
        elif not self._figures_timer.isActive():
            self._figures_timer.start(max(1, int(wait * 1000)))

    def _show_figures(self) -> None:
        self._figures_timer.stop()
        self._figures_shown_at = time.monotonic()
        self.figures.setText(wrappable_figures(clip(one_line(self._figures_text, 300))))
        self.figures.setVisible(bool(self._figures_text.strip()))

    def end(self, status: str, kind: str | None, message: str | None) -> None:
        self.status = status
        self.view.end_streaming(self.message_id, status, kind, message)
        self.stop_button.setEnabled(False)
        if self._figures_timer.isActive():
            self._show_figures()  # the last figures, at once

    def show_ended(self, message: MessageView) -> None:
        """The answer as it ended (shown again from the history): its text, its status note
        and its figures line; nothing streams in this column any more."""
        self.status = message.status
        self.view.clear_messages()
        # The column's own label shows the figures and names it: not inside the document.
        self.view.add_message(replace(message, figures="", sibling_index=1, sibling_count=1))
        self.stop_button.setEnabled(False)
        self.set_figures(message.figures)


class CompareView(QWidget):
    """2–4 answers side by side; `stop_requested(id)` and `chosen(id)` say what the user
    wants of one of them."""

    stop_requested = Signal(int)  # the message id of the answer to stop
    chosen = Signal(int)  # the message id of the answer to go on with
    dismissed = Signal()  # back to the conversation without choosing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(compare_css())
        self._columns: dict[int, CompareColumn] = {}
        self._zoom = 100
        self.prompt_label = let_shrink(plain_label())
        self.prompt_label.setObjectName("comparePrompt")
        self.prompt_label.hide()
        self.back_button = QPushButton("Back to the chat", self)
        self.back_button.setToolTip("Leave the comparison; the answers stay in the conversation")
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.dismissed)
        self._splitter = QSplitter(Qt.Orientation.Horizontal)
        self._splitter.setChildrenCollapsible(False)
        self._scroll = QScrollArea(self)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(self._splitter)
        self._build_layout()

    def _build_layout(self) -> None:
        top = QHBoxLayout()
        top.setContentsMargins(8, 4, 8, 0)
        top.addWidget(self.prompt_label, 1)
        top.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._scroll, 1)

    # --- public API -----------------------------------------------------------------------

    def start(self, columns: Sequence[tuple[int, str]], prompt: str = "") -> None:
        """Replaces the columns: one per (answer message id, profile or model name)."""
        ids = [message_id for message_id, _label in columns]
        if len(set(ids)) != len(ids):
            raise ValueError("a message id appears twice in the comparison")
        self.clear()
        self.prompt_label.setText(one_line(prompt, 300))
        self.prompt_label.setToolTip(plain_tooltip(self.prompt_label.text()))
        self.prompt_label.setVisible(bool(prompt.strip()))
        for message_id, label in columns:
            column = CompareColumn(message_id, label)
            if self._zoom != 100:
                column.set_zoom(self._zoom)
            column.stop_button.clicked.connect(lambda _=False, m=message_id: self._stop(m))
            column.choose_button.clicked.connect(lambda _=False, m=message_id: self._choose(m))
            self._columns[message_id] = column
            self._splitter.addWidget(column)
        self._splitter.setSizes([1000] * len(columns))  # equal widths to start with

    def clear(self) -> None:
        for column in self._columns.values():
            # Still parented, so Qt deletes it at its next turn. Unparented, its Python
            # wrapper would own it, and the garbage collector could free it from inside one
            # of its own timer events (a crash seen in the test suite).
            column.hide()
            column.deleteLater()
        self._columns.clear()

    def set_zoom(self, percent: int) -> None:
        """Every column (and those of later comparisons) at ``percent`` (100: normal size),
        as the chat view is zoomed."""
        self._zoom = percent
        for column in self._columns.values():
            column.set_zoom(percent)

    def zoom(self) -> int:
        return self._zoom

    def apply_theme(self) -> None:
        """The palette in use changed (light, dark): frames, lines and each answer view
        follow it; columns made later start in it."""
        self.setStyleSheet(compare_css())
        for column in self._columns.values():
            column.view.apply_theme()  # palette (viewport too) and the zoomed style sheet

    def message_ids(self) -> list[int]:
        return list(self._columns)

    def column(self, message_id: int) -> CompareColumn | None:
        return self._columns.get(message_id)

    def is_streaming(self) -> bool:
        return any(column.status == "streaming" for column in self._columns.values())

    def append_text(self, message_id: int, text: str) -> None:
        column = self._columns.get(message_id)
        if column is not None:
            column.view.append_text(message_id, text)

    def append_reasoning(self, message_id: int, text: str) -> None:
        column = self._columns.get(message_id)
        if column is not None:
            column.view.append_reasoning(message_id, text)

    def set_waiting_note(self, message_id: int, note: str | None) -> None:
        column = self._columns.get(message_id)
        if column is not None:
            column.view.set_waiting_note(message_id, note)

    def end_streaming(
        self,
        message_id: int,
        status: str,
        kind: str | None = None,
        message: str | None = None,
    ) -> None:
        column = self._columns.get(message_id)
        if column is not None:
            column.end(status, kind, message)

    def set_figures(self, message_id: int, text: str) -> None:
        column = self._columns.get(message_id)
        if column is not None:
            column.set_figures(text)

    def show_ended(self, message: MessageView) -> None:
        """A column shows its answer as stored (it ended before the columns were shown
        again); an id not in the comparison is ignored."""
        column = self._columns.get(message.id)
        if column is not None:
            column.show_ended(message)

    # --- behaviour --------------------------------------------------------------------------

    def _stop(self, message_id: int) -> None:
        column = self._columns.get(message_id)
        if column is not None and column.status == "streaming":
            self.stop_requested.emit(message_id)

    def _choose(self, message_id: int) -> None:
        if message_id in self._columns:
            self.chosen.emit(message_id)
