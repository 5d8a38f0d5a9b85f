"""The conversation view: one QTextBrowser showing one QTextDocument (see chat_document.py).

While an answer streams, the markdown renderer hands over HTML for blocks that just became
final (inserted once) and for the open tail (replacing the previous tail), at most as often as
the text can be rendered without making the window sluggish.

A long stored conversation opens lazily: show_messages renders only the newest messages
(about two screens) and returns; the older ones are rendered from the event loop in small
batches, inserted above, while the text on screen stays where it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from functools import partial

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QMouseEvent,
    QPalette,
    QShowEvent,
    QTextFrame,
    QTextOption,
)
from PySide6.QtWidgets import QTextBrowser, QTextEdit, QToolTip, QWidget

from deltadesk.core.markdown_safety import remove_breaks
from deltadesk.ui import theme, view_places
from deltadesk.ui.busy_links import BusyLinks
from deltadesk.ui.chat_document import ROLE_LABELS, ChatDocument, MessageEntry, MessageView
from deltadesk.ui.document_zoom import zoom_factor
from deltadesk.ui.live_answers import LiveAnswers
from deltadesk.ui.message_editor import MessageEditor
from deltadesk.ui.message_parts import header_tooltip
from deltadesk.ui.message_windows import MessageWindows
from deltadesk.ui.older_messages import OlderMessages, first_screen_start
from deltadesk.ui.reading_browser import ReadingBrowser
from deltadesk.ui.search_reveal import reveal
from deltadesk.ui.tail_renderer import FiguresPacer, TailRenderer
from deltadesk.ui.tail_repaint import repainting_below
from deltadesk.ui.text_viewer import TextViewer

__all__ = ["ChatView", "MessageView"]

BUSY_NOTE = "Not while an answer is being written (Stop it first)"

log = logging.getLogger(__name__)


class ChatView(LiveAnswers, ReadingBrowser):
    """The whole conversation in one document; the streaming message is the last one."""

    retry_requested = Signal(int)  # message id (a failed answer: the shell regenerates it)
    continue_requested = Signal(int)  # message id (a stopped or interrupted answer)
    regenerate_requested = Signal(int)  # message id of the answer to answer anew
    branch_requested = Signal(int, int)  # message id, step: -1 (◀) or +1 (▶)
    edit_submitted = Signal(int, str)  # the edited prompt's message id, the new text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keep_reasoning_open = False
        self._chat = ChatDocument(self.document())
        self._streaming_id: int | None = None
        self._older = OlderMessages(self._chat, self._keeping_place, self)
        self._setup_widget()
        paint = partial(repainting_below, self)  # only what a render changed
        self._tail = TailRenderer(self._chat, self._keep_following, self._out_of_sight, self, paint)
        self._figures = FiguresPacer(self._chat, self._keep_following, self)
        self.windows = MessageWindows(self)  # "as text" windows, the clipboard
        self._overlays: dict[str, list[QTextEdit.ExtraSelection]] = {"search": [], "busy": []}
        self._busy = BusyLinks(self._chat, lambda found: self.set_overlay("busy", found), self)
        self.editor = MessageEditor(self, self._message_frame)  # a prompt edited in place
        self.editor.submitted.connect(self.edit_submitted)

    # --- set-up ---------------------------------------------------------------------------

    def _setup_widget(self) -> None:
        self.setFont(theme.body_font())
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A scroll bar that appears once the text overflows narrows the view, and Qt lays the
        # whole document out again (40 ms for one long answer): keep it there from the start.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._apply_palette()

    def _apply_palette(self) -> None:
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.BACKGROUND))
        palette.setColor(QPalette.ColorRole.Text, QColor(theme.TEXT))
        palette.setColor(QPalette.ColorRole.Link, QColor(theme.ACCENT))
        self.setPalette(palette)
        # Under a window style sheet Qt gives the viewport a palette of its own, which the
        # view's no longer reaches: dark text stayed on the dark page after a switch to light.
        self.viewport().setPalette(palette)

    def apply_theme(self) -> None:
        """The current theme's colours (theme.use) for the view, and its style sheet, at the
        view's zoom, for what is shown from now on (show the conversation again to redraw
        what is there)."""
        self._apply_palette()
        self._chat.apply_style()

    # --- public API: the conversation -----------------------------------------------------

    @property
    def viewers(self) -> list[TextViewer]:
        return self.windows.viewers

    @property
    def show_actions(self) -> bool:
        """Whether messages offer Edit, Regenerate, Continue, Retry and the branch switcher
        (set before messages are shown; a compare column turns them off)."""
        return self._chat.show_actions

    @show_actions.setter
    def show_actions(self, show: bool) -> None:
        self._chat.show_actions = show

    def set_compact(self, compact: bool) -> None:
        """Thin margins and no header lines, for a narrow column that names its answer
        itself (set before messages are shown)."""
        self._chat.compact = compact
        self.document().setDocumentMargin(6 if compact else 18)
        self.reading_width.enabled = not compact  # a column is narrow already
        self.reading_width.fit()

    def adjust_streamed_html(self, adjust: Callable[[str, bool], str]) -> None:
        """`adjust(html, is_open_tail)` rewrites each streamed render's HTML before it goes
        in (a compare column's table widths)."""
        self._chat.adjust_html = adjust

    def set_busy(self, busy: bool) -> None:
        """The conversation in view streams: Edit, Regenerate, Continue and Retry are shown
        dim, and refused, until it ends (the controller would refuse them)."""
        self._busy.set_busy(busy)

    def set_overlay(self, kind: str, selections: list[QTextEdit.ExtraSelection]) -> None:
        """What is drawn over the text without being in it: "search" (a hit's words),
        "busy" (refused links)."""
        self._overlays[kind] = selections
        self.setExtraSelections(self._overlays["search"] + self._overlays["busy"])

    def set_zoom(self, percent: int) -> None:
        """Every font size of the conversation at `percent` of normal (100); what streams in
        later comes at that size too. The reading width follows; the message at the top of
        the screen stays there (at the bottom, the view stays at the bottom)."""
        if zoom_factor(percent) == self._chat.zoom:
            return
        following = self._following
        anchor = None if following else view_places.top_entry(self, self._chat.entries.values())
        top = view_places.message_top(self, anchor) if anchor is not None else 0.0
        self._chat.set_zoom(zoom_factor(percent))
        # QTextEdit gives its document the widget's font whenever that changes: the same.
        self.setFont(self.document().defaultFont())
        self.reading_width.fit()
        if anchor is not None:
            view_places.place_message(self, anchor, top)
        elif following:
            self.scroll_to_bottom()

    @property
    def zoom_percent(self) -> int:
        return round(self._chat.zoom * 100)

    def clear_messages(self) -> None:
        self._overlays["search"] = []  # a search hit's highlight lasts until the next show
        self._busy.clear()
        self.editor.close_editor()
        self._older.clear()  # older messages of this conversation must never show up later
        self._chat.clear()
        self._streaming_id = None
        self._tail.clear()
        self._figures.clear()
        self._following = True
        self._scroll_residual = 0.0
        self._update_jump_button()

    def show_messages(self, messages: Sequence[MessageView]) -> None:
        """Replaces what is shown with a stored conversation.

        Renders the newest messages (a couple of screens) before it returns, at the bottom;
        the older ones follow from the event loop, inserted above. Asking for a message that
        is still waiting (its text, its span...) renders it at once.
        """
        self.clear_messages()
        first_screen = first_screen_start(messages)
        self._older.start(messages[:first_screen])
        with self._chat.edit_block():  # one edit: one layout pass for the whole first screen
            for message in messages[first_screen:]:
                if message.id in self._older:
                    raise ValueError("a message id appears twice in the conversation")
                self._chat.add_stored(message)
        self.scroll_to_bottom()

    def add_message(self, message: MessageView) -> None:
        """Appends a complete message (e.g. the user's prompt or a stored answer)."""
        if message.id in self._older:
            raise ValueError(f"message {message.id} is already shown")
        self._chat.add_stored(message)
        self._keep_following()

    @property
    def pending_message_count(self) -> int:
        """How many older messages of the shown conversation are not rendered yet."""
        return len(self._older)

    def message_ids(self) -> list[int]:
        """Every message of the conversation in order, the ones still waiting included."""
        return self._older.ids() + self._chat.ids_in_order()

    def message_plain_text(self, message_id: int) -> str:
        """The rendered answer text of one message."""
        entry = self._entry(message_id)
        return remove_breaks(self._chat.answer_selection(entry).selection().toPlainText())

    def message_html(self, message_id: int) -> str:
        return self._chat.answer_selection(self._entry(message_id)).selection().toHtml()

    def answer_span(self, message_id: int) -> tuple[int, int]:
        """Document positions where the message's answer starts and ends."""
        answer = self._entry(message_id).answer
        return answer.firstPosition(), answer.lastPosition()

    def tail_position(self, message_id: int) -> int:
        """Document position where the message's open (re-rendered) tail starts; everything
        of the answer before it is frozen. After the stream ends: the end of the answer."""
        entry = self._entry(message_id)
        return entry.answer.firstPosition() + entry.tail_offset

    def set_message_error(
        self,
        message_id: int,
        status: str,
        error_kind: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Shows (or removes) the note below a message: the error never goes into the answer."""
        entry = self._find(message_id)
        if entry is not None:
            self._chat.set_note(entry, status, error_kind, error_message)

    def set_message_figures(self, message_id: int, text: str) -> None:
        """The dim plain-text line of figures under an answer (model, first token, tok/s,
        tokens, status), shown or updated in place; "" removes it. An unknown id: nothing."""
        entry = self._find(message_id)
        if entry is None or entry.figures == text:
            return
        entry.figures = text
        self._figures.show(entry)  # while it streams: a few times a second

    def set_siblings(self, message_id: int, index: int, count: int) -> None:
        """The message's place among its siblings (1-based); count 1 hides the switcher."""
        entry = self._find(message_id)
        if entry is None or (entry.sibling_index, entry.sibling_count) == (index, count):
            return
        entry.sibling_index, entry.sibling_count = index, count
        self._chat.render_header(entry)

    def message_top(self, message_id: int) -> float | None:
        """Where the top of the message's box is in the viewport now (None: not shown)."""
        entry = self._find(message_id)
        return None if entry is None else view_places.message_top(self, entry)

    def place_message(self, message_id: int, top: float) -> None:
        """Scrolls so that the message's box starts at `top` in the viewport (as far as the
        conversation's length allows): after a branch switch, the switcher stays put."""
        entry = self._find(message_id)
        if entry is not None:
            self._following = False
            view_places.place_message(self, entry, top)

    def reveal_message(self, message_id: int, query: str) -> bool:
        """Scrolls to the message and highlights the query's words in it (a search hit);
        a message still waiting above, or words past its shown page, are laid out first.
        False when the message is not shown here."""
        return reveal(self, message_id, query)

    def edit_message(self, message_id: int) -> None:
        """Opens a sent prompt in place for editing; Enter emits edit_submitted."""
        entry = self._find(message_id)
        if entry is None or entry.role != "user" or not self.show_actions:
            return
        self._following = False  # the prompt stays where it is while it is edited
        self.editor.open(message_id, entry.paging.text())

    def _message_frame(self, message_id: int) -> QTextFrame | None:
        entry = self._chat.entries.get(message_id)
        return None if entry is None else entry.frame

    def show_more(self, message_id: int) -> None:
        """Lays out the next page of a message shown only in part."""
        entry = self._find(message_id)
        if entry is None or not entry.paging.cut:
            return
        fence = entry.paging.open_fence()
        part = entry.paging.next_page()
        if entry.markdown is not None:  # still streaming: the page goes through the stream
            entry.pending.append(part)
            self._chat.show_more_line(entry)
            self._tail.render_pending(entry)
        else:
            self._chat.append_page(entry, part, fence)
        self._keep_following()

    def open_as_text(self, message_id: int) -> TextViewer | None:
        """Shows the whole text of a message in a plain-text window; returns that window."""
        entry = self._find(message_id)
        if entry is None:
            return None
        label = ROLE_LABELS.get(entry.role, entry.role.capitalize())
        return self.windows.open_as_text(f"{label} message — as text", entry.paging.text())

    def copy_answer(self, message_id: int) -> None:
        """Puts the answer's text as it came (its markdown) on the clipboard."""
        entry = self._find(message_id)
        if entry is not None:
            self.windows.copy(entry.paging.text())

    def tooltip_at(self, position: QPoint) -> str | None:
        """The local date and time a message was written, over its header line; why a dim
        link does nothing while the conversation streams."""
        if self._refuses_link_at(position):
            return BUSY_NOTE
        return header_tooltip(self._chat, self.cursorForPosition(position).block())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        # A refused link is no link to the pointer either (QTextBrowser set the hand).
        if self._refuses_link_at(event.position().toPoint()):
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)

    def _refuses_link_at(self, position: QPoint) -> bool:
        """Whether the link there is one refused while the conversation streams."""
        return self._busy.refuses(self.anchorAt(position).partition(":")[0])

    def toggle_reasoning(self, message_id: int) -> None:
        entry = self._find(message_id)
        if entry is None or entry.reasoning is None:
            return
        entry.reasoning.is_open = not entry.reasoning.is_open
        self._chat.render_reasoning(entry)

    # --- looking messages up --------------------------------------------------------------

    def _find(self, message_id: int) -> MessageEntry | None:
        """The message's entry; a stored message still waiting above is rendered first."""
        self._older.render_through(message_id)
        return self._chat.entries.get(message_id)

    def _entry(self, message_id: int) -> MessageEntry:
        """The message's entry for a question about what it shows: held-back text first."""
        entry = self._find(message_id)
        if entry is None:
            raise KeyError(message_id)
        self._tail.catch_up(message_id)
        return entry

    def _out_of_sight(self) -> bool:
        """In a shown window, but not shown itself (a page behind another)."""
        return not self.isVisible() and self.window().isVisible()

    def showEvent(self, event: QShowEvent) -> None:
        self._tail.shown()
        super().showEvent(event)

    # --- older messages, rendered after the first screen ------------------------------------

    def _keeping_place(self) -> AbstractContextManager[None]:
        """Around an insertion of older messages at the top: the message on top stays put."""
        anchor = self._chat.top_entry()
        if anchor is None:
            return self.keeping_place(lambda: 0.0)
        layout = self.document().documentLayout()
        return self.keeping_place(lambda: layout.frameBoundingRect(anchor.frame).top())

    # --- what the browser asks of the view ------------------------------------------------

    def message_action(self, action: str, message_id: int) -> None:
        if self._busy.refuses(action):
            QToolTip.showText(QCursor.pos(), BUSY_NOTE, self)
            return
        asked = {
            "retry": self.retry_requested,
            "continue": self.continue_requested,
            "regenerate": self.regenerate_requested,
        }
        if action in asked:
            asked[action].emit(message_id)
        elif action in ("branch-prev", "branch-next"):
            self.branch_requested.emit(message_id, -1 if action == "branch-prev" else 1)
        else:
            done_here = {
                "edit": self.edit_message,
                "show-more": self.show_more,
                "open-text": self.open_as_text,
                "copy-answer": self.copy_answer,
            }
            done_here.get(action, self.toggle_reasoning)(message_id)

    def code_block(self, message_id: int, index: int) -> str | None:
        entry = self._chat.entries.get(message_id)
        if entry is None or index >= len(entry.code_blocks):
            return None
        return entry.code_blocks[index]
