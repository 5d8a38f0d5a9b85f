"""Colours, fonts and the rich-text style sheet shared by the widgets.

One light theme, set explicitly (the chat view does not follow a dark system palette half-way:
code colours from pygments are chosen for a light background).
"""

from __future__ import annotations

from PySide6.QtGui import (
    QColor,
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextFrameFormat,
    QTextLength,
)

# --- colours ----------------------------------------------------------------------------------
BACKGROUND = "#ffffff"
TEXT = "#1f2328"
MUTED = "#6e7781"
FAINT = "#8c959f"
ACCENT = "#0969da"
RULE = "#d8dee4"

USER_BACKGROUND = "#eef4fc"
USER_BORDER = "#d3e2f7"
REASONING_BACKGROUND = "#f6f8fa"
REASONING_TEXT = "#6e7781"

CODE_BACKGROUND = "#f6f8fa"
CODE_HEADER_BACKGROUND = "#eaeef2"
CODE_BORDER = "#d0d7de"
INLINE_CODE_BACKGROUND = "#eff1f3"

ERROR_TEXT = "#b42318"
ERROR_BACKGROUND = "#fef3f2"
ERROR_BORDER = "#fecdca"
WARNING_TEXT = "#8a5300"
WARNING_BACKGROUND = "#fff8e6"
WARNING_BORDER = "#f5d9a0"

# --- fonts ------------------------------------------------------------------------------------
SANS_FAMILIES = ["Inter", "Segoe UI", "SF Pro Text", "Helvetica Neue", "Noto Sans", "DejaVu Sans"]
MONO_FAMILIES = [
    "JetBrains Mono",
    "Cascadia Code",
    "SF Mono",
    "Menlo",
    "Consolas",
    "DejaVu Sans Mono",
]
BODY_POINT_SIZE = 10.5
MONO_CSS = ", ".join(f"'{family}'" for family in MONO_FAMILIES) + ", monospace"


def body_font() -> QFont:
    font = QFont()
    font.setFamilies(SANS_FAMILIES)
    font.setPointSizeF(BODY_POINT_SIZE)
    return font


def color(name: str) -> QColor:
    return QColor(name)


# --- the chat document's style sheet ----------------------------------------------------------
# Qt rich text supports a subset of CSS 2.1: type and class selectors, margins, colours, fonts,
# borders on tables and cells; no padding on paragraphs (code cards are one-cell tables).
CHAT_CSS = f"""
body {{ color: {TEXT}; }}
p {{ margin-top: 0px; margin-bottom: 9px; }}
h1, h2, h3, h4, h5, h6 {{ color: {TEXT}; margin-top: 12px; margin-bottom: 6px; }}
h1 {{ font-size: 19px; }}
h2 {{ font-size: 17px; }}
h3 {{ font-size: 15px; }}
h4, h5, h6 {{ font-size: 14px; }}
a {{ color: {ACCENT}; text-decoration: none; }}
ul, ol {{ margin-top: 0px; margin-bottom: 9px; }}
li {{ margin-bottom: 2px; }}
blockquote {{ color: {MUTED}; margin-left: 14px; margin-top: 0px; margin-bottom: 9px; }}
code {{ font-family: {MONO_CSS}; background-color: {INLINE_CODE_BACKGROUND}; }}
code.math {{ color: #4b3b8f; background-color: #f4f1fb; }}
pre {{ font-family: {MONO_CSS}; white-space: pre-wrap; margin: 0px; }}
table.code {{ border-collapse: collapse; border: 1px solid {CODE_BORDER};
    background-color: {CODE_BACKGROUND}; margin-top: 2px; margin-bottom: 10px; }}
td.code-head {{ background-color: {CODE_HEADER_BACKGROUND}; color: {MUTED}; font-size: 12px;
    border-bottom: 1px solid {CODE_BORDER}; }}
td.code-body {{ background-color: {CODE_BACKGROUND}; }}
span.code-lang {{ color: {MUTED}; }}
a.code-copy {{ color: {ACCENT}; }}
table.md {{ border-collapse: collapse; border: 1px solid {CODE_BORDER};
    margin-top: 2px; margin-bottom: 10px; }}
table.md td, table.md th {{ border: 1px solid {CODE_BORDER}; padding: 4px 8px; }}
table.md th {{ background-color: {CODE_BACKGROUND}; font-weight: 600; }}
p.table-gap {{ font-size: 1px; margin: 0px; }}
p.table-note {{ color: {MUTED}; font-style: italic; }}
hr {{ background-color: {RULE}; }}
"""

# The floating "Jump to latest" button.
JUMP_BUTTON_CSS = f"""
QToolButton {{
    background-color: {TEXT}; color: {BACKGROUND}; border: none; border-radius: 14px;
    padding: 5px 14px; font-weight: 600;
}}
QToolButton:hover {{ background-color: #32383f; }}
"""


# --- formats of the chat document's own parts (message boxes, notes, reasoning) ---------------


def spacer_block_format() -> QTextBlockFormat:
    """For the empty blocks Qt keeps between frames: one pixel high."""
    block_format = QTextBlockFormat()
    block_format.setLineHeight(1, QTextBlockFormat.LineHeightTypes.FixedHeight.value)
    return block_format


def spacer_char_format() -> QTextCharFormat:
    char_format = QTextCharFormat()
    char_format.setFontPointSize(1)
    return char_format


