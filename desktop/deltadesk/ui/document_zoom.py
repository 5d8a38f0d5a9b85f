"""Zooming the chat document: every font size in it times one factor.

The document's text gets its size from three places: the default font (most of the text),
the style sheet's pixel sizes (headings, code headers) and the explicit point sizes of the
view's own lines (headers, figures, notes). A zoom sets the first two anew for what is
inserted from then on (no work per streamed token: the tail's HTML simply comes in at the
new size) and rescales what is already there once, fragment by fragment. Each rescaled
fragment keeps its unzoomed size in a format property, so zooming in and out never drifts.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QFont, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat

# The fragment's size at zoom 1 (points, or pixels for a style-sheet size).
BASE_POINT_SIZE = QTextFormat.Property.UserProperty.value + 0x6A1
BASE_PIXEL_SIZE = QTextFormat.Property.UserProperty.value + 0x6A2
ZOOM_RANGE = (50, 300)  # percent
_CSS_FONT_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)px")


def zoom_factor(percent: int) -> float:
    low, high = ZOOM_RANGE
    return min(max(percent, low), high) / 100


def zoomed(char_format: QTextCharFormat, zoom: float) -> QTextCharFormat:
    """The format with its explicit point size (if any) times zoom."""
    size = char_format.fontPointSize()
    if size > 0 and zoom != 1.0:
        char_format.setProperty(BASE_POINT_SIZE, size)
        char_format.setFontPointSize(size * zoom)
    return char_format


def zoomed_font(font: QFont, zoom: float) -> QFont:
    font = QFont(font)
    if font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * zoom)
    return font


def zoomed_css(css: str, zoom: float) -> str:
    """The style sheet with its font sizes times zoom (at least 1 px)."""
    if zoom == 1.0:
        return css
    return _CSS_FONT_SIZE.sub(
        lambda m: f"font-size: {max(1, round(float(m.group(1)) * zoom))}px", css
    )


def rescale(document: QTextDocument, old: float, new: float) -> None:
    """Gives every fragment with a size of its own its size at zoom `new` (it was at `old`);
    one edit, so one layout pass."""
    cursor = QTextCursor(document)
    cursor.beginEditBlock()
    try:
        block = document.begin()
        while block.isValid():
            iterator = block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                iterator += 1
                change = _rescaled(fragment.charFormat(), old, new)
                if change is not None:
                    cursor.setPosition(fragment.position())
                    cursor.setPosition(
                        fragment.position() + fragment.length(), QTextCursor.MoveMode.KeepAnchor
                    )
                    cursor.mergeCharFormat(change)
            block = block.next()
    finally:
        cursor.endEditBlock()


def _rescaled(char_format: QTextCharFormat, old: float, new: float) -> QTextCharFormat | None:
    change = QTextCharFormat()
    if char_format.hasProperty(BASE_POINT_SIZE) or char_format.fontPointSize() > 0:
        base = (
            float(char_format.property(BASE_POINT_SIZE))
            if char_format.hasProperty(BASE_POINT_SIZE)
            else char_format.fontPointSize() / old
        )
        change.setProperty(BASE_POINT_SIZE, base)
        change.setFontPointSize(base * new)
        return change
    if char_format.hasProperty(QTextFormat.Property.FontPixelSize):
        pixels = int(char_format.intProperty(QTextFormat.Property.FontPixelSize))
        base = (
            float(char_format.property(BASE_PIXEL_SIZE))
            if char_format.hasProperty(BASE_PIXEL_SIZE)
            else pixels / old
        )
        change.setProperty(BASE_PIXEL_SIZE, base)
        change.setProperty(QTextFormat.Property.FontPixelSize, max(1, round(base * new)))
        return change
    return None
