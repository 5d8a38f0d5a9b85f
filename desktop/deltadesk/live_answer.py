"""The answer being streamed, as the controller holds it, and the figures shown about it."""

from __future__ import annotations

from dataclasses import dataclass, field

from deltadesk.answer_saving import AnswerSaver
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
