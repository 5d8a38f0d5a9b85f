"""Full-text search results, and the two pieces of text handling around the FTS5 query:
turning what a person typed into a query that cannot fail, and turning FTS5's marked snippet
into plain text with the offsets of the hits.

The query: every word ANDed, the last one also as a prefix (typing "lisb" finds "Lisbon"),
each word quoted so nothing typed is an operator (AND, OR, NOT, NEAR, ``*``, ``^``, ``:``
column filters, parentheses and quotes are all just text, and text that is not a word is
dropped as the index's tokenizer drops it). A query with no word finds nothing.

The snippet: FTS5 wraps each hit in markers. They are made anew for every search from a
random nonce between private-use characters, so no text in the history can contain them
(it cannot guess them), and what stands between them is cut into plain text and offsets.
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
SNIPPET_TOKENS = 24  # what FTS5's snippet() is asked for (it counts words, not characters)
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
    """FTS5's marked text as one plain line and the offsets of its hits: control characters
    gone, every run of white space one space, at most SNIPPET_CHARS around the first hit.

    Cleaned piece by piece (not all at once), so an escape sequence in the text can never
    swallow a marker and leave its partner alone."""
    text = ""
    highlights: list[tuple[int, int]] = []
    for inside, piece in _split_markers(marked, markers):
        piece = _WHITE_SPACE.sub(" ", strip_control_chars(piece))
        if piece.startswith(" ") and (not text or text.endswith(" ")):
            piece = piece[1:]  # one space between pieces, none at the start
        if not piece:
            continue
        if inside:
            if highlights and highlights[-1][1] == len(text):
                highlights[-1] = (highlights[-1][0], len(text) + len(piece))
            else:
                highlights.append((len(text), len(text) + len(piece)))
        text += piece
    if text.endswith(" "):
        text = text[:-1]
        highlights = [(start, min(end, len(text))) for start, end in highlights]
    return _cut(text, highlights)


_WHITE_SPACE = re.compile(r"\s+")


def _split_markers(marked: str, markers: Markers) -> list[tuple[bool, str]]:
    """``marked`` as pieces, each with whether it stands between an open and a close."""
    pieces: list[tuple[bool, str]] = []
    rest, inside = marked, False
    while True:
        marker = markers.close if inside else markers.open
        at = rest.find(marker)
        if at < 0:
            pieces.append((inside, rest))
            return pieces
        pieces.append((inside, rest[:at]))
        rest, inside = rest[at + len(marker) :], not inside


def _cut(text: str, highlights: list[tuple[int, int]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """At most SNIPPET_CHARS of ``text``, the first hit in the first quarter or so, an
    ellipsis where something was cut; the offsets moved and clipped to what is left."""
    if len(text) <= SNIPPET_CHARS:
        return text, tuple(highlights)
    budget = SNIPPET_CHARS - 2  # room for an ellipsis each side
    first = highlights[0][0] if highlights else 0
    start = max(0, min(first - budget // 4, len(text) - budget))
    end = start + budget
    lead = ELLIPSIS if start > 0 and not text.startswith(ELLIPSIS, start) else ""
    tail = ELLIPSIS if end < len(text) and not text.endswith(ELLIPSIS, 0, end) else ""
    shift = len(lead) - start
    kept = [
        (max(begin, start) + shift, min(stop, end) + shift)
        for begin, stop in highlights
        if begin < end and stop > start
    ]
    return lead + text[start:end] + tail, tuple(kept)


__all__ = ["SearchHit", "match_query", "plain_snippet", "query_words"]
