"""SDK chunks of any provider dialect, turned into the typed events of events.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from deltadesk.core.events import Finished, ReasoningDelta, StreamEvent, Usage
from deltadesk.core.text_safety import SurrogateJoiner
from deltadesk.core.think import ThinkTagSplitter

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk


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
        # Usage comes in a final chunk whose `choices` is empty: never index choices[0].
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta is not None:
                reasoning = _reasoning_text(delta)
                if reasoning:
                    self._add_reasoning(self._reasoning.feed(reasoning), events)
                if delta.content:
                    self._add_content(self._content.feed(delta.content), events)
            if choice.finish_reason:
                events.extend(self.flush())
                events.append(Finished(choice.finish_reason))
                self.finished = True
        if chunk.usage is not None:
            events.append(_usage(chunk.usage))
        return events

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
    extra = delta.model_extra or {}
    for field in ("reasoning_content", "reasoning"):
        value = extra.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def _usage(usage: Any) -> Usage:
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) or 0
    return Usage(
        prompt_tokens=usage.prompt_tokens or 0,
        completion_tokens=usage.completion_tokens or 0,
        reasoning_tokens=reasoning,
    )
