"""Both palettes: text readable on what it is drawn on (WCAG contrast), and theme.use() makes a
palette current for everything built after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deltadesk.ui import theme
from deltadesk.ui.palettes import DARK, LIGHT, Palette

# (text, background) pairs the window and the chat document really draw.
PAIRS = [
    ("text", "background"),
    ("muted", "background"),
    ("faint", "background"),
    ("accent", "background"),
    ("text", "user_background"),
    ("accent", "user_background"),  # "You" header
    ("faint", "user_background"),  # its time and Edit link
    ("reasoning_text", "reasoning_background"),
    ("text", "code_background"),
    ("muted", "code_header_background"),
    ("accent", "code_header_background"),  # "Copy"
    ("text", "inline_code_background"),
    ("math_text", "math_background"),
    ("error_text", "error_background"),
    ("warning_text", "warning_background"),
    ("text", "window"),
    ("text", "button"),
]


def relative_luminance(hex_color: str) -> float:
    channels = [int(hex_color.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("palette", [LIGHT, DARK], ids=["light", "dark"])
@pytest.mark.parametrize(("fore", "back"), PAIRS)
def test_body_text_has_at_least_aa_contrast(palette: Palette, fore: str, back: str) -> None:
    ratio = contrast(getattr(palette, fore), getattr(palette, back))
    assert ratio >= 4.5, f"{palette.name}: {fore} on {back} is {ratio:.2f}"


@pytest.fixture
def restore_light() -> Iterator[None]:
    yield
    theme.use(LIGHT)


def test_use_makes_a_palette_current_for_what_is_built_after(restore_light: None) -> None:
    theme.use(DARK)
    assert theme.is_dark() and DARK.background == theme.BACKGROUND
    assert f"color: {DARK.text}" in theme.CHAT_CSS and LIGHT.text not in theme.CHAT_CSS
    assert DARK.jump_hover in theme.JUMP_BUTTON_CSS
    assert theme.header_char_format("user").foreground().color().name() == DARK.accent
    frame = theme.message_frame_format("user")
    assert frame.background().color().name() == DARK.user_background
    theme.use(LIGHT)
    assert theme.message_frame_format("user").background().color().name() == LIGHT.user_background
    assert f"color: {LIGHT.text}" in theme.CHAT_CSS
