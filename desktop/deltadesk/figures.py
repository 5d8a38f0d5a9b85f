"""The line of figures under an answer: "model · first token 812 ms · 41 tok/s · 230 tokens ·
done". From a stored message, or live from a streaming answer's StreamStats. Plain text (the
model name comes from outside: the widget shows it as plain text); no Qt here."""

from __future__ import annotations

from deltadesk.core.store import Message
from deltadesk.core.text_safety import strip_control_chars
from deltadesk.live_answer import StreamStats

MAX_MODEL_CHARS = 80
USAGE_NOT_REPORTED = "usage not reported by this model"


def _line(
    model: str | None,
    ttft_ms: float | None,
    tokens_per_second: float | None,
    tokens: int | None,
    estimated: int | None,
    status: str,
) -> str:
    parts = [" ".join(strip_control_chars(model or "").split())[:MAX_MODEL_CHARS]]
    if ttft_ms is not None:
        parts.append(f"first token {ttft_ms:.0f} ms")
    if tokens_per_second is not None:
        parts.append(f"{tokens_per_second:.0f} tok/s")
    if tokens is not None:
        parts.append(f"{tokens} tokens")
    elif estimated:
        parts.append(f"~{estimated} tokens")
    parts.append(status)
    return " · ".join(part for part in parts if part)


def message_figures(message: Message) -> str:
    """The figures of a stored answer ("" for a prompt)."""
    if message.role != "assistant":
        return ""
    return _line(
        message.model,
        message.ttft_ms,
        message.tokens_per_second,
        message.completion_tokens,
        message.estimated_tokens,
        message.status,
    )


def live_figures(stats: StreamStats) -> str:
    """The figures of an answer as it streams (and as it ended, before it is read back)."""
    return _line(
        stats.model,
        stats.ttft_ms,
        stats.tokens_per_second,
        stats.completion_tokens,
        stats.tokens,
        stats.status,
    )


def format_stats(stats: StreamStats) -> str:
    """The status line: the latest answer of the conversation in view."""
    parts = [stats.model]
    if stats.note:
        parts.append(stats.note)
    if stats.ttft_ms is not None:
        parts.append(f"first token {stats.ttft_ms:.0f} ms")
    if stats.tokens_per_second is not None:
        parts.append(f"{stats.tokens_per_second:.0f} tok/s")
    if stats.completion_tokens is not None:
        parts.append(f"{stats.prompt_tokens} in / {stats.completion_tokens} out tokens")
    elif stats.tokens:
        parts.append(f"~{stats.tokens} tokens")
    if stats.usage_missing:
        parts.append(USAGE_NOT_REPORTED)
    return " · ".join(parts)
