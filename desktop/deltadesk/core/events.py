"""The stream event types: every provider dialect is normalised into these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), shown apart from the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, from the final usage chunk when the provider sends one."""

    prompt_tokens: int
    completion_tokens: int
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Finished:
    """The model said it is done (finish_reason), e.g. "stop" or "length"."""

    reason: str


@dataclass(frozen=True, slots=True)
class Retrying:
    """Before the first token a try failed and another will follow after `delay` seconds."""

    attempt: int
    delay: float
    reason: str


StreamEvent = TextDelta | ReasoningDelta | Usage | Finished | Retrying
