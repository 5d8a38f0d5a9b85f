"""Showing a search hit in the chat view: the message scrolled into view, the query's words
highlighted in it.

The message may not be laid out yet: an older message of a long conversation still waiting
to be rendered (it is rendered now), or a word past the page of a long message shown so far
(pages are laid out until it is). The highlight is an extra selection of the view, not a
change of the document: nothing to undo, and it goes with the next conversation shown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

if TYPE_CHECKING:
    from deltadesk.ui.chat_view import ChatView

MAX_WORDS = 12
MAX_HIGHLIGHTS = 400
HIGHLIGHT_BACKGROUND = "#ffd84d"
HIGHLIGHT_TEXT = "#1f2328"
_WORD = re.compile(r"\w+")


def query_words(query: str) -> list[str]:
    """The words of a search query, as the full-text index reads it (operators and quotes
    are not words)."""
    words = []
    for word in _WORD.findall(query.casefold()):
        if word not in words and word not in ("and", "or", "not", "near"):
            words.append(word)
    return words[:MAX_WORDS]


def hit_pattern(words: list[str]) -> str:
    """A word of the message that starts with one of the query's words."""
    return r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\w*"


def reveal(view: ChatView, message_id: int, query: str) -> bool:
    entry = view._find(message_id)  # a message waiting above is rendered now
    if entry is None:
        return False
    view._entry(message_id)  # text held back from a hidden view, rendered
    words = query_words(query)
    if words:
        _lay_out_through_first_hit(view, message_id, hit_pattern(words))
    cursors = _hits(
        view.document(), entry.answer.firstPosition(), entry.answer.lastPosition(), words
    )
    view.set_overlay("search", [_highlight(cursor) for cursor in cursors])
    _scroll_to(view, cursors[0] if cursors else None, entry.frame.firstPosition())
    return True


def _lay_out_through_first_hit(view: ChatView, message_id: int, pattern: str) -> None:
    """Shows more pages of a long message until its first hit is among them."""
    entry = view._chat.entries[message_id]
    match = re.search(pattern, entry.paging.text(), re.IGNORECASE)
    while match is not None and entry.paging.cut and entry.paging.laid_out < match.end():
        laid_out = entry.paging.laid_out
        view.show_more(message_id)
        if entry.paging.laid_out == laid_out:
            break


def _hits(document: QTextDocument, start: int, end: int, words: list[str]) -> list[QTextCursor]:
    if not words:
        return []
    expression = QRegularExpression(
        hit_pattern(words),
        QRegularExpression.PatternOption.CaseInsensitiveOption
        | QRegularExpression.PatternOption.UseUnicodePropertiesOption,
    )
    found: list[QTextCursor] = []
    cursor = QTextCursor(document)
    cursor.setPosition(start)
    while len(found) < MAX_HIGHLIGHTS:
        cursor = document.find(expression, cursor)
        if cursor.isNull() or cursor.selectionEnd() > end or not cursor.hasSelection():
            break
        found.append(QTextCursor(cursor))
    return found


def _highlight(cursor: QTextCursor) -> QTextEdit.ExtraSelection:
    selection = QTextEdit.ExtraSelection()
    char_format = QTextCharFormat()
    char_format.setBackground(QColor(HIGHLIGHT_BACKGROUND))
    char_format.setForeground(QColor(HIGHLIGHT_TEXT))
    selection.cursor = cursor
    selection.format = char_format
    return selection


def _scroll_to(view: ChatView, hit: QTextCursor | None, message_start: int) -> None:
    """The first hit about a third down the viewport (else the message's top)."""
    layout = view.document().documentLayout()
    layout.documentSize()  # laid out, the scroll range set
    if hit is None:
        hit = QTextCursor(view.document())
        hit.setPosition(message_start)
    top = view.cursorRect(hit).top()
    bar = view.verticalScrollBar()
    view._following = False
    bar.setValue(bar.value() + top - view.viewport().height() // 3)
