"""Inline math ($…$, $$…$$, \\(…\\), \\[…\\]) for markdown-it: shown as monospaced source."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict


def render_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # No TeX engine: the source is shown monospaced, which is still readable.
    token = tokens[idx]
    kind = "math display" if token.markup in ("$$", "\\[") else "math"
    return f'<code class="{kind}">{html.escape(token.content)}</code>'


_MATH_CLOSERS = {"$": "$", "$$": "$$", "\\[": "\\]", "\\(": "\\)"}
_MATH_KINDS = {opener: kind for kind, opener in enumerate(_MATH_CLOSERS)}
# A closing single $ has no space or backslash before it and no digit after it (pandoc's rule,
# so "$5 and $10" stays text).
_SINGLE_DOLLAR_CLOSER = re.compile(r"(?<![\s\\$])\$(?![\d$])")


def _find_math_end(state: StateInline, opener: str, start: int) -> int:
    """Position of the closer for `opener` at or after `start`, or -1.

    A failed search is remembered (in state.cache under negative keys, which markdown-it's own
    non-negative position keys never use): a later search can only fail too, and without the
    memo a line full of lone "$" would be scanned quadratically.
    """
    memo_key = -(state.posMax * len(_MATH_KINDS) + _MATH_KINDS[opener] + 1)
    failed_from = state.cache.get(memo_key)
    if failed_from is not None and start >= failed_from:
        return -1
    if opener == "$":
        match = _SINGLE_DOLLAR_CLOSER.search(state.src, start, state.posMax)
        end = match.start() if match else -1
    else:
        end = state.src.find(_MATH_CLOSERS[opener], start, state.posMax)
    if end < 0:
        state.cache[memo_key] = min(start, failed_from if failed_from is not None else start)
    return end


def _math_opener(src: str, pos: int) -> str | None:
    for opener in ("$$", "\\[", "\\("):
        if src.startswith(opener, pos):
            return opener
    if src.startswith("$", pos) and pos + 1 < len(src) and not src[pos + 1].isspace():
        return "$"
    return None


def math_inline(state: StateInline, silent: bool) -> bool:
    """Inline rule for $…$, $$…$$, \\(…\\) and \\[…\\] (inline only, so block structure and
    therefore incremental freezing are unaffected)."""
    opener = _math_opener(state.src, state.pos)
    if opener is None:
        return False
    content_start = state.pos + len(opener)
    end = _find_math_end(state, opener, content_start + (1 if opener == "$" else 0))
    if end < 0 or end == content_start:
        return False
    if not silent:
        token = state.push("math_inline", "code", 0)
        token.markup = opener
        token.content = state.src[content_start:end]
    state.pos = end + len(_MATH_CLOSERS[opener])
    return True
