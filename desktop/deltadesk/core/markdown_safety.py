"""Hostile-shape defences for the markdown renderer: text whose shape, not content, hurts.

- Long unbroken words: Qt lays out a line with no break opportunity in time quadratic in its
  length (a 1 MB line took 68 s). `break_long_words` puts a zero-width space (U+200B) into
  every run of more than WORD_BREAK_CHARS visible characters of the rendered HTML: the view
  can then wrap there. Only what is laid out gets them; the stored text, the copy-code text
  and the copied selection (the view strips U+200B) do not.
- Invisible and direction-changing characters in code: a bidi override can make code read
  differently from what it does ("Trojan Source"). `mark_invisible` shows them as visible
  ⟨U+202E⟩ markers in rendered code; `strip_invisible` removes them from copied code.
- Deep nesting: markdown-it stops (and renders nothing) past its nesting limit, and would
  recurse without bound if the limit were lifted. `flatten_deep_blocks` shows what lies
  deeper than FLATTEN_LEVEL as one plain paragraph.
- Wide and long tables: Qt's table layout is slow with thousands of cells. `cap_tables`
  keeps MAX_TABLE_COLUMNS columns and MAX_TABLE_ROWS rows, and says how many it left out;
  `narrow_wide_tables` lets markdown-it's table rule read only those columns of a very wide
  table at all.
- Mail links: `is_plain_mailto` allows `mailto:` with one address and nothing else.

Every function here works inside the parser or on whole rendered blocks, so the streamed
render still equals the one-shot render (tests/core/test_markdown*.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it.rules_block import StateBlock
    from markdown_it.token import Token

BlockTokenize = Callable[["StateBlock", int, int], None]

# --- long words ----------------------------------------------------------------------------

ZERO_WIDTH_SPACE = "\u200b"
# A run of visible characters longer than this gets a break opportunity every so many.
WORD_BREAK_CHARS = 64
# One HTML character: an entity ("&amp;", "&#x27;") or any other character but "<" and "&".
_HTML_CHAR = r"(?:&#?\w+;|[^\s<&])"
# Runs of text without a space: found with a plain character class (fast), then cut by slicing
# when they hold no entity (the common case: a megabyte of letters) or by a regex that keeps
# entities whole.
_LONG_RUN = re.compile(rf"[^\s<>]{{{WORD_BREAK_CHARS + 1},}}")
_BREAK_EVERY = re.compile(rf"{_HTML_CHAR}{{{WORD_BREAK_CHARS}}}(?=[^\s<])")
_TAG = re.compile(r"<[^>]*>")


def break_long_words(html_text: str) -> str:
    """Inserts U+200B into every over-long run of text (never inside a tag or an entity)."""
    if _LONG_RUN.search(html_text) is None:
        return html_text  # the usual case: no long run at all, not even inside a tag
    parts: list[str] = []
    position = 0
    for tag in _TAG.finditer(html_text):
        parts.append(_break_text(html_text[position : tag.start()]))
        parts.append(tag.group())
        position = tag.end()
    parts.append(_break_text(html_text[position:]))
    return "".join(parts)


def _break_text(text: str) -> str:
    if len(text) <= WORD_BREAK_CHARS:
        return text
    return _LONG_RUN.sub(_break_run, text)


def _break_run(run_match: re.Match[str]) -> str:
    run = run_match.group()
    if "&" in run:
        return _BREAK_EVERY.sub(_add_break, run)
    step = WORD_BREAK_CHARS
    return ZERO_WIDTH_SPACE.join([run[start : start + step] for start in range(0, len(run), step)])


def _add_break(match: re.Match[str]) -> str:
    return match.group() + ZERO_WIDTH_SPACE


_LONG_PLAIN_RUN = re.compile(rf"\S{{{WORD_BREAK_CHARS + 1},}}")


def break_long_plain_words(text: str) -> str:
    """The same for plain text (a user's prompt, reasoning): U+200B in over-long runs."""
    if len(text) <= WORD_BREAK_CHARS:
        return text
    return _LONG_PLAIN_RUN.sub(_split_run, text)


def _split_run(run_match: re.Match[str]) -> str:
    run, step = run_match.group(), WORD_BREAK_CHARS
    return ZERO_WIDTH_SPACE.join([run[start : start + step] for start in range(0, len(run), step)])


def remove_breaks(text: str) -> str:
    """Plain text as laid out, back to the text itself (what a copy must give)."""
    return text.replace(ZERO_WIDTH_SPACE, "")


# --- links ----------------------------------------------------------------------------------

# mailto with one address and nothing else: a query can carry `attach=/etc/passwd`, `cc`,
# `bcc`, or a prefilled subject and body put in the user's mouth; an address is all a chat
# answer needs. Several comma-separated addresses (RFC 6068) are not needed either.
_ADDRESS_CHAR = r"[^\s@?&#/,;:<>\"'%\\]"
_MAILTO = re.compile(rf"mailto:{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+", re.IGNORECASE)


def is_plain_mailto(link: str) -> bool:
    """`mailto:` followed by one address and nothing else (no query, no fragment)."""
    return _MAILTO.fullmatch(link.strip()) is not None


# --- invisible and direction-changing characters ------------------------------------------------

# Bidi embeddings, overrides and isolates; zero-width spaces, joiners and marks; word joiner;
# the byte-order mark used as a zero-width no-break space; the invisible math operators.
INVISIBLE_CHARS = (
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_INVISIBLE = re.compile(f"[{INVISIBLE_CHARS}]")
_MARKER_STYLE = "color:#b42318;background-color:#fef3f2"


def strip_invisible(text: str) -> str:
    """Code as it is copied: without bidi controls and zero-width characters."""
    return _INVISIBLE.sub("", text)


def mark_invisible(html_text: str) -> str:
    """Rendered code with each invisible character shown as a visible ⟨U+XXXX⟩ marker."""
    return _INVISIBLE.sub(_marker, html_text)


def _marker(match: re.Match[str]) -> str:
    return f'<span style="{_MARKER_STYLE}">⟨U+{ord(match.group()):04X}⟩</span>'


# --- deep nesting ------------------------------------------------------------------------------

# Past its nesting limit (maxNesting, 20) markdown-it drops the rest of the text, so more than
# 20 levels of quotes or lists rendered nothing. Raising the limit is no cure: the block parser
# recurses once per level (10,000 levels hit the recursion limit) and the same limit bounds
# inline nesting ("[" * 50_000 would take seconds). Instead, from this level on, the rest of a
# container is shown as one plain paragraph: its text, deeper markers included, at this depth.
# A quote takes one level, a list two (list and item).
FLATTEN_LEVEL = 16


def flatten_deep_blocks(tokenize: BlockTokenize) -> BlockTokenize:
    """Wraps markdown-it's block tokenizer (used by quotes and lists for their content too)."""

    def tokenize_or_flatten(state: StateBlock, start_line: int, end_line: int) -> None:
        if state.level < FLATTEN_LEVEL:
            tokenize(state, start_line, end_line)
        else:
            _flat_paragraph(state, start_line, end_line)

    return tokenize_or_flatten


def _flat_paragraph(state: StateBlock, start_line: int, end_line: int) -> None:
    line = start_line
    while line < end_line and (state.isEmpty(line) or state.sCount[line] >= state.blkIndent):
        line += 1  # a nested call ends where a line is indented less than its container
    content = state.getLines(start_line, line, state.blkIndent, False).strip()
    state.line = line
    if not content:
        return
    opening = state.push("paragraph_open", "p", 1)
    opening.map = [start_line, line]
    inline = state.push("inline", "", 0)
    inline.content = content
    inline.map = [start_line, line]
    inline.children = []
    state.push("paragraph_close", "p", -1)


# --- tables ----------------------------------------------------------------------------------

MAX_TABLE_COLUMNS = 40
TABLE_NOTE_CLASS = "table-note"
TABLE_NOTE_HTML = f'<p class="{TABLE_NOTE_CLASS}">'
MAX_TABLE_ROWS = 500
_CELL_OPEN = frozenset({"th_open", "td_open"})
_CELL_CLOSE = frozenset({"th_close", "td_close"})


# A table whose delimiter row is longer than this is read by markdown-it only up to its first
# MAX_TABLE_COLUMNS columns: its table rule splits and checks every cell of every row in
# Python (a 5,000-column table took 0.2 s before a single cell was dropped).
WIDE_ROW_CHARS = 2000
BlockRule = Callable[["StateBlock", int, int, bool], bool]


def narrow_wide_tables(table_rule: BlockRule) -> BlockRule:
    """Wraps markdown-it's table rule: the rows of a very wide table end, for the rule, after
    the pipe that closes column MAX_TABLE_COLUMNS. Header and delimiter row are cut alike,
    so they still agree on the column count; the note says how many columns there were."""

    def table(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
        delimiter = start_line + 1
        if delimiter >= end_line or _line_length(state, delimiter) <= WIDE_ROW_CHARS:
            return table_rule(state, start_line, end_line, silent)
        columns = _cell_count(state, start_line)
        saved = _narrow_rows(state, start_line, min(end_line, delimiter + MAX_TABLE_ROWS + 1))
        first_token = len(state.tokens)
        try:
            found = table_rule(state, start_line, end_line, silent)
        finally:
            for line, end in saved:
                state.eMarks[line] = end
        if found and not silent and first_token < len(state.tokens):
            state.tokens[first_token].meta["columns"] = columns
        return found

    return table


def _line_length(state: StateBlock, line: int) -> int:
    return int(state.eMarks[line] - state.bMarks[line] - state.tShift[line])


def _cell_count(state: StateBlock, line: int) -> int:
    text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].strip()
    return text.count("|") + 1 - text.startswith("|") - (text.endswith("|") and len(text) > 1)


def _narrow_rows(state: StateBlock, first: int, stop: int) -> list[tuple[int, int]]:
    """Moves the end of each long line in [first, stop) to just after the pipe that ends
    column MAX_TABLE_COLUMNS; returns the old ends to put back."""
    saved = []
    for line in range(first, stop):
        if _line_length(state, line) <= WIDE_ROW_CHARS:
            continue
        start, end = state.bMarks[line] + state.tShift[line], state.eMarks[line]
        pipes = MAX_TABLE_COLUMNS + (1 if state.src.startswith("|", start) else 0)
        position = start - 1
        for _ in range(pipes):
            position = state.src.find("|", position + 1, end)
            if position < 0:
                break
        if position >= 0:
            saved.append((line, end))
            state.eMarks[line] = position + 1
    return saved


def cap_tables(tokens: Sequence[Token]) -> list[Token]:
    """The block tokens with every table cut to MAX_TABLE_COLUMNS × MAX_TABLE_ROWS, and a
    short paragraph after a cut table saying what is not shown (a core rule: before inline
    parsing, so the cells left out cost nothing more)."""
    if not any(token.type == "table_open" for token in tokens):
        return list(tokens)
    out: list[Token] = []
    column, rows, skipping = 0, 0, False
    hidden_columns, hidden_rows, skipping_row = 0, 0, False
    for token in tokens:
        kind = token.type
        if kind == "table_open":
            rows, hidden_rows = 0, 0
            hidden_columns = max(0, int(token.meta.get("columns", 0)) - MAX_TABLE_COLUMNS)
        elif kind == "tr_open":
            column, rows = 0, rows + 1
            skipping_row = rows > MAX_TABLE_ROWS + 1  # the header row does not count
            hidden_rows += skipping_row
        if skipping_row:
            if kind == "tr_close":
                skipping_row = False
            continue
        if kind in _CELL_OPEN:
            column += 1
            skipping = column > MAX_TABLE_COLUMNS
            hidden_columns = max(hidden_columns, column - MAX_TABLE_COLUMNS)
        if not skipping:
            out.append(token)
        if kind in _CELL_CLOSE:
            skipping = False
        if kind == "table_close":
            out.extend(_table_note(token, hidden_columns, hidden_rows))
    return out


def _table_note(table_close: Token, columns: int, rows: int) -> list[Token]:
    if not columns and not rows:
        return []
    from markdown_it.token import Token

    parts = []
    if columns:
        parts.append(f"{columns} more column{'s' if columns != 1 else ''}")
    if rows:
        parts.append(f"{rows} more row{'s' if rows != 1 else ''}")
    text = f"(Table cut: {' and '.join(parts)} not shown.)"
    # Runs before markdown-it's inline rule, which fills in the children.
    inline = Token("inline", "", 0, content=text, children=[])
    opening = Token("paragraph_open", "p", 1, attrs={"class": TABLE_NOTE_CLASS}, block=True)
    closing = Token("paragraph_close", "p", -1, block=True)
    return [opening, inline, closing]
