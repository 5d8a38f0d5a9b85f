"""The colours of highlighted code: a pygments style, made readable on the code card's colour.

Pygments styles are drawn for their own background (a light style on white, a dark one on
near-black); the chat's code cards have the theme's colour instead, and some styles carry a
few faint colours anyway (comments, whitespace, errors). `readable_style(name, background)`
is the named style with every colour that has a WCAG contrast under MIN_CODE_CONTRAST on
what it is drawn on (the token's own background, else `background`) mixed towards white or
black until it has. Core code: no Qt, the UI passes the theme's choice in (markdown_code.py,
set_code_colours).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pygments.style import StyleMeta

__all__ = ["MIN_CODE_CONTRAST", "contrast", "readable_colour", "readable_style"]

# WCAG AA for normal-size text: code is drawn at the body size or smaller, never "large".
MIN_CODE_CONTRAST = 4.5


def _channels(colour: str) -> tuple[float, float, float]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def _luminance(channels: tuple[float, float, float]) -> float:
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two "#rrggbb" (or "#rgb") colours, 1 to 21."""
    high, low = sorted((_luminance(_channels(a)), _luminance(_channels(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _hex(channels: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in channels)


def readable_colour(colour: str, background: str, minimum: float = MIN_CODE_CONTRAST) -> str:
    """``colour``, or the least mix of it with white (dark background) or black (light one)
    that has ``minimum`` contrast on ``background``; "#rrggbb"."""
    if contrast(colour, background) >= minimum:
        return _hex(_channels(colour))
    target = 0.0 if contrast("#000000", background) > contrast("#ffffff", background) else 1.0
    start = _channels(colour)
    mixed = start
    for step in range(1, 21):
        share = step / 20
        r, g, b = (c + (target - c) * share for c in start)
        mixed = (r, g, b)
        if contrast(_hex(mixed), background) >= minimum:
            break
    return _hex(mixed)


def _definition(style: dict[str, object], background: str) -> str:
    """A pygments style string for one token's resolved style, its colour made readable."""
    parts = ["noinherit"]
    flags = ("bold", "italic", "underline", "roman", "sans", "mono")
    parts += [flag for flag in flags if style[flag]]
    behind = f"#{style['bgcolor']}" if style["bgcolor"] else background
    if style["color"]:
        parts.append(readable_colour(f"#{style['color']}", behind))
    if style["bgcolor"]:
        parts.append(f"bg:#{style['bgcolor']}")
    if style["border"]:
        parts.append(f"border:#{style['border']}")
    return " ".join(parts)


@lru_cache(maxsize=8)
def readable_style(name: str, background: str) -> StyleMeta:
    """The pygments style ``name`` (an unknown one: "default") for code drawn on
    ``background``, every colour at least MIN_CODE_CONTRAST against what is behind it."""
    from pygments.style import Style
    from pygments.styles import get_style_by_name
    from pygments.util import ClassNotFound

    try:
        base = get_style_by_name(name)
    except ClassNotFound:
        base = get_style_by_name("default")
    styles = {token: _definition(dict(style), background) for token, style in base}
    attributes = {"background_color": background, "styles": styles}
    readable: StyleMeta = type(f"Readable_{base.__name__}", (Style,), attributes)
    return readable
