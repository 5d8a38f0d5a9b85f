"""The embedded offline provider: an OpenAI-style chat API with canned markdown answers.

It runs on the loopback SSEServer (sse_server.py), so the app works with no network and no
key, through exactly the same SDK path as a real provider.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from deltadesk.core.profiles import DEMO_MODEL
from deltadesk.core.sse_server import (
    Handler,
    Request,
    Responder,
    SSEServer,
    error_body,
)

log = logging.getLogger(__name__)

DEMO_MODELS = (DEMO_MODEL,)  # the names the demo answers to
DEFAULT_TOKENS_PER_SECOND = 50.0
TPS_ENV_VAR = "DELTADESK_DEMO_TPS"
# A long conversation with every canned answer in it is well under this.
DEMO_MAX_BODY_BYTES = 2 * 1024 * 1024

# --------------------------------------------------------------------------- the demo provider

# Which canned answer (by file stem) a question is about; the first match wins.
_TOPIC_KEYWORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("python", frozenset({"code", "python", "script", "function", "program", "snippet"})),
    ("compare", frozenset({"table", "compare", "comparison", "versus", "vs", "difference"})),
    ("streaming", frozenset({"stream", "streaming", "sse", "token", "tokens", "stop"})),
    ("prompts", frozenset({"prompt", "prompts", "tips", "advice", "better"})),
)
_TOPIC_DESCRIPTIONS = {
    "python": "a code example, so a short, runnable Python script fits best",
    "compare": "comparing options, so a table with a short verdict fits best",
    "streaming": "how answers stream, so I should walk through the path of one token",
    "prompts": "asking good questions, so practical habits and examples fit best",
    "long": "a long answer, so every part I know, one after another",
}
# Asking for a long answer gets all the canned answers in one: a way to try the app's
# smoothness on long output without a real provider.
_LONG_KEYWORDS = frozenset({"long", "longer", "everything"})
_GENERIC_DESCRIPTION = "something open-ended, so a structured note with a few examples fits"
_TOKEN_PATTERN = re.compile(r"\s*\w{1,12}|\s*[^\w\s]{1,8}|\s+")
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>#|~])")


def split_tokens(text: str) -> list[str]:
    """Cut text into model-like tokens: a word with its leading whitespace, punctuation runs.

    Every character lands in exactly one token, so "".join(split_tokens(t)) == t always.
    """
    return _TOKEN_PATTERN.findall(text)


def load_demo_answers() -> list[str]:
    """The canned markdown answers, in file-name order."""
    return list(_load_named_answers().values())


def _load_named_answers() -> dict[str, str]:
    # importlib.resources works from a checkout (PYTHONPATH=desktop), a wheel and a bundle.
    folder = files("deltadesk") / "resources" / "demo"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".md")),
        key=lambda entry: entry.name,
    )
    return {_topic_of(entry.name): entry.read_text(encoding="utf-8") for entry in entries}


def _topic_of(file_name: str) -> str:
    # "02-python.md" → "python": the number only orders the files.
    return file_name.removesuffix(".md").split("-", 1)[-1]


@dataclass(frozen=True)
class _Reply:
    reasoning: str
    answer: str


class _AnswerPicker:
    """Chooses a reply for a conversation: by keyword, else the next answer in turn."""

    def __init__(self, named_answers: dict[str, str]) -> None:
        if not named_answers:
            raise ValueError("the demo provider needs at least one answer")
        self._named = named_answers
        self._turns = itertools.cycle(list(named_answers))

    def reply_to(self, messages: Any) -> _Reply:
        question = _last_user_text(messages)
        topic = self._topic_for(question)
        snippet = _snippet(question, 60)
        if snippet:
            opening = f"You asked: *{_escape_markdown(snippet)}*\n\n"
        else:
            opening = "You have not asked anything yet, so here is something to read.\n\n"
        parts = self._named.values() if topic == "long" else [self._named[topic]]
        body = "\n\n---\n\n".join(parts)
        return _Reply(_reasoning_for(question, topic), opening + body)

    def _topic_for(self, question: str) -> str:
        words = set(re.findall(r"\w+", question.lower()))
        if words & _LONG_KEYWORDS:
            return "long"
        for topic, keywords in _TOPIC_KEYWORDS:
            if topic in self._named and words & keywords:
                return topic
        return next(self._turns)


def _reasoning_for(question: str, topic: str) -> str:
    subject = f'"{_snippet(question, 40)}"' if question.strip() else "an empty message"
    description = _TOPIC_DESCRIPTIONS.get(topic, _GENERIC_DESCRIPTION)
    return f"The user asked {subject}. It is about {description}. Keep it accurate and brief."


def _last_user_text(messages: Any) -> str:
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: Any) -> str:
    """A message's text, whether content is a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (part.get("text", "") for part in content if isinstance(part, dict))
        return " ".join(part for part in parts if isinstance(part, str))
    return ""


