"""The demo provider and its SSE server, driven by the real openai SDK over 127.0.0.1."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from deltadesk.core.client import ChatClient
from deltadesk.core.demo import (
    DEMO_MAX_BODY_BYTES,
    DEMO_MODELS,
    demo_handler,
    load_demo_answers,
    split_tokens,
    start_demo_server,
)
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import TextDelta
from deltadesk.core.profiles import DEMO_MODEL, demo_profile
from deltadesk.core.sse_server import SSEServer

MODEL = DEMO_MODELS[0]
T = TypeVar("T")


# ------------------------------------------------------------------------------------ helpers


def run_with_client(server: SSEServer, use: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
    async def main() -> T:
        key = server.token or "x"  # the app's own demo server answers its own token only
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key=key, max_retries=0)
        try:
            return await use(client)
        finally:
            await client.close()

    return asyncio.run(main())


def user_says(text: str) -> list[Any]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


@dataclass
class StreamRecord:
    roles: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # "reasoning" / "content" per chunk, in order
    reasoning: str = ""
    content: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    usage: Any = None
    usage_was_last: bool = False


async def record_stream(client: openai.AsyncOpenAI, question: str) -> StreamRecord:
    record = StreamRecord()
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=user_says(question),
        stream=True,
        stream_options={"include_usage": True},
    )
    async for chunk in stream:
        record.usage_was_last = False
        if not chunk.choices:
            record.usage, record.usage_was_last = chunk.usage, True
            continue
        add_choice(record, chunk.choices[0])
    return record


def add_choice(record: StreamRecord, choice: Any) -> None:
    delta = choice.delta
    if delta.role:
        record.roles.append(delta.role)
    reasoning = (delta.model_extra or {}).get("reasoning_content")
    if reasoning:
        record.reasoning += reasoning
        record.kinds.append("reasoning")
    if delta.content:
        record.content += delta.content
        record.kinds.append("content")
    if choice.finish_reason:
        record.finish_reasons.append(choice.finish_reason)


def answer_with(marker: str) -> str:
    return next(answer for answer in load_demo_answers() if marker in answer)


def raw_request(
    server: SSEServer,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(method, path, body=body or None, headers=headers or {})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# ------------------------------------------------------------------------ the demo provider


def test_stream_has_role_then_reasoning_then_answer_then_stop_and_usage(serve: Any) -> None:
    server = serve(demo_handler(0))
    question = "Can you show me some Python code?"

    record = run_with_client(server, lambda client: record_stream(client, question))

    assert record.roles == ["assistant"]
    assert question in record.reasoning
    kinds = record.kinds
    assert kinds == sorted(kinds, key=lambda kind: kind != "reasoning")  # all reasoning first
    assert record.content == f"You asked: *{question}*\n\n" + answer_with("```python")
    assert record.finish_reasons == ["stop"]
    assert record.usage_was_last
    usage = record.usage
    assert usage.completion_tokens == len(kinds)
    assert usage.completion_tokens_details.reasoning_tokens == kinds.count("reasoning")
    assert usage.prompt_tokens == len("Be brief." + question) // 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert not server.wait_for_disconnect(0.05)  # a stream read to its end is no disconnect
    assert server.disconnects == 0


def test_the_question_picks_the_answer_by_keyword() -> None:
    handler = demo_handler(0)
    with SSEServer(handler) as server:
        table = run_with_client(server, lambda client: complete(client, "Compare SSE and WS"))
        code = run_with_client(server, lambda client: complete(client, "write a python script"))
    assert "|---|" in table and "```python" not in table
    assert "```python" in code


def test_questions_without_keywords_rotate_through_the_answers(serve: Any) -> None:
    server = serve(demo_handler(0))
    count = len(load_demo_answers())

    async def ask_all(client: openai.AsyncOpenAI) -> list[str]:
        return [await complete(client, f"Hello number {n}") for n in range(count)]

    replies = run_with_client(server, ask_all)
    canned = {reply.split("\n\n", 1)[1] for reply in replies}
    assert canned == set(load_demo_answers())


def test_asking_for_a_long_answer_gets_every_part(serve: Any) -> None:
    server = serve(demo_handler(0))
    reply = run_with_client(server, lambda client: complete(client, "Give me a long answer"))
    for answer in load_demo_answers():
        assert answer in reply


async def complete(client: openai.AsyncOpenAI, question: str) -> str:
    completion = await client.chat.completions.create(model=MODEL, messages=user_says(question))
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    return completion.choices[0].message.content or ""


def test_markdown_in_the_question_cannot_break_the_opening_line(serve: Any) -> None:
    server = serve(demo_handler(0))
    reply = run_with_client(server, lambda client: complete(client, "a *b* `c` [d]"))
    assert reply.startswith(r"You asked: *a \*b\* \`c\` \[d\]*")


def test_tokens_are_paced_on_a_deadline_schedule(serve: Any) -> None:
    answer = "Streaming is paced here, one token at a time." * 6  # with the reasoning ≈ 100 tokens
    tokens_per_second = 200.0
    server = serve(demo_handler(tokens_per_second, answers=[answer]))

    started = time.perf_counter()
    record = run_with_client(server, lambda client: record_stream(client, "pace"))
    elapsed = time.perf_counter() - started

    tokens = record.usage.completion_tokens
    assert 80 <= tokens <= 120
    assert record.content.endswith(answer)
    expected = (tokens - 1) / tokens_per_second  # token 0 is due at once
    assert 0.35 <= elapsed <= 2.0
    assert elapsed >= expected * 0.95


def test_zero_tokens_per_second_streams_at_full_speed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DELTADESK_DEMO_TPS", "0")
    server = start_demo_server()  # the environment asks for no pacing
    try:
        started = time.perf_counter()
        record = run_with_client(server, lambda client: record_stream(client, "streaming?"))
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
    assert record.usage.completion_tokens > 200  # at the default 50/s this would take 4 s+
    assert elapsed < 2.0


def test_models_lists_the_demo_model(serve: Any) -> None:
    server = serve(demo_handler(0))

    async def model_ids(client: openai.AsyncOpenAI) -> list[str]:
        return [model.id async for model in client.models.list()]

    assert run_with_client(server, model_ids) == [DEMO_MODEL]


def test_an_unknown_model_is_not_found(serve: Any) -> None:
    server = serve(demo_handler(0))

    async def ask_unknown(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model="gpt-9", messages=user_says("hi"), stream=True)

    with pytest.raises(openai.NotFoundError) as caught:
        run_with_client(server, ask_unknown)
    assert caught.value.code == "model_not_found"
    assert "`gpt-9` does not exist" in caught.value.message


def test_an_unknown_path_gets_a_json_404(serve: Any) -> None:
    server = serve(demo_handler(0))
    status, body = raw_request(server, "GET", "/v1/nothing?x=1")
    assert status == 404
    assert body["error"]["type"] == "not_found"
    assert server.requests[-1].path == "/v1/nothing"  # no query string


def test_canned_answers_cover_the_markdown_the_view_must_render() -> None:
    answers = load_demo_answers()
    assert 3 <= len(answers) <= 5
    for answer in answers:
        assert 150 <= len(answer.split()) <= 400
    tokens = MarkdownIt("commonmark").enable("table").parse("\n\n".join(answers))
    types = {token.type for token in tokens} | {
        child.type for token in tokens for child in token.children or []
    }
    wanted = {"heading_open", "bullet_list_open", "ordered_list_open", "table_open", "fence"}
    wanted |= {"code_inline", "link_open", "strong_open", "em_open", "blockquote_open"}
    assert wanted <= types
    assert any(t.type == "fence" and t.info == "python" for t in tokens)
    assert any("How streaming answers work" in answer for answer in answers)


# --------------------------------------------------------------------------------- tokens


@settings(database=None, max_examples=100)
@given(st.text())
def test_split_tokens_round_trips(text: str) -> None:
    tokens = split_tokens(text)
    assert "".join(tokens) == text
    assert all(tokens)


def test_split_tokens_keeps_leading_whitespace_with_words() -> None:
    assert split_tokens("Hello, world!\n\n## Next") == [
        "Hello",
        ",",
        " world",
        "!",
        "\n\n##",
        " Next",
    ]


# ------------------------------------------------------------- the app's own demo server


@pytest.fixture
def demo_server() -> Iterator[SSEServer]:
    server = start_demo_server(0)
    yield server
    server.stop()


def test_the_demo_server_has_a_fresh_random_token() -> None:
    first, second = start_demo_server(0), start_demo_server(0)
    try:
        assert first.token and second.token
        assert len(first.token) >= 32
        assert first.token != second.token
    finally:
        first.stop()
        second.stop()


@pytest.mark.parametrize("key", ["x", "", "Bearer"])
def test_the_demo_server_refuses_requests_without_its_token(
    demo_server: SSEServer, key: str
) -> None:
    """Any local process can reach a loopback port: only the app, which knows the token, may
    use it. The refusal comes before the body is read."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = json.dumps({"model": MODEL, "messages": user_says("hi"), "stream": True}).encode()
    status, reply = raw_request(demo_server, "POST", "/v1/chat/completions", body, headers)
    assert status == 401
    assert reply["error"]["type"] == "invalid_api_key"
    assert demo_server.requests == []  # the handler never saw it
    assert demo_server.refused == 1


