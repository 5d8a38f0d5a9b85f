"""Inline `<think>…</think>` sections, as some reasoning models send them inside the content."""

from __future__ import annotations

from deltadesk.core.events import ReasoningDelta, TextDelta


class ThinkTagSplitter:
    """Splits `<think>…</think>` (sent inline by some reasoning models) out of the content.

    Only a tag at the very start of the answer opens a thinking section, so an answer that
    merely talks about the tag is left alone. Tags may be cut across chunks. The newlines
    that follow `</think>` are dropped, even when they arrive in a later chunk.
    """

    OPEN = "<think>"
    CLOSE = "</think>"
    # Blank text held back while waiting to see whether `<think>` follows. Past this much, it
    # is answer text: a stream of blanks must not be held (and re-joined) without end.
    MAX_LEADING_BLANKS = 1024

    def __init__(self) -> None:
        self._inside = False
        self._may_open = True  # until the first non-blank answer text
        self._after_close = False  # just past `</think>`: newlines there are not answer text
        self._pending = ""  # a possible partial tag held back from the last chunk

    def feed(self, text: str) -> list[TextDelta | ReasoningDelta]:
        if not (self._inside or self._may_open or self._after_close or self._pending):
            return [TextDelta(text)]  # the common case, kept cheap
        text = self._pending + text
        self._pending = ""
        events: list[TextDelta | ReasoningDelta] = []
        while text:
            if self._inside:
                text = self._consume_until(self.CLOSE, text, events)
            elif self._after_close:
                text = text.lstrip("\n")
                # Only once answer text shows can the newlines after the tag be over.
                self._after_close = not text
            elif self._may_open:
                stripped = text.lstrip()
                too_blank = len(text) - len(stripped) > self.MAX_LEADING_BLANKS
                if self.OPEN.startswith(stripped) and not too_blank:  # too short to tell yet
                    self._pending = text
                    return events
                if stripped.startswith(self.OPEN) and not too_blank:
                    self._inside = True
                    self._may_open = False
                    text = stripped[len(self.OPEN) :]
                else:
                    self._may_open = False
            else:
                events.append(TextDelta(text))
                text = ""
        return events

    def _consume_until(self, tag: str, text: str, events: list[TextDelta | ReasoningDelta]) -> str:
        index = text.find(tag)
        if index >= 0:
            if index:
                events.append(ReasoningDelta(text[:index]))
            self._inside = False
            self._after_close = True
            return text[index + len(tag) :]
        keep = _partial_suffix(text, tag)
        if len(text) > keep:
            events.append(ReasoningDelta(text[: len(text) - keep]))
        self._pending = text[len(text) - keep :]
        return ""

    def flush(self) -> list[TextDelta | ReasoningDelta]:
        pending, self._pending = self._pending, ""
        if not pending:
            return []
        return [ReasoningDelta(pending) if self._inside else TextDelta(pending)]


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could be the start of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0