def _snippet(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _prompt_tokens(messages: Any) -> int:
    """About four characters a token, as OpenAI's rule of thumb says."""
    if not isinstance(messages, list):
        return 1
    dicts = (message for message in messages if isinstance(message, dict))
    chars = sum(len(_content_text(message.get("content"))) for message in dicts)
    return max(1, chars // 4)


def _usage(prompt_tokens: int, completion_tokens: int, reasoning_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens},
    }


class _Pacer:
    """Token i is due at start + i/tps: a deadline schedule, so sleep overshoot never adds up."""

    def __init__(self, tokens_per_second: float) -> None:
        self._interval = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
        self._start = asyncio.get_running_loop().time()
        self._count = 0

    async def wait_turn(self) -> None:
        due = self._start + self._count * self._interval
        self._count += 1
        delay = due - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)


def demo_handler(
    tokens_per_second: float = DEFAULT_TOKENS_PER_SECOND, *, answers: Sequence[str] | None = None
) -> Handler:
    """The OpenAI-compatible demo provider. `answers` replaces the canned ones (for tests)."""
    named = _load_named_answers() if answers is None else _number_answers(answers)
    picker = _AnswerPicker(named)

    async def handle(request: Request, responder: Responder) -> None:
        if request.method == "GET" and request.path == "/v1/models":
            await responder.send_json(200, _models_body())
        elif request.method == "POST" and request.path == "/v1/chat/completions":
            await _chat_completion(request, responder, picker, tokens_per_second)
        else:
            message = f"No route for {request.method} {request.path}"
            await responder.send_json(404, error_body(message, "not_found"))

    return handle


def _number_answers(answers: Sequence[str]) -> dict[str, str]:
    return {f"answer{index}": text for index, text in enumerate(answers)}


def _models_body() -> dict[str, Any]:
    models = [{"id": model, "object": "model", "owned_by": "deltadesk"} for model in DEMO_MODELS]
    return {"object": "list", "data": models}


async def _chat_completion(
    request: Request, responder: Responder, picker: _AnswerPicker, tokens_per_second: float
) -> None:
    try:
        body = request.json()
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        body = None
    if not isinstance(body, dict):
        error = error_body("The body must be a JSON object", "invalid_request_error")
        await responder.send_json(400, error)
        return
    model = body.get("model")
    if model not in DEMO_MODELS:
        message = f"The model `{model}` does not exist"
        error = error_body(message, "invalid_request_error", "model_not_found")
        await responder.send_json(404, error)
        return
    reply = picker.reply_to(body.get("messages"))
    prompt_tokens = _prompt_tokens(body.get("messages"))
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        stream = _CompletionStream(responder, str(model), prompt_tokens)
        await stream.run(reply, tokens_per_second, include_usage)
    else:
        await responder.send_json(200, _whole_completion(str(model), reply, prompt_tokens))


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def _whole_completion(model: str, reply: _Reply, prompt_tokens: int) -> dict[str, Any]:
    reasoning_tokens = len(split_tokens(reply.reasoning))
    completion_tokens = reasoning_tokens + len(split_tokens(reply.answer))
    message = {"role": "assistant", "content": reply.answer, "reasoning_content": reply.reasoning}
    return {
        "id": _completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": _usage(prompt_tokens, completion_tokens, reasoning_tokens),
    }


class _CompletionStream:
    """Sends one reply as OpenAI chat.completion.chunk events."""

    def __init__(self, responder: Responder, model: str, prompt_tokens: int) -> None:
        self._responder = responder
        self._prompt_tokens = prompt_tokens
        self._envelope = {
            "id": _completion_id(),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }

    async def run(self, reply: _Reply, tokens_per_second: float, include_usage: bool) -> None:
        await self._responder.start_sse()
        await self._send_delta({"role": "assistant", "content": ""})
        pacer = _Pacer(tokens_per_second)
        reasoning_tokens = await self._send_tokens(pacer, "reasoning_content", reply.reasoning)
        answer_tokens = await self._send_tokens(pacer, "content", reply.answer)
        await self._send_delta({}, finish_reason="stop")
        if include_usage:
            usage = _usage(self._prompt_tokens, reasoning_tokens + answer_tokens, reasoning_tokens)
            await self._responder.send_event(self._envelope | {"choices": [], "usage": usage})
        await self._responder.send_done()

    async def _send_tokens(self, pacer: _Pacer, delta_key: str, text: str) -> int:
        tokens = split_tokens(text)
        for token in tokens:
            await pacer.wait_turn()
            await self._send_delta({delta_key: token})
        return len(tokens)

    async def _send_delta(self, delta: dict[str, Any], finish_reason: str | None = None) -> None:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        await self._responder.send_event(self._envelope | {"choices": [choice]})


def start_demo_server(tokens_per_second: float | None = None) -> SSEServer:
    """Start the demo provider on a free port. None → $DELTADESK_DEMO_TPS, else 50 tokens/s.

    It serves only requests that carry its random `server.token` as the API key (any local
    process can reach a loopback port), and reads at most a small request body.
    """
    if tokens_per_second is None:
        tokens_per_second = _tps_from_environment()
    token = secrets.token_urlsafe(32)
    server = SSEServer(
        demo_handler(tokens_per_second), token=token, max_body_bytes=DEMO_MAX_BODY_BYTES
    )
    return server.start()


def _tps_from_environment() -> float:
    raw = os.environ.get(TPS_ENV_VAR, "").strip()
    if not raw:
        return DEFAULT_TOKENS_PER_SECOND
    try:
        return float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", TPS_ENV_VAR, raw, DEFAULT_TOKENS_PER_SECOND)
        return DEFAULT_TOKENS_PER_SECOND
