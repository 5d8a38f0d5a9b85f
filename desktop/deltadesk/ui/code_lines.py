"""Code lines that wrap keep their indentation visible: a hanging indent.

Each line of a code card is a block of its own (Qt makes one of every line of a <pre>). In a
narrow window a long line wraps; without help its continuation starts at the left edge and
hides Python's indentation. So every code line gets a left margin of its indentation plus
HANG_EXTRA_CHARS characters, and a negative first-line indent of the same width: the first
line starts where it always did, the continuation lines start deeper than the line's own
indentation. The text is untouched (copying gives the code exactly).

This runs over the blocks an edit just inserted (the frozen part and the open tail of an
answer): no more work than the insertion itself.
"""

from __future__ import annotations

from PySide6.QtGui import (
    QFont,
    QFontMetricsF,
    QTextBlock,
    QTextBlockFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)

from deltadesk.ui import theme

HANG_CHARS = QTextFormat.Property.UserProperty.value + 0x6A3  # a block's hang, in characters
HANG_EXTRA_CHARS = 4
MAX_HANG_CHARS = 40
TAB_CHARS = 4
MIN_WRAPPING_CHARS = 16  # a shorter line does not wrap in any window worth reading code in
# At most this share of the text width goes to the hang, a small one since the code card sits
# inside the message's margins: in a narrow compare column a deep line kept 6-9 characters
# per continuation line ("client.cl" / "ose()").
MAX_HANG_SHARE = 0.2


def hang_code_lines(document: QTextDocument, start: int, end: int) -> None:
    """Gives the code lines among the blocks from `start` to `end` their hanging indent."""
    block = document.findBlock(start)
    cursor: QTextCursor | None = None
    width = 0.0
    while block.isValid() and block.position() <= end:
        chars = _hang_chars(block)
        if chars is not None:
            if cursor is None:
                cursor = QTextCursor(document)
                width = _char_width(document, block)
            _set_hang(cursor, block, chars, width)
        block = block.next()


def rehang(document: QTextDocument) -> None:
    """Every code line's margins again (the font size changed)."""
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    block = document.begin()
    width: float | None = None
    while block.isValid():
        chars = block.blockFormat().property(HANG_CHARS)
        if isinstance(chars, int):
            if width is None:
                width = _char_width(document, block)
            _set_hang(cursor, block, chars, width)
        block = block.next()
    cursor.endEditBlock()


def _set_hang(cursor: QTextCursor, block: QTextBlock, chars: int, width: float) -> None:
    block_format = QTextBlockFormat()
    block_format.setProperty(HANG_CHARS, chars)  # as wanted; the width decides what fits
    hang = chars * width
    text_width = cursor.document().textWidth()
    if text_width > 0:
        hang = min(hang, max(HANG_EXTRA_CHARS * width, MAX_HANG_SHARE * text_width))
    block_format.setLeftMargin(hang)
    block_format.setTextIndent(-hang)
    cursor.setPosition(block.position())
    cursor.mergeBlockFormat(block_format)


def _hang_chars(block: QTextBlock) -> int | None:
    """The hang of a code line in characters; None for any other block (and for a line too
    short to wrap)."""
    text = block.text()
    if len(text) < MIN_WRAPPING_CHARS or not text.strip():
        return None
    # A line of a code card: the card's background on the block (Qt gives the block of a
    # <pre> in a table cell the cell's), in the code font. (Tables themselves are not known
    # yet inside an unfinished edit; these are.)
    if not block.blockFormat().hasProperty(QTextFormat.Property.BackgroundBrush):
        return None
    iterator = block.begin()
    if iterator.atEnd():
        return None
    families = iterator.fragment().charFormat().fontFamilies()
    if not isinstance(families, list) or theme.MONO_FAMILIES[0] not in families:
        return None
    stripped = text.lstrip(" \t")
    indent = text[: len(text) - len(stripped)]
    columns = indent.count(" ") + TAB_CHARS * indent.count("\t")
    return min(columns + HANG_EXTRA_CHARS, MAX_HANG_CHARS)


def _char_width(document: QTextDocument, block: QTextBlock) -> float:
    """The width of one character of the code font, as the document draws it."""
    iterator = block.begin()
    font = iterator.fragment().charFormat().font() if not iterator.atEnd() else QFont()
    resolved = font.resolve(document.defaultFont())
    return QFontMetricsF(resolved).horizontalAdvance(" ")
