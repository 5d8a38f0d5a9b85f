"""The conversation as one QTextDocument: message boxes, answer regions, reasoning, notes.

Each message is a QTextFrame (a styled box) holding a header line, an optional reasoning frame,
the answer frame and an optional note frame (error / stopped / interrupted). New messages are
appended at the end; the older messages of a long stored conversation are inserted at the top,
after the newest ones are on screen. An answer is filled from markdown HTML in two parts:
frozen HTML, inserted once and never touched again, and the open tail, which replaces the
previous tail. Only the region from the tail start to the end of the answer frame is ever
edited, so the work per streamed flush is proportional to the tail, not to the conversation.

At the end of every edit that adds or removes a frame (a message box, a table, a code card),
QTextDocument rescans all the frames of the document, and the layout runs once. So each
multi-step change here runs inside one edit block (`edit_block()`): one scan, one layout pass,
however many frames the change makes.

No widget here: scrolling, links and timing belong to the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from PySide6.QtGui import (
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
)

from deltadesk.core.markdown import (
    IncrementalMarkdown,
    RenderUpdate,
    render_document,
    sanitize,
)
from deltadesk.core.markdown_safety import TABLE_NOTE_HTML, break_long_plain_words
from deltadesk.ui import theme
from deltadesk.ui.code_lines import hang_code_lines, rehang
from deltadesk.ui.document_regions import (
    adapt_html,
    remove_frame,
    replace_region,
    shrink_block_at,
)
from deltadesk.ui.document_zoom import rescale, zoomed, zoomed_css, zoomed_font
from deltadesk.ui.long_messages import Paging
from deltadesk.ui.message_parts import (
    ROLE_LABELS,
    STATUSES_WITH_NOTES,
    create_note,
    render_footer,
    render_header,
)
from deltadesk.ui.reasoning_parts import (
    Reasoning,
    add_reasoning,
    append_reasoning_text,
    render_reasoning,
    render_reasoning_title,
)

__all__ = ["ROLE_LABELS", "ChatDocument", "MessageEntry", "MessageView"]


@dataclass(frozen=True)
class MessageView:
    """What the view needs of one message (the app converts store rows to this)."""

    id: int
    role: str
    content: str
    reasoning: str = ""
    status: str = "done"
    error_kind: str | None = None
    error_message: str | None = None
    sibling_index: int = 1  # 1-based position among the answers (or prompts) of one parent
    sibling_count: int = 1  # 1: no switcher
    figures: str = ""  # plain text: "model · first token 812 ms · 41 tok/s · 230 tokens · done"
    created_at: float | None = None  # seconds since the epoch; None (or 0): not known
    reasoning_ms: float | None = None  # how long the model thought; None: not known


@dataclass
class MessageEntry:
    """One message in the document, and the state of its answer while it streams."""

    message_id: int
    role: str
    frame: QTextFrame
    answer: QTextFrame
    code_blocks: list[str] = field(default_factory=list)
    markdown: IncrementalMarkdown | None = None  # set while streaming
    tail_offset: int = 0  # the open tail starts at answer.firstPosition() + tail_offset
    pending: list[str] = field(default_factory=list)  # text not rendered yet (see backoff)
    tail_html: str | None = None  # the renderer's HTML of the open tail now on screen
    render_not_before: float = 0.0  # time.monotonic() before which renders are deferred
    rendered_at: float = 0.0  # time.monotonic() of the last render of the streaming tail
    answer_started: bool = False
    reasoning: Reasoning | None = None
    note: QTextFrame | None = None
    waiting: QTextFrame | None = None  # "waiting for the first token…" until text arrives
    paging: Paging = field(default_factory=Paging)  # the whole text; how much is laid out
    more: QTextFrame | None = None  # "Showing 100,000 of … · Show more · Open as text"
    status: str = "streaming"
    error: tuple[str | None, str | None] = (None, None)  # the note's kind and message
    sibling_index: int = 1
    sibling_count: int = 1
    created_at: float | None = None
    figures: str = ""
    footer: QTextFrame | None = None  # the figures line (and Regenerate) under an answer
    figures_shown_at: float = 0.0  # time.monotonic() of the last figures line drawn


class ChatDocument:
    """Builds and edits the conversation inside a QTextDocument."""

    def __init__(self, document: QTextDocument) -> None:
        self.document = document
        self.entries: dict[int, MessageEntry] = {}
        # Edit, Regenerate, Continue, Retry and the branch switcher; off where nothing would
        # act on them (a compare column).
        self.show_actions = True
        # A compare column: no header line (the column names its answer), thin margins.
        self.compact = False
        # Told when a message's header, figures line or note was rewritten (its links).
        self.links_changed: Callable[[MessageEntry], None] = lambda _entry: None
        # Rewrites a streaming answer's HTML before it is inserted, given whether it is the
        # open tail (a compare column's table widths: compare_tables.py).
        self.adjust_html: Callable[[str, bool], str] = lambda html, _open: html
        self.zoom = 1.0  # every font size times this (document_zoom.py)
        document.setUndoRedoEnabled(False)  # an undo stack would keep every replaced tail
        document.setDocumentMargin(18)
        self.apply_style()
        shrink_block_at(document, 0)

    def apply_style(self) -> None:
        """The style sheet and default font of the current theme, at the current zoom (for
        what is inserted from now on)."""
        self.document.setDefaultStyleSheet(zoomed_css(theme.CHAT_CSS, self.zoom))
        self.document.setDefaultFont(zoomed_font(theme.body_font(), self.zoom))

    def set_zoom(self, zoom: float) -> None:
        """Every font size of the conversation times `zoom` (1.0: normal)."""
        if zoom == self.zoom:
            return
        old, self.zoom = self.zoom, zoom
        self.apply_style()
        with self.edit_block():
            rescale(self.document, old, zoom)
            rehang(self.document)

    def clear(self) -> None:
        self.entries.clear()
        self.document.clear()
        shrink_block_at(self.document, 0)

    @contextmanager
    def edit_block(self) -> Iterator[None]:
        """Makes everything done inside one document edit (edit blocks nest)."""
        cursor = QTextCursor(self.document)
        cursor.beginEditBlock()
        try:
            yield
        finally:
            cursor.endEditBlock()

    def ids_in_order(self) -> list[int]:
        return sorted(self.entries, key=lambda key: self.entries[key].frame.firstPosition())

    def top_entry(self) -> MessageEntry | None:
        """The message shown first in the document."""
        return min(self.entries.values(), key=lambda e: e.frame.firstPosition(), default=None)

    # --- whole messages -------------------------------------------------------------------

    def add_stored(self, message: MessageView, *, at_top: bool = False) -> MessageEntry:
        """Renders a complete message at the end (or at the top) of the document."""
        with self.edit_block():
            entry = self.create_message(message.id, message.role, at_top=at_top)
            entry.sibling_index = message.sibling_index
            entry.sibling_count = message.sibling_count
            entry.created_at = message.created_at
            entry.figures = message.figures
            self.render_header(entry)
            if message.reasoning:
                entry.reasoning = self.add_reasoning(entry, is_open=False, streaming=False)
                entry.reasoning.add(sanitize(message.reasoning))
                entry.reasoning.ms = message.reasoning_ms
                self.render_reasoning(entry)
            shown = entry.paging.take(message.content)
            if message.role == "user":
                self.insert_plain_text(entry, shown.rstrip("\n"))
            else:
                rendered = render_document(shown)
                entry.code_blocks = rendered.code_blocks
                self.apply_render(entry, RenderUpdate(rendered.html, ""), final=True)
            self.shrink_if_empty(entry)
            self.show_more_line(entry)
            self.set_note(entry, message.status, message.error_kind, message.error_message)
        return entry

    def render_header(self, entry: MessageEntry) -> None:
        if not self.compact:
            render_header(self.document, entry, self)
            self.links_changed(entry)

    def render_footer(self, entry: MessageEntry) -> None:
        render_footer(self.document, entry, self)
        self.links_changed(entry)

    def create_message(self, message_id: int, role: str, *, at_top: bool = False) -> MessageEntry:
        """An empty message box (header line and answer frame) at the end or at the top."""
        if message_id in self.entries:
            raise ValueError(f"message {message_id} is already shown")
        document = self.document
        with self.edit_block():
            cursor = QTextCursor(document)
            # The document starts with an empty block and ends with one; each message box
            # goes after the first (at the top) or after the last, and leaves a new empty
            # block behind it: the gap between two boxes.
            cursor.movePosition(
                QTextCursor.MoveOperation.Start if at_top else QTextCursor.MoveOperation.End
            )
            frame = cursor.insertFrame(theme.message_frame_format(role, compact=self.compact))
            if self.compact:
                cursor.setBlockFormat(theme.spacer_block_format())
                cursor.setBlockCharFormat(theme.spacer_char_format())
            else:
                cursor.setBlockFormat(theme.header_block_format())
                label = ROLE_LABELS.get(role, role.capitalize())
                cursor.insertText(label, zoomed(theme.header_char_format(role), self.zoom))
            answer = cursor.insertFrame(theme.plain_frame_format())
            shrink_block_at(document, frame.lastPosition())  # the gap below the answer
            shrink_block_at(document, frame.lastPosition() + 1)  # the gap below the box
        entry = MessageEntry(message_id, role, frame, answer)
        self.entries[message_id] = entry
        return entry

    def remove_message(self, message_id: int) -> None:
        remove_frame(self.document, self.entries.pop(message_id).frame)

    def answer_selection(self, entry: MessageEntry) -> QTextCursor:
        cursor = QTextCursor(self.document)
        cursor.setPosition(entry.answer.firstPosition())
        cursor.setPosition(entry.answer.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def shrink_if_empty(self, entry: MessageEntry) -> None:
        """An answer with no text (e.g. failed before the first token) takes no room."""
        if entry.answer.firstPosition() == entry.answer.lastPosition():
            shrink_block_at(self.document, entry.answer.firstPosition())

    def insert_plain_text(self, entry: MessageEntry, text: str) -> None:
        """Appends plain text (a prompt) to the answer frame, with break opportunities."""
        cursor = QTextCursor(self.document)
        cursor.setPosition(entry.answer.lastPosition())
        if entry.answer.firstPosition() == entry.answer.lastPosition():
            cursor.setBlockFormat(theme.user_text_block_format())
        cursor.insertText(break_long_plain_words(sanitize(text)), QTextCharFormat())

    def append_page(self, entry: MessageEntry, text: str, fence: str | None = None) -> None:
        """Lays out the next part of a finished message after what is shown of it; `fence`
        reopens the code block the shown part ended inside of."""
        with self.edit_block():
            if entry.role == "user":
                self.insert_plain_text(entry, text.rstrip("\n"))
            else:
                if fence is not None:
                    text = f"{fence}\n{text}"
                rendered = render_document(text, code_base=len(entry.code_blocks))
                entry.code_blocks = entry.code_blocks + rendered.code_blocks
                self.apply_render(entry, RenderUpdate(rendered.html, ""), final=True)
            self.show_more_line(entry)

    def show_more_line(self, entry: MessageEntry) -> None:
        """The line under a message that is not laid out whole (removed once it is)."""
        with self.edit_block():
            if not entry.paging.needs_line:
                if entry.more is not None:
                    remove_frame(self.document, entry.more)
                    entry.more = None
                return
            if entry.more is None:
                cursor = QTextCursor(self.document)
                cursor.setPosition(entry.answer.lastPosition() + 1)
                entry.more = cursor.insertFrame(theme.waiting_frame_format())
                shrink_block_at(self.document, entry.more.lastPosition() + 1)
            cursor = QTextCursor(self.document)
            cursor.setPosition(entry.more.firstPosition())
            cursor.setPosition(entry.more.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            cursor.setBlockFormat(QTextBlockFormat())
            dim = zoomed(theme.waiting_char_format(), self.zoom)
            cursor.insertText(entry.paging.summary(), dim)
            actions = [("show-more", "Show more")] if entry.paging.cut else []
            for action, label in [*actions, ("open-text", "Open as text")]:
                cursor.insertText("    ", dim)
                link = theme.link_char_format(f"{action}:{entry.message_id}")
                cursor.insertText(label, zoomed(link, self.zoom))

    # --- the answer: frozen blocks and the open tail ---------------------------------------

    def apply_render(self, entry: MessageEntry, update: RenderUpdate, *, final: bool) -> None:
        start = entry.answer.firstPosition() + entry.tail_offset
        if TABLE_NOTE_HTML in update.frozen_html or TABLE_NOTE_HTML in update.tail_html:
            entry.paging.table_cut = True
        frozen = self.adjust_html(adapt_html(entry.message_id, update.frozen_html), False)
        tail = self.adjust_html(adapt_html(entry.message_id, update.tail_html), True)
        with self.edit_block():
            tail_start = replace_region(self.document, start, entry.answer, frozen, tail, final)
            if "<pre" in frozen or "<pre" in tail:
                hang_code_lines(self.document, start, entry.answer.lastPosition())
        entry.tail_offset = tail_start - entry.answer.firstPosition()

    def freeze_tail(self, entry: MessageEntry) -> None:
        """The tail on screen is final as it is: nothing before the end is edited again."""
        entry.tail_offset = entry.answer.lastPosition() - entry.answer.firstPosition()
        entry.tail_html = None

    # --- reasoning (reasoning_parts.py) -----------------------------------------------------

    def add_reasoning(self, entry: MessageEntry, *, is_open: bool, streaming: bool) -> Reasoning:
        with self.edit_block():
            return add_reasoning(self.document, entry, is_open=is_open, streaming=streaming)

    def render_reasoning(self, entry: MessageEntry) -> None:
        render_reasoning(self.document, entry, self.zoom)

    def render_reasoning_title(self, entry: MessageEntry) -> None:
        render_reasoning_title(self.document, entry, self.zoom)

    def append_reasoning_text(self, reasoning: Reasoning, text: str) -> None:
        append_reasoning_text(self.document, reasoning, text, self.zoom)

    # --- the waiting line -----------------------------------------------------------------

    def set_waiting(self, entry: MessageEntry, note: str | None) -> None:
        """Shows (or removes) a dim plain-text line in the answer's place.

        An update rewrites the line inside its frame: adding or removing a frame rescans every
        frame of the document, and the line changes about once a second.
        """
        text = sanitize(note or "").replace("\n", " ").strip()
        with self.edit_block():
            if not text:
                if entry.waiting is not None:
                    remove_frame(self.document, entry.waiting)
                    entry.waiting = None
                return
            if entry.waiting is None:
                cursor = QTextCursor(self.document)
                cursor.setPosition(entry.answer.lastPosition() + 1)  # the gap below the answer
                entry.waiting = cursor.insertFrame(theme.waiting_frame_format())
                shrink_block_at(self.document, entry.waiting.lastPosition() + 1)
            cursor = QTextCursor(self.document)
            cursor.setPosition(entry.waiting.firstPosition())
            cursor.setPosition(entry.waiting.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            cursor.setBlockFormat(QTextBlockFormat())
            dim = zoomed(theme.waiting_char_format(), self.zoom)
            cursor.insertText(text, dim)  # plain text, never HTML

    # --- notes ----------------------------------------------------------------------------

    def set_note(
        self, entry: MessageEntry, status: str, error_kind: str | None, error_message: str | None
    ) -> None:
        """Shows (or removes) the note below a message: the error never goes into the answer.
        The figures line follows the status (Regenerate only once the answer has ended)."""
        entry.status = status
        entry.error = (error_kind, error_message)
        with self.edit_block():
            if entry.note is not None:
                remove_frame(self.document, entry.note)
                entry.note = None
            if status in STATUSES_WITH_NOTES:
                entry.note = create_note(self.document, entry, entry.error, self)
            self.render_footer(entry)
