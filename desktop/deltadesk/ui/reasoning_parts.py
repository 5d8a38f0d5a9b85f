"""A message's reasoning in the chat document: a toggle line ("▸ Thought for 3.2 s") and,
when open, the text (at most a page of it laid out).

The time comes from the stream's figures (how long the model thought before it answered) or
from the stored message; when it is not known the line says only "Thought": a count of words
is not a time and would read as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtGui import QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument, QTextFrame

from deltadesk.core.durations import thought_time
from deltadesk.core.markdown_safety import break_long_plain_words
from deltadesk.ui import theme
from deltadesk.ui.document_regions import shrink_block_at
from deltadesk.ui.document_zoom import zoomed
from deltadesk.ui.long_messages import PAGE_CHARS

if TYPE_CHECKING:
    from deltadesk.ui.chat_document import MessageEntry


@dataclass
class Reasoning:
    frame: QTextFrame
    text: list[str] = field(default_factory=list)
    is_open: bool = True
    streaming: bool = True
    shown: int = 0  # characters of it laid out (at most a page)
    ms: float | None = None  # how long the model thought, when known

    def add(self, text: str) -> None:
        self.text.append(text)


def add_reasoning(
    document: QTextDocument, entry: MessageEntry, *, is_open: bool, streaming: bool
) -> Reasoning:
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    cursor.setPosition(entry.frame.firstPosition())
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)  # end of the header line
    frame = cursor.insertFrame(theme.reasoning_frame_format())
    shrink_block_at(document, frame.lastPosition() + 1)
    cursor.endEditBlock()
    return Reasoning(frame, is_open=is_open, streaming=streaming)


def render_reasoning(document: QTextDocument, entry: MessageEntry, zoom: float) -> None:
    """Rewrites the reasoning frame: the toggle line, and the text when open."""
    reasoning = entry.reasoning
    assert reasoning is not None
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    cursor.setPosition(reasoning.frame.firstPosition())
    cursor.setPosition(reasoning.frame.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    cursor.setBlockFormat(QTextBlockFormat())
    cursor.insertText(reasoning_title(reasoning), _toggle_format(entry, zoom))
    if reasoning.is_open:
        text_format = zoomed(theme.reasoning_char_format(), zoom)
        cursor.insertBlock(theme.reasoning_block_format(), text_format)
        shown = "".join(reasoning.text).strip("\n")
        reasoning.shown = min(len(shown), PAGE_CHARS)
        cursor.insertText(_reasoning_page(shown), text_format)
    cursor.endEditBlock()


def render_reasoning_title(document: QTextDocument, entry: MessageEntry, zoom: float) -> None:
    """Rewrites only the toggle line (the text below it stays as laid out)."""
    reasoning = entry.reasoning
    assert reasoning is not None
    block = document.findBlock(reasoning.frame.firstPosition())
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    cursor.setPosition(block.position())
    cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    cursor.insertText(reasoning_title(reasoning), _toggle_format(entry, zoom))
    cursor.endEditBlock()


def _toggle_format(entry: MessageEntry, zoom: float) -> QTextCharFormat:
    return zoomed(theme.toggle_char_format(f"toggle-reasoning:{entry.message_id}"), zoom)


def append_reasoning_text(
    document: QTextDocument, reasoning: Reasoning, text: str, zoom: float
) -> None:
    """Streams reasoning in; past one page of it the rest is only counted, not laid out
    (the thinking of a model that loops forever would freeze the window)."""
    if len(reasoning.text) == 1:
        text = text.lstrip("\n")
    room = PAGE_CHARS - reasoning.shown
    if room <= 0:
        return
    cursor = QTextCursor(document)
    cursor.setPosition(reasoning.frame.lastPosition())
    part = text[:room] + ("\n…" if len(text) > room else "")
    reasoning.shown += len(text[:room])
    cursor.insertText(break_long_plain_words(part), zoomed(theme.reasoning_char_format(), zoom))


def _reasoning_page(text: str) -> str:
    if len(text) > PAGE_CHARS:
        text = text[:PAGE_CHARS] + "\n…"
    return break_long_plain_words(text)


def reasoning_title(reasoning: Reasoning) -> str:
    arrow = "▾" if reasoning.is_open else "▸"
    if reasoning.streaming:
        return f"{arrow} Thinking…"
    if reasoning.ms is None:
        return f"{arrow} Thought"
    return f"{arrow} Thought for {thought_time(reasoning.ms)}"
