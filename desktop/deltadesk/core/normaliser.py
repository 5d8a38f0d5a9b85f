"""SDK chunks of any provider dialect, turned into the typed events of events.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deltadesk.core.events import Finished, ReasoningDelta, StreamEvent, Usage
from deltadesk.core.text_safety import SurrogateJoiner
from deltadesk.core.think import ThinkTagSplitter

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk


class MalformedChunk(ValueError):
    """A chunk that parsed as JSON but not as a chat chunk (the SDK does not validate)."""


class ChunkNormaliser:
    """Turns SDK chunks of any dialect into events. One instance per streamed answer.

    Every text it returns encodes as UTF-8: a surrogate pair split across two chunks (a
    server escaping an emoji as "\\ud83d" then "\\ude00") is rejoined, a lone one replaced.
    Content and reasoning are separate streams, so each has its own joiner.
    """

    def __init__(self) -> None:
        self._think = ThinkTagSplitter()
        self._content = SurrogateJoiner()
        self._reasoning = SurrogateJoiner()
        self.finished = False

    def feed(self, chunk: ChatCompletionChunk) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        # The SDK builds chunks without validating them: any field may hold any JSON value.
        choices: Any = chunk.choices
        if not isinstance(choices, list):
            raise MalformedChunk("`choices` is not a list")
        try:
            # Usage comes in a final chunk whose `choices` is empty: never index choices[0].
            for choice in choices:
                if not hasattr(choice, "delta"):  # a string or number where a choice belongs
                    raise MalformedChunk("a choice is not an object")
                if choice.index == 0:
                    self._feed_choice(choice, events)
        except AttributeError as exc:  # a choice or delta that is not an object
            raise MalformedChunk(str(exc)) from exc
        if chunk.usage is not None:
            events.append(_usage(chunk.usage))
        return events

    def _feed_choice(self, choice: Any, events: list[StreamEvent]) -> None:
        delta = choice.delta
        if delta is not None:
            reasoning = _reasoning_text(delta)
            if reasoning:
                self._add_reasoning(self._reasoning.feed(reasoning), events)
            content = delta.content
            if content is not None and not isinstance(content, str):
                raise MalformedChunk("`content` is not a string")
            if content:
                self._add_content(self._content.feed(content), events)
        reason = choice.finish_reason
        if reason:
            if not isinstance(reason, str):
                raise MalformedChunk("`finish_reason` is not a string")
            events.extend(self.flush())
            events.append(Finished(reason))
            self.finished = True

    def flush(self) -> list[StreamEvent]:
        """What is held back (a partial tag, half a surrogate pair), as the stream ends."""
        events: list[StreamEvent] = []
        self._add_reasoning(self._reasoning.flush(), events)
        self._add_content(self._content.flush(), events)
        events.extend(self._think.flush())
        return events

    def _add_reasoning(self, text: str, events: list[StreamEvent]) -> None:
        if text:
            events.append(ReasoningDelta(text))

    def _add_content(self, text: str, events: list[StreamEvent]) -> None:
        if text:
            events.extend(self._think.feed(text))


def _reasoning_text(delta: Any) -> str | None:
    # DeepSeek and vLLM send `reasoning_content`, OpenRouter and Ollama `reasoning`.
    extra = getattr(delta, "model_extra", None)
    if not extra:  # the common case: a plain content delta
        return None
    for field in ("reasoning_content", "reasoning"):
        value = extra.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "completion_tokens_details", None)
    return Usage(
        prompt_tokens=_count(getattr(usage, "prompt_tokens", None)),
        completion_tokens=_count(getattr(usage, "completion_tokens", None)),
        reasoning_tokens=_count(getattr(details, "reasoning_tokens", None)),
    )


def _count(value: Any) -> int:
    """A token count as sent, or 0 for anything that is not a count (figures, not content)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
