"""The answer being streamed, as the controller holds it, and the figures shown about it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from deltadesk.answer_saving import AnswerSaver
from deltadesk.core.errors import ChatError
from deltadesk.core.events import Usage
from deltadesk.waiting_note import WaitingClock


@dataclass
class StreamStats:
    """What the status line shows about the current (or last) answer."""

    model: str = ""
    ttft_ms: float | None = None
    tokens: int = 0  # answer + reasoning deltas seen; replaced by the provider's count at the end
    tokens_per_second: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    note: str = ""  # retrying, the length limit hit, or why it failed
    usage_missing: bool = False  # the answer ended and the provider sent no token counts
    status: str = "streaming"  # how the answer ended, once it has
    # How long the model thought: its first reasoning token to its first text token, or to
    # the end when no text came. None without reasoning (or while it is still thinking).
    reasoning_ms: float | None = None

    def update_rate(self, first_token_at: float | None, *, final: bool = False) -> None:
        if first_token_at is None:
            return
        elapsed = time.monotonic() - first_token_at
        # At the end the provider's count, when it sent one, beats the deltas counted.
        tokens = self.completion_tokens if final and self.completion_tokens else self.tokens
        # Mid-stream, the first moments give wild figures; at the end any span will do.
        if elapsed > (0.0 if final else 0.2):
            self.tokens_per_second = tokens / elapsed

    def ended(self, status: str, error: ChatError | None, usage: Usage | None) -> None:
        self.status = status
        if error is not None:
            self.note = f"{status}: {error.message}"
        if usage is not None:
            self.prompt_tokens = usage.prompt_tokens
            self.completion_tokens = usage.completion_tokens
        self.usage_missing = usage is None and status == "done"


@dataclass
class LiveAnswer:
    """The answer being streamed: what has arrived, what the view has not seen yet."""

    id: int
    started: float
    saver: AnswerSaver
    waiting: WaitingClock
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    unsent_text: list[str] = field(default_factory=list)
    unsent_reasoning: list[str] = field(default_factory=list)
    first_token_at: float | None = None
    first_reasoning_at: float | None = None
    first_text_at: float | None = None
    last_saved: float = 0.0
    usage: Usage | None = None
    waiting_note: str | None = None  # the line last shown in the answer's place

    def shown_so_far(self) -> tuple[str, str]:
        """(answer, reasoning) as far as the view has been given them."""
        return _flushed(self.text, self.unsent_text), _flushed(
            self.reasoning, self.unsent_reasoning
        )


def _flushed(parts: list[str], unsent: list[str]) -> str:
    # Every part goes into both lists; the unsent ones are the newest, cleared at each flush.
    return "".join(parts[: len(parts) - len(unsent)])