def message_frame_format(role: str, *, compact: bool = False) -> QTextFrameFormat:
    frame_format = QTextFrameFormat()
    if compact:  # a compare column: the column's own frame is the box
        frame_format.setPadding(2)
        frame_format.setBorder(0)
        return frame_format
    frame_format.setPadding(12)
    frame_format.setTopMargin(6)
    frame_format.setBottomMargin(6)
    if role == "user":
        frame_format.setLeftMargin(72)  # the user's messages stand apart, to the right
        frame_format.setBackground(QColor(USER_BACKGROUND))
        frame_format.setBorder(1)
        frame_format.setBorderBrush(QColor(USER_BORDER))
        frame_format.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
    else:
        frame_format.setRightMargin(24)
        frame_format.setBorder(0)
    return frame_format


def plain_frame_format() -> QTextFrameFormat:
    frame_format = QTextFrameFormat()
    frame_format.setBorder(0)
    frame_format.setPadding(0)
    frame_format.setMargin(0)
    frame_format.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
    return frame_format


def reasoning_frame_format() -> QTextFrameFormat:
    frame_format = plain_frame_format()
    frame_format.setPadding(8)
    frame_format.setTopMargin(4)
    frame_format.setBottomMargin(8)
    frame_format.setBackground(QColor(REASONING_BACKGROUND))
    return frame_format


def note_frame_format(status: str) -> QTextFrameFormat:
    frame_format = plain_frame_format()
    frame_format.setTopMargin(6)
    if status == "stopped":
        return frame_format
    background, border = (
        (ERROR_BACKGROUND, ERROR_BORDER)
        if status == "failed"
        else (WARNING_BACKGROUND, WARNING_BORDER)
    )
    frame_format.setPadding(8)
    frame_format.setBackground(QColor(background))
    frame_format.setBorder(1)
    frame_format.setBorderBrush(QColor(border))
    frame_format.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
    return frame_format


def waiting_frame_format() -> QTextFrameFormat:
    frame_format = plain_frame_format()
    frame_format.setTopMargin(2)
    return frame_format


def waiting_char_format() -> QTextCharFormat:
    char_format = QTextCharFormat()
    char_format.setForeground(QColor(FAINT))
    char_format.setFontItalic(True)
    char_format.setFontPointSize(BODY_POINT_SIZE - 0.5)
    return char_format


def header_block_format() -> QTextBlockFormat:
    block_format = QTextBlockFormat()
    block_format.setBottomMargin(6)
    return block_format


def header_char_format(role: str) -> QTextCharFormat:
    char_format = QTextCharFormat()
    char_format.setFontWeight(QFont.Weight.DemiBold)
    char_format.setFontPointSize(BODY_POINT_SIZE - 1)
    char_format.setForeground(QColor(ACCENT if role == "user" else MUTED))
    return char_format


def user_text_block_format() -> QTextBlockFormat:
    block_format = QTextBlockFormat()
    block_format.setBottomMargin(0)
    return block_format


def reasoning_block_format() -> QTextBlockFormat:
    block_format = QTextBlockFormat()
    block_format.setTopMargin(6)
    return block_format


def reasoning_char_format() -> QTextCharFormat:
    char_format = QTextCharFormat()
    char_format.setForeground(QColor(REASONING_TEXT))
    char_format.setFontItalic(True)
    char_format.setFontPointSize(BODY_POINT_SIZE - 1)
    return char_format


def link_char_format(href: str) -> QTextCharFormat:
    char_format = QTextCharFormat()
    char_format.setAnchor(True)
    char_format.setAnchorHref(href)
    char_format.setForeground(QColor(ACCENT))
    char_format.setFontWeight(QFont.Weight.DemiBold)
    return char_format


def toggle_char_format(href: str) -> QTextCharFormat:
    char_format = link_char_format(href)
    char_format.setForeground(QColor(MUTED))
    char_format.setFontPointSize(BODY_POINT_SIZE - 1)
    return char_format


def note_char_format(status: str) -> QTextCharFormat:
    char_format = QTextCharFormat()
    colors = {"failed": ERROR_TEXT, "interrupted": WARNING_TEXT}
    char_format.setForeground(QColor(colors.get(status, FAINT)))
    if status == "stopped":
        char_format.setFontItalic(True)
    char_format.setFontPointSize(BODY_POINT_SIZE - 0.5)
    return char_format


def figures_char_format() -> QTextCharFormat:
    """The dim line of figures under an answer (model, first token, tok/s, tokens, status)."""
    char_format = QTextCharFormat()
    char_format.setForeground(QColor(FAINT))
    char_format.setFontPointSize(BODY_POINT_SIZE - 1.5)
    return char_format


def small_link_char_format(href: str) -> QTextCharFormat:
    """A quiet action link in a header or figures line (Edit, Regenerate, ◀ ▶)."""
    char_format = link_char_format(href)
    char_format.setFontWeight(QFont.Weight.Normal)
    char_format.setFontPointSize(BODY_POINT_SIZE - 1.5)
    return char_format


def header_detail_char_format() -> QTextCharFormat:
    """The parts of a header line that are not links: the branch position, a disabled arrow,
    the time."""
    char_format = QTextCharFormat()
    char_format.setForeground(QColor(FAINT))
    char_format.setFontPointSize(BODY_POINT_SIZE - 1.5)
    return char_format