def test_the_demo_server_serves_its_own_token(demo_server: SSEServer) -> None:
    async def model_ids(client: openai.AsyncOpenAI) -> list[str]:
        return [model.id async for model in client.models.list()]

    assert run_with_client(demo_server, model_ids) == [DEMO_MODEL]
    reply = run_with_client(demo_server, lambda client: complete(client, "hello"))
    assert reply.startswith("You asked: *hello*")


def test_the_sdk_without_the_token_is_told_the_key_is_wrong(demo_server: SSEServer) -> None:
    async def ask(client: openai.AsyncOpenAI) -> None:
        await client.chat.completions.create(model=MODEL, messages=user_says("hi"))

    async def main() -> None:
        client = openai.AsyncOpenAI(base_url=demo_server.base_url, api_key="guess", max_retries=0)
        try:
            await ask(client)
        finally:
            await client.close()

    with pytest.raises(openai.AuthenticationError):
        asyncio.run(main())


def test_a_request_body_over_the_cap_is_refused_unread(demo_server: SSEServer) -> None:
    """The length alone decides: the 413 goes out before a byte of the body is read."""
    with socket.create_connection(("127.0.0.1", demo_server.port), timeout=5) as sock:
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\n"
            f"Authorization: Bearer {demo_server.token}\r\n"
            f"Content-Length: {DEMO_MAX_BODY_BYTES + 1}\r\n\r\n"
        )
        sock.sendall(head.encode())  # and no body at all: the server must not wait for it
        reply = b""
        while piece := sock.recv(4096):  # the server closes after its answer
            reply += piece
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"request_too_large" in reply
    assert demo_server.requests == []


def test_the_chat_client_streams_from_the_demo_with_its_token(demo_server: SSEServer) -> None:
    async def answer(key: str | None) -> str:
        client = ChatClient(demo_profile(), key, base_url=demo_server.base_url)
        try:
            events = [event async for event in client.stream(user_says("python code"))]
        finally:
            await client.aclose()
        return "".join(event.text for event in events if isinstance(event, TextDelta))

    assert "```python" in asyncio.run(answer(demo_server.token))
    with pytest.raises(ChatError) as caught:
        asyncio.run(answer(None))
    assert caught.value.kind is ErrorKind.AUTH


@pytest.mark.parametrize("body", [b"{not json", b"[" * 100_000, b'"just a string"', b"\xff\xfe"])
def test_a_body_that_is_no_json_object_gets_400(serve: Any, body: bytes) -> None:
    server = serve(demo_handler(0))
    status, reply = raw_request(server, "POST", "/v1/chat/completions", body)
    assert status == 400
    assert reply["error"]["type"] == "invalid_request_error"
