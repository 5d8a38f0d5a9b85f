"""Markdown → HTML fragments for the chat view, rendered incrementally, block by block.

Model output is untrusted: raw HTML is off, only http/https/mailto links become links,
images become plain links (the view loads no resources), control characters are dropped.

Streaming uses `IncrementalMarkdown`: finished top-level blocks are rendered once and frozen,
each append re-parses and re-renders only the open tail, so the cost of a long answer stays
linear instead of quadratic.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from deltadesk.core.markdown_safety import (
    break_long_words,
    cap_tables,
    flatten_deep_blocks,
    is_plain_mailto,
    mark_invisible,
)

if TYPE_CHECKING:  # markdown-it and pygments load on the first render (or the app's warm-up
    # thread), not at start-up: together they are ~40 ms of the window's cold start.
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

# C0 controls except \t and \n (so also \r), DEL, C1 controls, lone surrogates (a JSON
# "\ud800" decodes to one and Qt cannot convert it) and the Unicode noncharacters.
_UNWANTED_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# Qt treats these as block/line breaks of its own; markdown does not. Make them plain newlines.
_LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})

_SAFE_LINK_PREFIXES = ("http://", "https://", "mailto:")
# Colours for highlighted code, emitted as inline styles (Qt rich text has no CSS classes
# it applies reliably to spans). A light style to match the view's light code background.
_PYGMENTS_STYLE = "default"
_PLAIN_LANGUAGES = frozenset({"", "text", "txt", "plain", "plaintext", "none"})


def sanitize(text: str) -> str:
    """Drop control characters (keeping \\n and \\t) and map Unicode line separators to \\n.

    Works character by character, so sanitising chunks equals sanitising their concatenation.
    """
    return _UNWANTED_CHARS.sub("", text).translate(_LINE_SEPARATORS)


# ---------------------------------------------------------------------------------------------
# Code blocks


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


@lru_cache(maxsize=1)
def _code_formatter() -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True, noclasses=True, style=_PYGMENTS_STYLE)


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
    return _highlighted_segment(code, language)


@lru_cache(maxsize=512)
def _highlighted_segment(code: str, language: str) -> str:
    from pygments import highlight

    lexer = _lexer_for(language)
    out: str = highlight(code, lexer, _code_formatter())
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


def _render_fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    return _code_block_html(token.content, _fence_language(token), env, fence=True)


def _fence_language(token: Token) -> str:
    from markdown_it.common.utils import unescapeAll

    info = unescapeAll(token.info).strip()
    return info.split(maxsplit=1)[0] if info else ""


def _render_code_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _code_block_html(tokens[idx].content, "", env)


# ---------------------------------------------------------------------------------------------
# Links, images, math


def _is_safe_link(url: str) -> bool:
    """Only these schemes become links; anything else (javascript:, file:, data:, relative
    paths) stays visible as the markdown source text. A mailto link must be one address."""
    lowered = url.strip().lower()
    if lowered.startswith("mailto:"):
        return is_plain_mailto(url)
    return lowered.startswith(_SAFE_LINK_PREFIXES)


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Never an <img>: the view loads no remote resources. A link the user may choose to open.
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env)
    src = html.escape(str(token.attrGet("src") or ""))
    return f'<a href="{src}">[image: {html.escape(alt or src)}]</a>'


def _render_code_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f"<code>{mark_invisible(html.escape(tokens[idx].content, quote=False))}</code>"


def _render_math(
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


def _math_inline(state: StateInline, silent: bool) -> bool:
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


# ---------------------------------------------------------------------------------------------
# The parser


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """The one configured parser, built on first use."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    # Reference definitions ("[x]: http://…" anywhere in the text) change how EARLIER blocks
    # render. That breaks freezing finished blocks, so they are off; "[x][y]" stays text.
    md.disable("reference")
    # Quotes and lists call md.block.tokenize for their content: deeper than FLATTEN_LEVEL it
    # makes one plain paragraph instead of recursing (or dropping the text, as markdown-it
    # does past maxNesting).
    md.block.tokenize = flatten_deep_blocks(md.block.tokenize)  # type: ignore[method-assign,assignment]
    # Cut wide tables before their cells' inline text is parsed (most of the cost).
    md.core.ruler.before("inline", "cap_tables", _cap_tables_rule)
    md.validateLink = _is_safe_link  # type: ignore[method-assign]
    md.inline.ruler.before("escape", "math_inline", _math_inline)
    md.add_render_rule("fence", _render_fence)
    md.add_render_rule("code_block", _render_code_block)
    md.add_render_rule("code_inline", _render_code_inline)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("math_inline", _render_math)
    return md


def _render_tokens(
    tokens: Sequence[Token], code_base: int, env: dict[str, Any] | None = None
) -> tuple[str, list[str]]:
    """Render tokens; also return the code blocks found, whose copy links count from code_base.
    `env` may carry "open_fence": (cards already frozen, copy index) for a leading fence."""
    code_blocks: list[str] = []
    env = env if env is not None else {}
    env.update(code_base=code_base, code_blocks=code_blocks)
    md = parser()
    html_out = md.renderer.render(tokens, md.options, env)
    return break_long_words(html_out), code_blocks


def _cap_tables_rule(state: StateCore) -> None:
    state.tokens = cap_tables(state.tokens)


def _parse(text: str) -> list[Token]:
    return parser().parse(text)


@dataclass(frozen=True, slots=True)
class RenderedMarkdown:
    html: str
    code_blocks: list[str]  # raw code text by copy index ("copy:N")


