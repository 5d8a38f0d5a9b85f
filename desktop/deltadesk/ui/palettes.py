"""The light and dark colour sets of the window and the chat (made current by theme.use)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette


@dataclass(frozen=True, slots=True)
class Palette:
    name: str  # "light" or "dark"
    background: str
    text: str
    muted: str
    faint: str
    accent: str
    rule: str
    user_background: str
    user_border: str
    reasoning_background: str
    reasoning_text: str
    code_background: str
    code_header_background: str
    code_border: str
    inline_code_background: str
    math_text: str
    math_background: str
    error_text: str
    error_background: str
    error_border: str
    warning_text: str
    warning_background: str
    warning_border: str
    jump_hover: str
    window: str  # the window's own surfaces (sidebar, bars) in an explicit light/dark choice
    button: str
    highlight: str
    # The pygments style code is coloured by (theme.use passes it and code_background to
    # core/markdown_code.py, which lifts any colour under 4.5:1 on that background).
    pygments_style: str


LIGHT = Palette(
    name="light",
    background="#ffffff",
    text="#1f2328",
    muted="#59636e",
    faint="#656d76",
    accent="#0969da",
    rule="#d8dee4",
    user_background="#eef4fc",
    user_border="#d3e2f7",
    reasoning_background="#f6f8fa",
    reasoning_text="#59636e",
    code_background="#f6f8fa",
    code_header_background="#eff2f5",
    code_border="#d0d7de",
    inline_code_background="#eff1f3",
    math_text="#4b3b8f",
    math_background="#f4f1fb",
    error_text="#b42318",
    error_background="#fef3f2",
    error_border="#fecdca",
    warning_text="#8a5300",
    warning_background="#fff8e6",
    warning_border="#f5d9a0",
    jump_hover="#32383f",
    window="#f6f8fa",
    button="#eef1f4",
    highlight="#0969da",
    pygments_style="default",
)

DARK = Palette(
    name="dark",
    background="#1b1f24",
    text="#e6edf3",
    muted="#9ea7b3",
    faint="#8b949e",
    accent="#539bf5",
    rule="#3d444d",
    user_background="#1c2a3d",
    user_border="#2b4466",
    reasoning_background="#22272e",
    reasoning_text="#9ea7b3",
    code_background="#22272e",
    code_header_background="#2a3038",
    code_border="#3d444d",
    inline_code_background="#2d333b",
    math_text="#c9b8ff",
    math_background="#2a2540",
    error_text="#ff7b72",
    error_background="#2d1517",
    error_border="#6e2b2b",
    warning_text="#e3b341",
    warning_background="#2b2111",
    warning_border="#6b4f16",
    jump_hover="#c9d1d9",
    window="#22272e",
    button="#2d333b",
    highlight="#316dca",
    pygments_style="github-dark",  # made for this palette's GitHub-like greys
)


def qt_palette(palette: Palette) -> QPalette:
    """An application palette in ``palette``'s colours, for an explicit light or dark choice
    (on a system theme the platform's own palette is kept)."""
    qt = QPalette()
    role = QPalette.ColorRole
    colors = {
        role.Window: palette.window,
        role.WindowText: palette.text,
        role.Base: palette.background,
        role.AlternateBase: palette.reasoning_background,
        role.Text: palette.text,
        role.Button: palette.button,
        role.ButtonText: palette.text,
        role.ToolTipBase: palette.background,
        role.ToolTipText: palette.text,
        role.PlaceholderText: palette.faint,
        role.Highlight: palette.highlight,
        role.HighlightedText: "#ffffff",
        role.Link: palette.accent,
        role.LinkVisited: palette.accent,
        role.BrightText: palette.error_text,
        role.Light: palette.button,
        role.Midlight: palette.rule,
        role.Mid: palette.code_border,
        role.Dark: palette.rule,
        role.Shadow: "#000000",
    }
    for color_role, name in colors.items():
        qt.setColor(color_role, QColor(name))
    disabled = QPalette.ColorGroup.Disabled
    for color_role in (role.WindowText, role.Text, role.ButtonText):
        qt.setColor(disabled, color_role, QColor(palette.faint))
    return qt
