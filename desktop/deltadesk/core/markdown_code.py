"""Code in rendered markdown: highlighted with pygments in cached segments, shown as cards.

A code block longer than CODE_CARD_LINES is several cards, each with a Copy link for the
whole block; while such a block streams, its finished cards are frozen (markdown.py). The
copied text is always the code exactly; what is shown marks invisible and direction-changing
characters (markdown_safety.py).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from deltadesk.core.markdown_safety import mark_invisible

if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

__all__ = [
    "CODE_CARD_LINES",
    "HIGHLIGHT_SEGMENT_LINES",
    "MAX_HIGHLIGHT_LINE_CHARS",
    "_highlighted_segment",
    "code_cards",
    "code_colours",
    "fence_language",
    "render_code_block",
    "render_fence",
    "set_code_colours",
]

# Colours for highlighted code, emitted as inline styles (Qt rich text has no CSS classes
# it applies reliably to spans): a pygments style and the code card's background, which the
# UI sets from its theme (set_code_colours; light until it does).
_colours: tuple[str, str] = ("default", "#f6f8fa")
_PLAIN_LANGUAGES = frozenset({"", "text", "txt", "plain", "plaintext", "none"})


@lru_cache(maxsize=64)
def _lexer_for(language: str) -> Lexer | None:
    """The pygments lexer for a fence's language, or None for plain text.

    Unknown names give None: guessing the language from the content is slow.
    """
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if language.lower() in _PLAIN_LANGUAGES:
        return None
    try:
        # stripnl=False: the copied text and the shown text must be the code exactly.
        return get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except (ClassNotFound, ValueError):
        return None


def set_code_colours(style: str, background: str) -> None:
    """Code rendered from now on is coloured by the pygments style ``style`` (unknown: the
    "default" one), every colour made readable on ``background``, the code cards' colour
    (code_colours.py). Highlighted segments cached in the old colours are dropped; HTML
    rendered before keeps them (the view renders what it shows again on a theme switch)."""
    global _colours
    if (style, background) != _colours:
        _colours = (style, background)
        _highlighted_segment.cache_clear()


def code_colours() -> tuple[str, str]:
    """The pygments style and the background code is coloured for now."""
    return _colours


@lru_cache(maxsize=4)
def _code_formatter(colours: tuple[str, str]) -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter

    from deltadesk.core.code_colours import readable_style

    return HtmlFormatter(nowrap=True, noclasses=True, style=readable_style(*colours))


# Code is highlighted in segments of this many lines, each on its own, and finished segments
# are cached: a long code block still being streamed then costs one segment per frame, not
# the whole block (measured: 600 open lines took ~180 ms of pygments per frame). The price is
# that a construct spanning a segment boundary (a long docstring) may be coloured as if it
# started there. Both the streamed and the one-shot render use the same segments.
HIGHLIGHT_SEGMENT_LINES = 64
# A segment with a line longer than this is shown without colours: lexers run regexes over the
# whole line (slow, and some backtrack badly), and such a line is not read as code anyway.
MAX_HIGHLIGHT_LINE_CHARS = 1000


def _highlighted_code(code: str, language: str) -> str:
    """The code as HTML, coloured when its language is known; invisible characters marked."""
    if _lexer_for(language) is None:
        return mark_invisible(html.escape(code, quote=False))
    lines = code.split("\n")
    segments = (
        lines[start : start + HIGHLIGHT_SEGMENT_LINES]
        for start in range(0, len(lines), HIGHLIGHT_SEGMENT_LINES)
    )
    return mark_invisible("\n".join(_segment_html(segment, language) for segment in segments))


def _segment_html(lines: list[str], language: str) -> str:
    code = "\n".join(lines)
    if max(map(len, lines)) > MAX_HIGHLIGHT_LINE_CHARS:
        return html.escape(code, quote=False)
    return _highlighted_segment(code, language, _colours)


@lru_cache(maxsize=512)
def _highlighted_segment(code: str, language: str, colours: tuple[str, str]) -> str:
    """Keyed by the colours too: a render running elsewhere (the start-up warm-up thread)
    while they change cannot put a segment of the old colours under the new ones."""
    from pygments import highlight

    lexer = _lexer_for(language)
    out: str = highlight(code, lexer, _code_formatter(colours))
    # The lexer adds a final newline (ensurenl); the <pre> must not show an extra empty line.
    if out.endswith("\n"):
        return out[:-1]
    if out.endswith("\n</span>"):
        return out[: -len("\n</span>")] + "</span>"
    return out


# A code block longer than this is shown as several cards of this many lines. While such a
# block streams, its finished cards are frozen like finished blocks, so each frame re-renders
# at most one card, not the whole block. A multiple of HIGHLIGHT_SEGMENT_LINES.
CODE_CARD_LINES = 128


def _code_block_html(code: str, language: str, env: EnvType, *, fence: bool = False) -> str:
    """The code as cards: a small header (language + Copy link) and the highlighted code."""
    blocks: list[str] = env["code_blocks"]
    body = code[:-1] if code.endswith("\n") else code
    continued = env.pop("open_fence", None) if fence else None
    if continued is None:  # a new block: it takes the next copy index
        first_card, index = 0, env["code_base"] + len(blocks)
        blocks.append(body)
    else:  # the streaming block whose first cards are frozen already: render the rest
        first_card, index = continued
        env["open_fence_code"] = body
    return code_cards(body, language, index, first_card)


def code_cards(body: str, language: str, index: int, first: int, stop: int | None = None) -> str:
    """Cards `first` up to `stop` (default: all) of a code block; each can copy all of it."""
    lines = body.split("\n")
    count = max(1, -(-len(lines) // CODE_CARD_LINES))
    label = html.escape(language or "code")
    cards = []
    for card in range(first, count if stop is None else stop):
        start = card * CODE_CARD_LINES
        segment = "\n".join(lines[start : start + CODE_CARD_LINES])
        title = label if card == 0 else f"{label} (continued)"
        cards.append(
            f'<p class="code-head"><span class="code-lang">{title}</span>'
            f'&nbsp;&nbsp;·&nbsp;&nbsp;<a class="code-copy" href="copy:{index}">Copy</a></p>\n'
            f'<pre class="code">{_highlighted_code(segment, language)}</pre>\n'
        )
    return "".join(cards)


def render_fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    return _code_block_html(token.content, fence_language(token), env, fence=True)


def fence_language(token: Token) -> str:
    from markdown_it.common.utils import unescapeAll

    info = unescapeAll(token.info).strip()
    return info.split(maxsplit=1)[0] if info else ""


def render_code_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _code_block_html(tokens[idx].content, "", env)