def render_document(text: str, code_base: int = 0) -> RenderedMarkdown:
    """One-shot render of a whole document, with its code blocks (whose copy links count
    from code_base: a later part of a long message continues the numbering)."""
    html_out, code_blocks = _render_tokens(_parse(sanitize(text)), code_base)
    return RenderedMarkdown(html_out, code_blocks)


def render_markdown(text: str) -> str:
    """One-shot render (the same engine the incremental renderer uses)."""
    return render_document(text).html


# ---------------------------------------------------------------------------------------------
# Incremental rendering


@dataclass(frozen=True, slots=True)
class RenderUpdate:
    frozen_html: str  # blocks that became final in this call: append once, never re-render
    tail_html: str  # the whole still-open tail: replaces the previous tail


@dataclass(frozen=True, slots=True)
class _Block:
    first_token: int
    first_line: int


def _top_level_blocks(tokens: Sequence[Token]) -> list[_Block]:
    """Top-level blocks: level-0 opening tokens and level-0 single tokens (fence, hr…)."""
    return [
        _Block(index, token.map[0])
        for index, token in enumerate(tokens)
        if token.level == 0 and token.nesting >= 0 and token.map is not None
    ]


def _first_unstable(blocks: Sequence[_Block], complete_lines: int) -> int:
    """Index of the first block that may still change.

    A block is final once the next block has started on a complete line AND the line after
    that is complete too. A partial line may still turn out to continue the block before it
    ("```x" followed by "`" is not a fence). The extra line is for tables: whether a table
    starts at line L (and so ends the paragraph above) depends on the delimiter row at L+1;
    "a |" over "|-" is a table, over "|-|-" (a column too many) it is paragraph text again.
    The last block can always grow.
    """
    for index in range(len(blocks) - 1):
        if blocks[index + 1].first_line + 1 >= complete_lines:
            return index
    return max(len(blocks) - 1, 0)


def _line_offset(text: str, line: int) -> int:
    """Character offset where line number `line` (0-based) starts."""
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset


class IncrementalMarkdown:
    """Feeds streamed text; keeps frozen HTML for finished blocks and re-renders only the tail."""

    def __init__(self) -> None:
        self._frozen_text: list[str] = []  # chunks of the text whose blocks are frozen
        self._tail = ""  # the text from the start of the first open block on (at a line start)
        self._frozen_code: list[str] = []
        self._tail_code: list[str] = []
        # A long code block at the start of the tail whose first cards are frozen already:
        # (cards frozen, its copy index).
        self._open_fence: tuple[int, int] | None = None
        self._finished = False

    @property
    def text(self) -> str:
        return "".join(self._frozen_text) + self._tail

    @property
    def code_blocks(self) -> list[str]:
        """Raw code text by copy index, frozen blocks and the open tail together."""
        return self._frozen_code + self._tail_code

    def append(self, text: str) -> RenderUpdate:
        if self._finished:
            raise RuntimeError("append() after finish()")
        self._tail += sanitize(text)
        tokens = _parse(self._tail)
        blocks = _top_level_blocks(tokens)
        if not blocks:
            self._tail_code = []
            return RenderUpdate("", "")
        open_block = blocks[_first_unstable(blocks, self._tail.count("\n"))]
        frozen_html = self._freeze(tokens[: open_block.first_token], open_block.first_line)
        tail_tokens = tokens[open_block.first_token :]
        frozen_html += self._freeze_finished_cards(tail_tokens[0])
        tail_html, self._tail_code = self._render(tail_tokens)
        return RenderUpdate(frozen_html, tail_html)

    def finish(self) -> RenderUpdate:
        """Freeze everything; later appends are an error."""
        if self._finished:
            return RenderUpdate("", "")
        self._finished = True
        tokens = _parse(self._tail)
        self._tail_code = []
        frozen_html = self._freeze(tokens, self._tail.count("\n") + 1)
        return RenderUpdate(frozen_html, "")

    def _render(self, tokens: Sequence[Token]) -> tuple[str, list[str]]:
        """Render tokens at the start of the tail, skipping the frozen cards of an open fence."""
        env: dict[str, Any] = {}
        if self._open_fence is not None:
            env["open_fence"] = self._open_fence
        html_out, code_blocks = _render_tokens(tokens, len(self._frozen_code), env)
        if self._open_fence is not None and "open_fence_code" in env:
            self._frozen_code[self._open_fence[1]] = env["open_fence_code"]
        return html_out, code_blocks

    def _freeze(self, tokens: Sequence[Token], next_line: int) -> str:
        """Render `tokens` as final and drop their text (up to line `next_line`) from the tail."""
        if not tokens:
            return ""
        html_out, code_blocks = self._render(tokens)
        self._open_fence = None  # if it was among them, its last cards are frozen now
        self._frozen_code.extend(code_blocks)
        cut = len(self._tail) if next_line > self._tail.count("\n") else None
        if cut is None:
            cut = _line_offset(self._tail, next_line)
        self._frozen_text.append(self._tail[:cut])
        self._tail = self._tail[cut:]
        return html_out

    def _freeze_finished_cards(self, token: Token) -> str:
        """Freezes the complete cards of a long code block that is still being written."""
        if token.type != "fence":
            return ""
        ready = token.content.count("\n") // CODE_CARD_LINES  # cards whose lines all ended
        frozen, index = self._open_fence or (0, len(self._frozen_code))
        if ready <= frozen:
            return ""
        body = token.content[:-1] if token.content.endswith("\n") else token.content
        if self._open_fence is None:
            self._frozen_code.append(body)
        else:
            self._frozen_code[index] = body
        self._open_fence = (ready, index)
        return code_cards(body, _fence_language(token), index, frozen, ready)
