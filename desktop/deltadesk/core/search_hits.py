"""Full-text search results, and the two pieces of text handling around the FTS5 query:
turning what a person typed into a query that cannot fail, and turning FTS5's highlighted
text into a plain snippet with the offsets of the hits.

The query: every word ANDed, the last one also as a prefix (typing "lisb" finds "Lisbon"),
each word quoted so nothing typed is an operator (AND, OR, NOT, NEAR, ``*``, ``^``, ``:``
column filters, parentheses and quotes are all just text, and text that is not a word is
dropped as the index's tokenizer drops it). A query with no word finds nothing.

The snippet: FTS5's highlight() wraps each hit in markers (snippet() would choose the part
to show itself, but its cost grows with the square of the hits in a message: a common word in
a long answer took minutes), and the stretch with the most different query words is shown.
The markers are made anew for every search from a random nonce between private-use
characters, so no text in the history can contain them (it cannot guess them); what stands
between them becomes plain text and offsets.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from deltadesk.core.text_safety import strip_control_chars

MAX_QUERY_CHARS = 1000  # beyond this, what was typed is not read
MAX_WORDS = 16  # further words are left out (the first ones already narrow enough)
MAX_WORD_CHARS = 100
# A one-letter last word is no prefix: "a*" is every word starting with a, a scan of the
# whole term list with no prefix index (prefix='2 3') to help, and no use while typing.
MIN_PREFIX_CHARS = 2
SNIPPET_CHARS = 200  # at most, ellipses included
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class SearchHit:
    conversation_id: int
    message_id: int | None  # None: the hit is in the title
    title: str  # the conversation's title
    snippet: str  # plain text around the hit, <= SNIPPET_CHARS, no markup
    highlights: tuple[tuple[int, int], ...]  # (start, end) offsets of hit terms in snippet
    role: str | None  # "user"/"assistant"/... ; None for a title hit
    updated_at: float  # the message's (else the conversation's) time, epoch seconds


def _is_word_char(char: str) -> bool:
    # The tokenizer's (unicode61) token characters: letters, numbers, marks, private use.
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def query_words(text: str) -> list[str]:
    """The words of ``text`` as the index sees them: runs of letters, numbers and marks
    (a run of marks alone is nothing: the tokenizer drops it as a diacritic)."""
    words: list[str] = []
    current: list[str] = []
    for char in text[:MAX_QUERY_CHARS] + " ":
        if _is_word_char(char):
            current.append(char)
            continue
        if current:
            word = "".join(current)[:MAX_WORD_CHARS]
            if any(unicodedata.category(c)[0] != "M" for c in word):
                words.append(word)
            current = []
        if len(words) == MAX_WORDS:
            break
    return words


def match_query(text: str) -> str | None:
    """The FTS5 MATCH expression for what was typed; None when it holds no word."""
    words = query_words(text)
    if not words:
        return None
    quoted = [f'"{word}"' for word in words]  # word characters only: no quote inside
    if len(words[-1]) >= MIN_PREFIX_CHARS:
        quoted[-1] += " *"
    return " ".join(quoted)


@dataclass(frozen=True, slots=True)
class Markers:
    """The open and close markers of one search: a private-use character each side of a
    random nonce, different every time."""

    open: str
    close: str

    @classmethod
    def fresh(cls) -> Markers:
        nonce = secrets.token_hex(8)
        return cls(f"\ue000{nonce}\ue001", f"\ue002{nonce}\ue003")


def plain_snippet(marked: str, markers: Markers) -> tuple[str, tuple[tuple[int, int], ...]]:
    """FTS5's highlighted text as one plain line of at most SNIPPET_CHARS and the offsets of
    its hits: control characters gone, every run of white space one space, and the part shown
    the one where the most different words of the query are hit close together.

    Only the text near that part is cleaned, so a long message costs little more than a short
    one; and it is cleaned piece by piece (the markers cut the pieces), so an escape sequence
    in the text can never swallow a marker and leave its partner alone."""
    pieces, cut_before, cut_after = _around_best(_split_markers(marked, markers))
    text, highlights = _clean(pieces)
    return _cut(text, highlights, cut_before, cut_after)


_WHITE_SPACE = re.compile(r"\s+")
# Hits looked at to choose the part to show: a word hit thousands of times has its best
# stretch among the first of them.
_HITS_WEIGHED = 1000
# How much text (before cleaning) is kept around the best hit: enough for a snippet when
# cleaning removes some.
_KEPT_BEFORE = SNIPPET_CHARS // 2
_KEPT_AFTER = SNIPPET_CHARS + SNIPPET_CHARS // 4


def _split_markers(marked: str, markers: Markers) -> list[tuple[bool, str]]:
    """``marked`` as pieces, each with whether it stands between an open and a close."""
    pieces: list[tuple[bool, str]] = []
    position, inside = 0, False
    while True:
        marker = markers.close if inside else markers.open
        at = marked.find(marker, position)
        if at < 0:
            pieces.append((inside, marked[position:]))
            return pieces
        pieces.append((inside, marked[position:at]))
        position, inside = at + len(marker), not inside


def _around_best(pieces: list[tuple[bool, str]]) -> tuple[list[tuple[bool, str]], bool, bool]:
    """The pieces near the best stretch of hits (a hit is kept whole, other text is cut), and
    whether text was left out before and after."""
    offsets: list[int] = []
    total = 0
    for _, piece in pieces:
        offsets.append(total)
        total += len(piece)
    if total <= _KEPT_BEFORE + _KEPT_AFTER:
        return pieces, False, False
    hits = [
        (offsets[index], offsets[index] + len(piece), piece.casefold())
        for index, (inside, piece) in enumerate(pieces)
        if inside
    ][:_HITS_WEIGHED]
    best = _best_start(hits, SNIPPET_CHARS * 2 // 3)
    low, high = best - _KEPT_BEFORE, best + _KEPT_AFTER
    kept: list[tuple[bool, str]] = []
    for (inside, piece), start in zip(pieces, offsets, strict=True):
        if start + len(piece) <= low or start >= high:
            continue
        kept.append((inside, piece if inside else piece[max(0, low - start) : high - start]))
    return kept, low > 0, high < total


def _best_start(hits: list[tuple[int, int, str]], span: int) -> int:
    """Where the stretch of ``span`` characters holding the most different hit words starts
    (the earliest of equals); 0 with no hit."""
    best, best_count = 0, 0
    for index, (start, _, _) in enumerate(hits):
        seen = set()
        for other in range(index, len(hits)):
            if hits[other][1] > start + span:
                break
            seen.add(hits[other][2])
        if len(seen) > best_count:
            best, best_count = start, len(seen)
    return best


def _clean(pieces: list[tuple[bool, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The pieces as one plain line, and the offsets of the hits in it."""
    cleaned: list[str] = []
    length = 0
    highlights: list[tuple[int, int]] = []
    for inside, raw in pieces:
        piece = _WHITE_SPACE.sub(" ", strip_control_chars(raw))
        if piece.startswith(" ") and (not cleaned or cleaned[-1].endswith(" ")):
            piece = piece[1:]  # one space between pieces, none at the start
        if not piece:
            continue
        if inside:
            if highlights and highlights[-1][1] == length:
                highlights[-1] = (highlights[-1][0], length + len(piece))
            else:
                highlights.append((length, length + len(piece)))
        cleaned.append(piece)
        length += len(piece)
    text = "".join(cleaned)
    if text.endswith(" "):
        text = text[:-1]
        highlights = [(start, min(end, len(text))) for start, end in highlights]
    return text, highlights


