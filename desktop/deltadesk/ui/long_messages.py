"""How much of one message the chat view lays out at once.

Qt's text layout of a huge message is slow (a stored 1 MB line took 68 s; a 5 MB delta over
150 s, with Stop unable to act). So the view lays out at most PAGE_CHARS of a message's text
and shows a line under it: "Showing 100,000 of 5,000,000 characters · Show more · Open as
text". Show more lays out the next page; Open as text shows all of it in a plain-text viewer
(text_viewer.py). The text itself is kept whole: stored, copied and continued as it came.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# One page: measured in the real view, a page of one unbroken line lays out in well under
# 200 ms once it has break opportunities (core/markdown_safety.py).
PAGE_CHARS = 100_000


@dataclass
class Paging:
    """A message's whole text and how much of it is laid out."""

    chunks: list[str] = field(default_factory=list)
    total: int = 0
    laid_out: int = 0
    limit: int = PAGE_CHARS
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
        room = max(0, self.limit - self.laid_out)
        part = text[:room]
        self.laid_out += len(part)
        return part

    def next_page(self) -> str:
        """Raises the limit by a page; returns the text that now fits and was not laid out."""
        self.limit = self.laid_out + PAGE_CHARS
        part = self.text()[self.laid_out : self.limit]
        self.laid_out += len(part)
        return part

    def summary(self) -> str:
        if not self.cut:
            return "Part of a table is not shown."
        return f"Showing {self.laid_out:,} of {self.total:,} characters."
