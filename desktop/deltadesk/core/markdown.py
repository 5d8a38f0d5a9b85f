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

from deltadesk.core.markdown_code import (
    CODE_CARD_LINES,
    code_cards,
    fence_language,
    render_code_block,
    render_fence,
)
from deltadesk.core.markdown_math import math_inline, render_math
from deltadesk.core.markdown_safety import (
    break_long_words,
    cap_tables,
    flatten_deep_blocks,
    is_plain_mailto,
    mark_invisible,
    narrow_wide_tables,
)

if TYPE_CHECKING:  # markdown-it and pygments load on the first render (or the app's warm-up
    # thread), not at start-up: together they are ~40 ms of the window's cold start.
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.rules_core import StateCore
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

# C0 controls except \t and \n (so also \r), DEL, C1 controls, lone surrogates (a JSON
# "\ud800" decodes to one and Qt cannot convert it) and the Unicode noncharacters.
_UNWANTED_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# Qt treats these as block/line breaks of its own; markdown does not. Make them plain newlines.
_LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})

_SAFE_LINK_PREFIXES = ("http://", "https://", "mailto:")


def sanitize(text: str) -> str:
    """Drop control characters (keeping \\n and \\t) and map Unicode line separators to \\n.

    Works character by character, so sanitising chunks equals sanitising their concatenation.
    """
    return _UNWANTED_CHARS.sub("", text).translate(_LINE_SEPARATORS)


# ---------------------------------------------------------------------------------------------
# Links, images, inline code


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
    # Cut wide tables before their cells' inline text is parsed (most of the cost), and very
    # wide ones before markdown-it's table rule even splits their rows.
    md.core.ruler.before("inline", "cap_tables", _cap_tables_rule)
    table_rule = next(rule for rule in md.block.ruler.__rules__ if rule.name == "table")
    md.block.ruler.at("table", narrow_wide_tables(table_rule.fn), {"alt": table_rule.alt})
    md.validateLink = _is_safe_link  # type: ignore[method-assign]
    md.inline.ruler.before("escape", "math_inline", math_inline)
    md.add_render_rule("fence", render_fence)
    md.add_render_rule("code_block", render_code_block)
    md.add_render_rule("code_inline", _render_code_inline)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("math_inline", render_math)
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
        return code_cards(body, fence_language(token), index, frozen, ready)
