"""Colours, fonts and the rich-text style sheet shared by the widgets.

Two palettes, light and dark (`LIGHT`, `DARK`); `use(palette)` makes one current. The module
constants (BACKGROUND, TEXT, ..., CHAT_CSS, JUMP_BUTTON_CSS) always hold the current palette's
values and every format function reads them when called, so what is built after a switch has
the new colours; what was built before keeps its own (the window re-styles its views, see
ui/appearance.py). The palettes' text colours keep a WCAG contrast of at least 4.5 against the
backgrounds they are drawn on (tests/ui/test_theme.py).
"""

from __future__ import annotations

from dataclasses import asdict

from PySide6.QtGui import (
    QColor,
    QFont,
    QTextBlockFormat,
    QTextCharFormat,
    QTextFrameFormat,
    QTextLength,
)

from deltadesk.core.markdown_code import set_code_colours
from deltadesk.ui.palettes import DARK as DARK
from deltadesk.ui.palettes import LIGHT as LIGHT
from deltadesk.ui.palettes import Palette as Palette
from deltadesk.ui.palettes import qt_palette as qt_palette

PALETTES = {"light": LIGHT, "dark": DARK}

# --- colours of the current palette (see use()) ------------------------------------------------
CURRENT = LIGHT
BACKGROUND = LIGHT.background
TEXT = LIGHT.text
MUTED = LIGHT.muted
FAINT = LIGHT.faint
ACCENT = LIGHT.accent
RULE = LIGHT.rule

USER_BACKGROUND = LIGHT.user_background
USER_BORDER = LIGHT.user_border
REASONING_BACKGROUND = LIGHT.reasoning_background
REASONING_TEXT = LIGHT.reasoning_text

CODE_BACKGROUND = LIGHT.code_background
CODE_HEADER_BACKGROUND = LIGHT.code_header_background
CODE_BORDER = LIGHT.code_border
INLINE_CODE_BACKGROUND = LIGHT.inline_code_background
MATH_TEXT = LIGHT.math_text
MATH_BACKGROUND = LIGHT.math_background

ERROR_TEXT = LIGHT.error_text
ERROR_BACKGROUND = LIGHT.error_background
ERROR_BORDER = LIGHT.error_border
WARNING_TEXT = LIGHT.warning_text
WARNING_BACKGROUND = LIGHT.warning_background
WARNING_BORDER = LIGHT.warning_border
JUMP_HOVER = LIGHT.jump_hover


def is_dark() -> bool:
    return CURRENT.name == "dark"


def use(palette: Palette) -> None:
    """Makes ``palette`` current: the constants, CHAT_CSS and JUMP_BUTTON_CSS follow it."""
    global CURRENT, CHAT_CSS, JUMP_BUTTON_CSS
    CURRENT = palette
    values = asdict(palette)
    for name in values:
        if name not in ("name", "window", "button", "highlight", "pygments_style"):
            globals()[name.upper()] = values[name]
    CHAT_CSS = _chat_css()
    JUMP_BUTTON_CSS = _jump_button_css()
    set_code_colours(palette.pygments_style, palette.code_background)  # highlighted code


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
def _chat_css() -> str:
    return f"""
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
code.math {{ color: {MATH_TEXT}; background-color: {MATH_BACKGROUND}; }}
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
def _jump_button_css() -> str:
    return f"""
QToolButton {{
    background-color: {TEXT}; color: {BACKGROUND}; border: none; border-radius: 14px;
    padding: 5px 14px; font-weight: 600;
}}
QToolButton:hover {{ background-color: {JUMP_HOVER}; }}
"""


CHAT_CSS = _chat_css()
JUMP_BUTTON_CSS = _jump_button_css()


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
