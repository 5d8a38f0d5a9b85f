"""Editing regions of the chat document with HTML: markers, frames and spacer blocks.

The chat document (chat_document.py) replaces one region per streamed flush: everything from
the start of an answer's open tail to the end of its frame. These helpers do that edit the
way QTextDocument needs it done, and turn the renderer's HTML into what Qt shows well.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QTextBlock, QTextCursor, QTextDocument, QTextFrame

from deltadesk.ui import theme

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


def replace_region(
    document: QTextDocument, start: int, frame: QTextFrame, frozen: str, tail: str, final: bool
) -> int:
    """Replaces [start, end of frame) with frozen + tail HTML; returns where the tail starts.

    Unless final, an (empty) block is kept for the tail even when there is no tail yet.
    """
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


def adapt_html(message_id: int, html: str) -> str:
    """Turns the renderer's HTML into what Qt shows well: code cards, bordered tables,
    copy links that name their message."""
    # A newline after the last closing tag would become a space at the end of the text.
    html = html.rstrip("\n")
    if not html:
        return html
    html = html.replace('href="copy:', f'href="copy:{message_id}.')
    html = html.replace("<table>", f'{_TABLE_GAP}<table class="md" cellspacing="0">')
    return _CODE_CARD.sub(_code_card, html)


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


def remove_frame(document: QTextDocument, frame: QTextFrame) -> None:
    cursor = QTextCursor(document)
    cursor.setPosition(frame.firstPosition() - 1)
    cursor.setPosition(frame.lastPosition() + 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()


def shrink_block_at(document: QTextDocument, position: int) -> None:
    """Makes the empty block Qt keeps between two frames nearly invisible."""
    cursor = QTextCursor(document)
    cursor.setPosition(position)
    cursor.setBlockFormat(theme.spacer_block_format())
    cursor.setBlockCharFormat(theme.spacer_char_format())
