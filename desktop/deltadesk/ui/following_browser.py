"""The chat view's scrolling: it follows the newest text until the user scrolls away, and
then offers a "Jump to latest" button while an answer streams. An answer that ends while the
user reads above keeps the button (saying so) until they scroll down or jump."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QToolButton, QWidget

from deltadesk.ui import theme
from deltadesk.ui.chat_browser import ChatBrowser

# Within this many pixels of the bottom counts as "at the bottom" (keeps following the stream).
FOLLOW_SLACK_PX = 8
JUMP_TEXT = "↓  Jump to latest"
JUMP_AFTER_END_TEXT = "↓  The answer ended below · Jump to latest"


class FollowingBrowser(ChatBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._following = True
        self.more_below = False  # an answer ended below while the user read above
        self._scroll_residual = 0.0  # the fraction of a pixel the last scroll correction lost
        self.jump_button = self._make_jump_button()
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        bar.valueChanged.connect(self._on_scroll_value_changed)

    def is_streaming(self) -> bool:
        """The view says whether an answer streams (the jump button shows only then)."""
        return False

    def _make_jump_button(self) -> QToolButton:
        # A child of the browser, not of the viewport: viewport scrolling moves its children.
        button = QToolButton(self)
        button.setText(JUMP_TEXT)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet(theme.JUMP_BUTTON_CSS)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(self.scroll_to_bottom)
        button.hide()
        return button

    # --- public API: scrolling ------------------------------------------------------------

    @property
    def following(self) -> bool:
        """True while the view keeps itself scrolled to the newest text."""
        return self._following

    def scroll_to_bottom(self) -> None:
        self._following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._update_jump_button()

    @contextmanager
    def keeping_place(self, anchor_top: Callable[[], float]) -> Iterator[None]:
        """Around an insertion above the text on screen: that text must not move. At the
        bottom the view simply stays there; otherwise it scrolls down by the height added
        above the anchor (anchor_top() gives the anchor's top before and after)."""
        before = anchor_top()
        yield
        if self._following:
            self._keep_following()
            return
        # The scroll bar counts whole pixels; carry the fraction so that many insertions in a
        # row do not drift.
        moved = anchor_top() - before + self._scroll_residual
        pixels = round(moved)
        self._scroll_residual = moved - pixels
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + pixels)

    # --- scrolling ------------------------------------------------------------------------

    def _keep_following(self) -> None:
        if self._following:
            bar = self.verticalScrollBar()
            bar.setValue(bar.maximum())

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._following:
            self.verticalScrollBar().setValue(maximum)

    def _on_scroll_value_changed(self, value: int) -> None:
        self._following = value >= self.verticalScrollBar().maximum() - FOLLOW_SLACK_PX
        self._update_jump_button()

    def _update_jump_button(self) -> None:
        if self._following:
            self.more_below = False
        streaming = self.is_streaming()
        show = not self._following and (streaming or self.more_below)
        if show:
            text = JUMP_TEXT if streaming else JUMP_AFTER_END_TEXT
            if self.jump_button.text() != text:
                self.jump_button.setText(text)
            self._place_jump_button()
        self.jump_button.setVisible(show)

    def _place_jump_button(self) -> None:
        self.jump_button.adjustSize()
        viewport = self.viewport().geometry()
        self.jump_button.move(
            viewport.right() - self.jump_button.width() - 16,
            viewport.bottom() - self.jump_button.height() - 14,
        )
        self.jump_button.raise_()

    def showEvent(self, event: QShowEvent) -> None:
        # QTextEdit scrolls to its (unused) text cursor when first shown; keep our place.
        was_following = self._following
        super().showEvent(event)
        if was_following:
            self.scroll_to_bottom()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_jump_button()
