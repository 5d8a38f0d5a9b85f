"""How much of one message the chat view lays out at once.

Qt's text layout of a huge message is slow (a stored 1 MB line took 68 s; a 5 MB delta over
150 s, with Stop unable to act). So the view lays out at most PAGE_CHARS of a message's text
and shows a line under it: "Showing 100,000 of 5,000,000 characters · Show more · Open as
text". Show more lays out the next page; Open as text shows all of it in a plain-text viewer
(text_viewer.py). The text itself is kept whole: stored, copied and continued as it came.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# One page: measured in the real view, a page of one unbroken line lays out in well under
# 200 ms once it has break opportunities (core/markdown_safety.py).
PAGE_CHARS = 100_000
# markdown-it's inline parser spends about 5 µs on each markup character of a paragraph (a
# line of 100,000 "&" took 0.46 s, of "[" 2.6 s, of letters 0.01 s), so a page also ends
# after this much markup, "[" and "\\" weighing more for the link and escape scans they start.
PAGE_MARKUP_COST = 20_000
_MARKUP = re.compile(r"[!#$%&*+\-:<=>@\[\\\]^_`{}~]")
_MARKUP_WEIGHT = {"[": 5, "\\": 2}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


@dataclass
class Paging:
    """A message's whole text and how much of it is laid out."""

    chunks: list[str] = field(default_factory=list)
    total: int = 0
    laid_out: int = 0
    limit: int = PAGE_CHARS
    markup_cost: int = 0  # of the text laid out since the page began
    table_cut: bool = False  # a table in it shows only some of its columns or rows

    @property
    def cut(self) -> bool:
        """True when part of the text is not laid out."""
        return self.total > self.laid_out

    @property
    def needs_line(self) -> bool:
        """True when the view should offer the rest (Show more, Open as text)."""
        return self.cut or self.table_cut

    def text(self) -> str:
        if len(self.chunks) > 1:
            self.chunks = ["".join(self.chunks)]
        return self.chunks[0] if self.chunks else ""

    def take(self, text: str) -> str:
        """Adds `text`; returns the part of it to lay out now (empty once over the limit)."""
        self.chunks.append(text)
        self.total += len(text)
        if self.laid_out < self.total - len(text):
            return ""  # already cut: the rest waits for Show more
        part = self._fitting(text)
        self.laid_out += len(part)
        if len(part) < len(text):
            self.limit = self.laid_out  # the page ended early, on markup
        return part

    def next_page(self) -> str:
        """Starts a new page; returns the text that now fits and was not laid out."""
        self.limit = self.laid_out + PAGE_CHARS
        self.markup_cost = 0
        part = self._fitting(self.text()[self.laid_out : self.limit])
        self.laid_out += len(part)
        return part

    def _fitting(self, text: str) -> str:
        """The start of `text` that fits on the page, by length and by markup cost."""
        text = text[: max(0, self.limit - self.laid_out)]
        for markup in _MARKUP.finditer(text):
            self.markup_cost += _MARKUP_WEIGHT.get(markup.group(), 1)
            if self.markup_cost > PAGE_MARKUP_COST:
                return text[: markup.start()]
        return text

    def open_fence(self) -> str | None:
        """The fence (```, ~~~~…) a code block that the laid-out text ends inside of opened,
        so the next page can go on as code. An approximation of markdown's rules (it ignores
        containers), good enough for a page boundary."""
        fence: str | None = None
        for match in _FENCE.finditer(self.text(), 0, self.laid_out):
            marker = match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        return fence

    def summary(self) -> str:
        if not self.cut:
            return "Part of a table is not shown."
        return f"Showing {self.laid_out:,} of {self.total:,} characters."
