"""What `deltadesk ask` writes: the answer to stdout, reasoning and notes to stderr, made safe
for a terminal.

Text from the model and the server is untrusted. A terminal obeys control characters (OSC 52
writes the clipboard, OSC 8 makes links, cursor moves can fake a shell prompt), so they are
stripped when a stream is a terminal, unless --raw asks for the bytes as sent. Error messages
are always stripped: they are never data a pipe wants. Whatever reaches a stream can be
encoded: a lone surrogate, or a character the stream's encoding lacks, becomes a
replacement character instead of a crash.
"""

from __future__ import annotations

import time
from typing import TextIO

from deltadesk.core.events import ReasoningDelta, Retrying, TextDelta, Usage
from deltadesk.core.text_safety import replace_lone_surrogates, strip_control_chars

WAITING_NOTE = "[waiting for the first token…]"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def never_fail_to_encode(stream: TextIO) -> None:
    """Characters the stream's encoding cannot hold are replaced, not raised."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="replace")


class SafeStream:
    """One output stream: untrusted text is made encodable, and stripped of control
    characters when the stream is a terminal (unless raw)."""

    def __init__(self, stream: TextIO, *, raw: bool = False) -> None:
        self.stream = stream
        self.strips_controls = not raw and is_terminal(stream)
        self.at_line_start = True

    def write(self, text: str) -> None:
        text = replace_lone_surrogates(text)
        if self.strips_controls:
            text = strip_control_chars(text)
        if text:
            self.stream.write(text)
            self.stream.flush()
            self.at_line_start = text.endswith("\n")

    def note(self, text: str) -> None:
        """A line of our own about what happens (errors, retries): never raw."""
        line = strip_control_chars(replace_lone_surrogates(text))
        prefix = "" if self.at_line_start else "\n"
        self.stream.write(f"{prefix}{line}\n")
        self.stream.flush()
        self.at_line_start = True

    def end_line(self) -> None:
        if not self.at_line_start:
            self.stream.write("\n")
            self.at_line_start = True
        self.stream.flush()


class AnswerPrinter:
    """Writes the answer as it arrives (text to stdout, reasoning and notes to stderr) and
    keeps it for the history."""

    def __init__(self, out: TextIO, err: TextIO, *, raw: bool = False) -> None:
        self.out = SafeStream(out, raw=raw)
        self.err = SafeStream(err, raw=raw)
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.usage: Usage | None = None
        self.started = time.monotonic()
        self.ttft_ms: float | None = None

    @property
    def has_token(self) -> bool:
        return self.ttft_ms is not None

    def take(self, event: object) -> None:
        if isinstance(event, TextDelta | ReasoningDelta) and self.ttft_ms is None:
            self.ttft_ms = (time.monotonic() - self.started) * 1000
        if isinstance(event, TextDelta):
            self.text.append(event.text)
            self.out.write(event.text)
        elif isinstance(event, ReasoningDelta):
            self.reasoning.append(event.text)
            self.err.write(event.text)
        elif isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, Retrying):
            self.err.note(f"[{event.reason} — retrying in {event.delay:.1f} s]")

    def say_waiting(self) -> None:
        """The first-token signal: said once, when the wait passes the signal mark."""
        if not self.has_token:
            self.err.note(WAITING_NOTE)

    def note(self, text: str) -> None:
        """A line on stderr; the answer on stdout is not touched (it may go on after it)."""
        self.err.note(text)

    def fail(self, text: str) -> None:
        """The answer ends here: its line is closed, then why it ended goes to stderr."""
        self.out.end_line()
        self.err.note(text)

    def end_line(self) -> None:
        self.out.end_line()
        self.err.end_line()