def _cut(
    text: str, highlights: list[tuple[int, int]], cut_before: bool, cut_after: bool
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """At most SNIPPET_CHARS of ``text`` around its best stretch of hits, an ellipsis where
    something was left out; the offsets moved and clipped to what is left."""
    if len(text) + cut_before + cut_after <= SNIPPET_CHARS:
        start, end = 0, len(text)
    else:
        budget = SNIPPET_CHARS - 2  # room for an ellipsis each side
        words = [(a, b, text[a:b].casefold()) for a, b in highlights[:_HITS_WEIGHED]]
        first = _best_start(words, budget * 2 // 3)
        start = max(0, min(first - budget // 4, len(text) - budget))
        if start > 0:  # begin at a word, if one begins shortly before the hit
            space = text.find(" ", start, first)
            start = space + 1 if space >= 0 else start
        end = start + budget
    lead = ELLIPSIS if start > 0 or cut_before else ""
    tail = ELLIPSIS if end < len(text) or cut_after else ""
    shift = len(lead) - start
    kept = [
        (max(begin, start) + shift, min(stop, end) + shift)
        for begin, stop in highlights
        if begin < end and stop > start
    ]
    return lead + text[start:end] + tail, tuple(kept)


__all__ = ["SearchHit", "match_query", "plain_snippet", "query_words"]
