"""The conversation view: one QTextBrowser, one QTextDocument for the whole conversation.

Each message is a QTextFrame (a styled box) holding a header line, an optional reasoning frame,
the answer frame and an optional note frame (error / stopped / interrupted). While an answer
streams, the markdown renderer hands over HTML for blocks that just became final (inserted
once, never touched again) and for the open tail (replacing the previous tail). Only the
region from the tail start to the end of the answer frame is ever edited, so the work per
flush is proportional to the tail, not to the conversation.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QCursor,
    QDesktopServices,
    QGuiApplication,
    QPalette,
    QResizeEvent,
    QShowEvent,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFrame,
    QTextOption,
)
from PySide6.QtWidgets import QTextBrowser, QToolButton, QToolTip, QWidget

from deltadesk.core.markdown import (
    IncrementalMarkdown,
    RenderUpdate,
    render_document,
    sanitize,
)
from deltadesk.ui import theme

log = logging.getLogger(__name__)

# Within this many pixels of the bottom counts as "at the bottom" (keeps following the stream).
FOLLOW_SLACK_PX = 8
# A tail render slower than this defers the next one by RENDER_BACKOFF times its duration.
SLOW_RENDER_SECONDS = 0.012
RENDER_BACKOFF = 3.0
_EXTERNAL_SCHEMES = frozenset({"http", "https", "mailto"})

# QTextCursor.insertHtml merges the fragment's first block into the block at the cursor, which
# keeps the OLD block's format (a heading or a code card would lose its look). So every
# fragment is inserted behind a throwaway marker paragraph, which takes that merge and is then
# deleted together with its block separator; the real first block keeps its own format. A
# second marker between frozen HTML and tail HTML tells where the new tail starts.
_MARKER_ANCHOR = "deltadesk-marker"
_MARKER_HTML = f'<p><a name="{_MARKER_ANCHOR}">x</a></p>'
# Qt puts a table (a frame) right after the block before it, with no separator a marker could
# be removed by. An empty, tiny paragraph before every table keeps frame starts away from
# region boundaries, so streamed and one-shot documents come out block for block the same.
_TABLE_GAP = '<p class="table-gap">&nbsp;</p>'
_PARAGRAPH_SEPARATOR = "\u2029"  # how QTextDocument stores the end of a block
_CODE_CARD = re.compile(
    r'<p class="code-head">(?P<head>.*?)</p>\n<pre class="code">(?P<code>.*?)</pre>', re.DOTALL
)

ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUSES_WITH_NOTES = frozenset({"failed", "interrupted", "stopped"})


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


@dataclass
class _Reasoning:
    frame: QTextFrame
    text: list[str] = field(default_factory=list)
    words: int = 0
    ends_inside_word: bool = False
    is_open: bool = True
    streaming: bool = True

    def add(self, text: str) -> None:
        self.text.append(text)
        words = len(text.split())
        if words and self.ends_inside_word and not text[0].isspace():
            words -= 1  # the chunk continues the word the previous chunk ended in
        self.words += words
        self.ends_inside_word = not text[-1].isspace()


@dataclass
class _Message:
    message_id: int
    role: str
    frame: QTextFrame
    answer: QTextFrame
    code_blocks: list[str] = field(default_factory=list)
    markdown: IncrementalMarkdown | None = None  # set while streaming
    tail_offset: int = 0  # the open tail starts at answer.firstPosition() + tail_offset
    pending: list[str] = field(default_factory=list)  # text not rendered yet (see backoff)
    render_not_before: float = 0.0  # time.monotonic() before which renders are deferred
    answer_started: bool = False
    reasoning: _Reasoning | None = None
    note: QTextFrame | None = None


class ChatView(QTextBrowser):
    """The whole conversation in one document; the streaming message is the last one."""

    retry_requested = Signal(int)  # message id
    continue_requested = Signal(int)  # message id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keep_reasoning_open = False
        self._messages: dict[int, _Message] = {}
        self._streaming_id: int | None = None
        self._deferred_ids: set[int] = set()  # messages with text waiting for a render
        self._following = True
        self._setup_document()
        self._setup_widget()
        self.jump_button = self._make_jump_button()
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render_deferred)
        self.anchorClicked.connect(self._on_anchor_clicked)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        bar.valueChanged.connect(self._on_scroll_value_changed)

    # --- set-up ---------------------------------------------------------------------------

    def _setup_document(self) -> None:
        document = self.document()
        document.setUndoRedoEnabled(False)  # an undo stack would keep every replaced tail
        document.setDefaultStyleSheet(theme.CHAT_CSS)
        document.setDocumentMargin(18)
        document.setDefaultFont(theme.body_font())
        _shrink_block_at(document, 0)

    def _setup_widget(self) -> None:
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setFont(theme.body_font())
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(theme.BACKGROUND))
        palette.setColor(QPalette.ColorRole.Text, QColor(theme.TEXT))
        palette.setColor(QPalette.ColorRole.Link, QColor(theme.ACCENT))
        self.setPalette(palette)

    def _make_jump_button(self) -> QToolButton:
        # A child of the browser, not of the viewport: viewport scrolling moves its children.
        button = QToolButton(self)
        button.setText("↓  Jump to latest")
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setStyleSheet(theme.JUMP_BUTTON_CSS)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.clicked.connect(self.scroll_to_bottom)
        button.hide()
        return button

    # --- public API -----------------------------------------------------------------------

    def clear_messages(self) -> None:
        self._messages.clear()
        self._streaming_id = None
        self._deferred_ids.clear()
        self.document().clear()
        _shrink_block_at(self.document(), 0)
        self._following = True
        self._update_jump_button()

    def show_messages(self, messages: Sequence[MessageView]) -> None:
        """Replaces what is shown with a stored conversation."""
        self.clear_messages()
        for message in messages:
            self.add_message(message)
        self.scroll_to_bottom()

    def add_message(self, message: MessageView) -> None:
        """Appends a complete message (e.g. the user's prompt or a stored answer)."""
        entry = self._create_message(message.id, message.role)
        if message.reasoning:
            entry.reasoning = self._create_reasoning(entry, is_open=False, streaming=False)
            entry.reasoning.add(sanitize(message.reasoning))
            self._render_reasoning(entry)
        if message.role == "user":
            self._insert_plain_answer(entry, message.content)
        else:
            rendered = render_document(message.content)
            entry.code_blocks = rendered.code_blocks
            self._apply_render(entry, RenderUpdate(rendered.html, ""), final=True)
        self._shrink_if_empty(entry)
        self.set_message_error(
            message.id, message.status, message.error_kind, message.error_message
        )
        self._keep_following()

    def begin_streaming(self, message_id: int) -> None:
        """Appends an empty assistant message that will stream (or restarts a shown one)."""
        if message_id in self._messages:
            self._remove_message(self._messages[message_id])
        entry = self._create_message(message_id, "assistant")
        entry.markdown = IncrementalMarkdown()
        self._streaming_id = message_id
        self._update_jump_button()
        self._keep_following()

    def append_text(self, message_id: int, text: str) -> None:
        entry = self._streaming_entry(message_id)
        if entry is None or entry.markdown is None or not text:
            return
        if not entry.answer_started and text.strip():
            entry.answer_started = True
            self._fold_reasoning_when_answer_starts(entry)
        entry.pending.append(text)
        wait = entry.render_not_before - time.monotonic()
        if wait > 0:
            self._deferred_ids.add(message_id)
            if not self._render_timer.isActive():
                self._render_timer.start(max(1, int(wait * 1000)))
            return
        self._render_pending(entry)

    def append_reasoning(self, message_id: int, text: str) -> None:
        entry = self._streaming_entry(message_id)
        text = sanitize(text)
        if entry is None or not text:
            return
        if entry.reasoning is None:
            entry.reasoning = self._create_reasoning(entry, is_open=True, streaming=True)
            self._render_reasoning(entry)
        entry.reasoning.add(text)
        if entry.reasoning.is_open:
            self._insert_reasoning_text(entry.reasoning, text)
        self._keep_following()

    def end_streaming(
        self,
        message_id: int,
        status: str,
        error_kind: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Freezes the answer; status is done, stopped, failed or interrupted."""
        entry = self._messages.get(message_id)
        if entry is None:
            return
        if entry.markdown is not None:
            last = entry.markdown.append("".join(entry.pending))
            entry.pending.clear()
            final = entry.markdown.finish()
            update = RenderUpdate(last.frozen_html + final.frozen_html, "")
            self._apply_render(entry, update, final=True)
            entry.code_blocks = entry.markdown.code_blocks
            entry.markdown = None
            self._shrink_if_empty(entry)
        if entry.reasoning is not None and entry.reasoning.streaming:
            entry.reasoning.streaming = False
            entry.reasoning.is_open = self.keep_reasoning_open
            self._render_reasoning(entry)
        self.set_message_error(message_id, status, error_kind, error_message)
        if self._streaming_id == message_id:
            self._streaming_id = None
        self._update_jump_button()
        self._keep_following()

    def set_message_error(
        self,
        message_id: int,
        status: str,
        error_kind: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """Shows (or removes) the note below a message: the error never goes into the answer."""
        entry = self._messages.get(message_id)
        if entry is None:
            return
        if entry.note is not None:
            self._remove_frame(entry.note)
            entry.note = None
        if status in STATUSES_WITH_NOTES:
            entry.note = self._create_note(entry, status, error_kind, error_message)

    def message_plain_text(self, message_id: int) -> str:
        """The rendered answer text of one message."""
        return self._answer_selection(self._messages[message_id]).selection().toPlainText()

    def message_html(self, message_id: int) -> str:
        return self._answer_selection(self._messages[message_id]).selection().toHtml()

    def message_ids(self) -> list[int]:
        return list(self._messages)

    def answer_span(self, message_id: int) -> tuple[int, int]:
        """Document positions where the message's answer starts and ends."""
        answer = self._messages[message_id].answer
        return answer.firstPosition(), answer.lastPosition()

    def tail_position(self, message_id: int) -> int:
        """Document position where the message's open (re-rendered) tail starts; everything
        of the answer before it is frozen. After the stream ends: the end of the answer."""
        entry = self._messages[message_id]
        return entry.answer.firstPosition() + entry.tail_offset

    @property
    def following(self) -> bool:
        """True while the view keeps itself scrolled to the newest text."""
        return self._following

    def scroll_to_bottom(self) -> None:
        self._following = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._update_jump_button()

    # --- resources and links --------------------------------------------------------------

    def loadResource(self, type: int, name: QUrl) -> object:
        """Loads nothing: no remote images, no local files, whatever the document asks for."""
        return None

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        target = url.path()
        if scheme == "copy":
            self._copy_code(target)
        elif scheme in ("retry", "continue", "toggle-reasoning"):
            self._on_message_action(scheme, target)
        elif scheme in _EXTERNAL_SCHEMES:
            QDesktopServices.openUrl(url)
        else:
            log.info("ignored a link with scheme %r", scheme)

    def _on_message_action(self, action: str, target: str) -> None:
        if not target.isdigit():
            return
        message_id = int(target)
        if action == "retry":
            self.retry_requested.emit(message_id)
        elif action == "continue":
            self.continue_requested.emit(message_id)
        else:
            self.toggle_reasoning(message_id)

    def _copy_code(self, target: str) -> None:
        message_part, _, index_part = target.partition(".")
        if not (message_part.isdigit() and index_part.isdigit()):
            return
        entry = self._messages.get(int(message_part))
        index = int(index_part)
        if entry is not None and index < len(entry.code_blocks):
            QGuiApplication.clipboard().setText(entry.code_blocks[index])
            QToolTip.showText(QCursor.pos(), "Copied", self)

    # --- messages -------------------------------------------------------------------------

    def _create_message(self, message_id: int, role: str) -> _Message:
        if message_id in self._messages:
            raise ValueError(f"message {message_id} is already shown")
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        frame = cursor.insertFrame(theme.message_frame_format(role))
        cursor.setBlockFormat(theme.header_block_format())
        cursor.insertText(ROLE_LABELS.get(role, role.capitalize()), theme.header_char_format(role))
        answer = cursor.insertFrame(theme.plain_frame_format())
        _shrink_block_at(self.document(), frame.lastPosition())  # the gap below the answer
        _shrink_block_at(self.document(), frame.lastPosition() + 1)  # the gap below the box
        entry = _Message(message_id, role, frame, answer)
        self._messages[message_id] = entry
        return entry

    def _remove_message(self, entry: _Message) -> None:
        self._remove_frame(entry.frame)
        del self._messages[entry.message_id]
        if self._streaming_id == entry.message_id:
            self._streaming_id = None

    def _remove_frame(self, frame: QTextFrame) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition() - 1)
        cursor.setPosition(frame.lastPosition() + 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()

    def _streaming_entry(self, message_id: int) -> _Message | None:
        entry = self._messages.get(message_id)
        if entry is None:
            log.debug("text for message %s, which is not shown", message_id)
        return entry

    def _insert_plain_answer(self, entry: _Message, text: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(entry.answer.firstPosition())
        cursor.setBlockFormat(theme.user_text_block_format())
        cursor.insertText(sanitize(text).rstrip("\n"), QTextCharFormat())

    def _shrink_if_empty(self, entry: _Message) -> None:
        """An answer with no text (e.g. failed before the first token) takes no room."""
        if entry.answer.firstPosition() == entry.answer.lastPosition():
            _shrink_block_at(self.document(), entry.answer.firstPosition())

    def _answer_selection(self, entry: _Message) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(entry.answer.firstPosition())
        cursor.setPosition(entry.answer.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        return cursor

    # --- the answer: frozen blocks and the open tail ---------------------------------------

    def _render_pending(self, entry: _Message) -> None:
        """Renders the text that arrived since the last render (one markdown append)."""
        assert entry.markdown is not None
        started = time.monotonic()
        update = entry.markdown.append("".join(entry.pending))
        entry.pending.clear()
        self._apply_render(entry, update, final=False)
        entry.code_blocks = entry.markdown.code_blocks
        self._keep_following()
        # One huge open block (a giant paragraph or code block) makes every tail render
        # expensive. Then the next render waits a few times as long as this one took, so the
        # window stays responsive and the total work stays linear; the text catches up later.
        elapsed = time.monotonic() - started
        if elapsed > SLOW_RENDER_SECONDS:
            entry.render_not_before = started + elapsed * (1 + RENDER_BACKOFF)

    def _render_deferred(self) -> None:
        for message_id in list(self._deferred_ids):
            entry = self._messages.get(message_id)
            if entry is not None and entry.markdown is not None and entry.pending:
                self._render_pending(entry)
        self._deferred_ids.clear()

    def _apply_render(self, entry: _Message, update: RenderUpdate, *, final: bool) -> None:
        start = entry.answer.firstPosition() + entry.tail_offset
        frozen = self._adapt_html(entry.message_id, update.frozen_html)
        tail = self._adapt_html(entry.message_id, update.tail_html)
        tail_start = self._replace_region(start, entry.answer, frozen, tail, final=final)
        entry.tail_offset = tail_start - entry.answer.firstPosition()

    def _replace_region(
        self, start: int, frame: QTextFrame, frozen: str, tail: str, *, final: bool
    ) -> int:
        """Replaces [start, end of frame) with frozen + tail HTML; returns where the tail starts.

        Unless final, an (empty) block is kept for the tail even when there is no tail yet.
        """
        document = self.document()
        cursor = QTextCursor(document)
        cursor.setPosition(start)
        cursor.setPosition(frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        if not frozen and not tail:
            return start
        second_marker = not final or bool(tail)
        html = _MARKER_HTML + frozen if frozen else ""
        if second_marker:
            html += _MARKER_HTML + tail
        cursor.insertHtml(html)
        if frozen:
            _remove_marker_block(document, start)
        if not second_marker:
            return frame.lastPosition()
        return _remove_marker_block(document, _find_marker(document, start, frame))

    def _adapt_html(self, message_id: int, html: str) -> str:
        """Turns the renderer's HTML into what Qt shows well: code cards, bordered tables,
        copy links that name their message."""
        # A newline after the last closing tag would become a space at the end of the text.
        html = html.rstrip("\n")
        if not html:
            return html
        html = html.replace('href="copy:', f'href="copy:{message_id}.')
        html = html.replace("<table>", f'{_TABLE_GAP}<table class="md" cellspacing="0">')
        return _CODE_CARD.sub(_code_card, html)

    # --- reasoning ------------------------------------------------------------------------

    def _create_reasoning(self, entry: _Message, *, is_open: bool, streaming: bool) -> _Reasoning:
        cursor = QTextCursor(self.document())
        cursor.setPosition(entry.frame.firstPosition())
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)  # end of the header line
        frame = cursor.insertFrame(theme.reasoning_frame_format())
        _shrink_block_at(self.document(), frame.lastPosition() + 1)
        return _Reasoning(frame, is_open=is_open, streaming=streaming)

    def toggle_reasoning(self, message_id: int) -> None:
        entry = self._messages.get(message_id)
        if entry is None or entry.reasoning is None:
            return
        entry.reasoning.is_open = not entry.reasoning.is_open
        self._render_reasoning(entry)

    def _fold_reasoning_when_answer_starts(self, entry: _Message) -> None:
        reasoning = entry.reasoning
        if reasoning is None or not reasoning.is_open or self.keep_reasoning_open:
            return
        reasoning.is_open = False
        reasoning.streaming = False  # the thinking phase is over: "Thought for N words"
        self._render_reasoning(entry)

    def _render_reasoning(self, entry: _Message) -> None:
        """Rewrites the reasoning frame: the toggle line, and the text when open."""
        reasoning = entry.reasoning
        assert reasoning is not None
        cursor = QTextCursor(self.document())
        cursor.setPosition(reasoning.frame.firstPosition())
        cursor.setPosition(reasoning.frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setBlockFormat(QTextBlockFormat())
        cursor.insertText(
            _reasoning_title(reasoning),
            theme.toggle_char_format(f"toggle-reasoning:{entry.message_id}"),
        )
        if reasoning.is_open:
            cursor.insertBlock(theme.reasoning_block_format(), theme.reasoning_char_format())
            cursor.insertText("".join(reasoning.text).strip("\n"), theme.reasoning_char_format())

    def _insert_reasoning_text(self, reasoning: _Reasoning, text: str) -> None:
        cursor = QTextCursor(self.document())
        cursor.setPosition(reasoning.frame.lastPosition())
        if len(reasoning.text) == 1:
            text = text.lstrip("\n")
        cursor.insertText(text, theme.reasoning_char_format())

    # --- notes ----------------------------------------------------------------------------

    def _create_note(
        self, entry: _Message, status: str, error_kind: str | None, error_message: str | None
    ) -> QTextFrame:
        cursor = QTextCursor(self.document())
        cursor.setPosition(entry.answer.lastPosition() + 1)  # the gap block below the answer
        frame = cursor.insertFrame(theme.note_frame_format(status))
        _shrink_block_at(self.document(), frame.lastPosition() + 1)
        cursor.setBlockFormat(QTextBlockFormat())
        text_format = theme.note_char_format(status)
        cursor.insertText(_note_text(status, error_kind, error_message), text_format)
        actions = {"failed": ["Retry"], "interrupted": ["Continue", "Retry"]}.get(status, [])
        for action in actions:
            cursor.insertText("    ", text_format)
            cursor.insertText(
                action, theme.link_char_format(f"{action.lower()}:{entry.message_id}")
            )
        return frame

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
        show = self._streaming_id is not None and not self._following
        if show:
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


# --- helpers: markers ------------------------------------------------------------------------


def _is_marker(block: QTextBlock) -> bool:
    if block.text() != "x":
        return False
    fragment = block.begin().fragment()
    return _MARKER_ANCHOR in fragment.charFormat().anchorNames()


def _find_marker(document: QTextDocument, start: int, frame: QTextFrame) -> int:
    block = document.findBlock(start)
    end = frame.lastPosition()
    while block.isValid() and block.position() <= end:
        if _is_marker(block):
            return block.position()
        block = block.next()
    raise RuntimeError("region marker not found")  # cannot happen: it was just inserted


def _remove_marker_block(document: QTextDocument, position: int) -> int:
    """Deletes the marker paragraph at position; the block after it keeps its own format.

    Returns the position where the block after the marker now starts. A marker with nothing
    after it in the frame (an empty tail) leaves an empty block behind.
    """
    cursor = QTextCursor(document)
    cursor.setPosition(position)
    # A plain block separator after the "x" means a normal block follows in this frame; a
    # frame boundary there must not be deleted.
    followed_by_block = document.characterAt(position + 1) == _PARAGRAPH_SEPARATOR
    cursor.setPosition(position + (2 if followed_by_block else 1), QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    return position


def _code_card(match: re.Match[str]) -> str:
    return (
        f'{_TABLE_GAP}<table class="code" width="100%" cellspacing="0" cellpadding="8">'
        f'<tr><td class="code-head">{match["head"]}</td></tr>'
        f'<tr><td class="code-body"><pre>{match["code"]}</pre></td></tr></table>'
    )


# --- helpers: spacing ------------------------------------------------------------------------


def _shrink_block_at(document: QTextDocument, position: int) -> None:
    """Makes the empty block Qt keeps between two frames nearly invisible."""
    cursor = QTextCursor(document)
    cursor.setPosition(position)
    cursor.setBlockFormat(theme.spacer_block_format())
    cursor.setBlockCharFormat(theme.spacer_char_format())


def _reasoning_title(reasoning: _Reasoning) -> str:
    arrow = "▾" if reasoning.is_open else "▸"
    if reasoning.streaming:
        return f"{arrow} Thinking…"
    unit = "word" if reasoning.words == 1 else "words"
    return f"{arrow} Thought for {reasoning.words} {unit}"


def _note_text(status: str, error_kind: str | None, error_message: str | None) -> str:
    detail = sanitize(error_message or "").strip()
    if status == "stopped":
        return "Stopped"
    if status == "interrupted":
        return "⚠  The answer was cut off" + (f": {detail}" if detail else ".")
    kind = f" ({error_kind.replace('_', ' ')})" if error_kind else ""
    return "⚠  " + (detail or f"The request failed{kind}.")
