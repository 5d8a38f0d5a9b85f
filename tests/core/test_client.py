"""ChatClient against real SSE servers on loopback: the SDK's own parsing path is exercised."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from deltadesk.core.client import ChatClient, ChunkNormaliser, ThinkTagSplitter
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Finished, ReasoningDelta, Retrying, TextDelta, Usage
from deltadesk.core.profiles import Profile
from tests.sse_script import (
    SSEServer,
    answer_chunks,
    chunk,
    cut_after,
    endless,
    escaped_chunk,
    in_turn,
    status,
    streaming,
    usage_chunk,
)

PROMPT = [{"role": "user", "content": "hi"}]


def profile_for(server: SSEServer, **overrides: Any) -> Profile:
    fields: dict[str, Any] = {"name": "test", "base_url": server.base_url, "model": "m"}
    fields.update(overrides)
    return Profile(**fields)


async def collect(client: ChatClient) -> list[Any]:
    try:
        return [event async for event in client.stream(PROMPT)]
    finally:
        await client.aclose()


def run_stream(profile: Profile, **client_args: Any) -> list[Any]:
    return asyncio.run(collect(ChatClient(profile, None, backoff_base=0.01, **client_args)))


def run_error(profile: Profile) -> tuple[ChatError, list[Any]]:
    events: list[Any] = []

    async def go() -> None:
        client = ChatClient(profile, None, backoff_base=0.01)
        try:
            async for event in client.stream(PROMPT):
                events.append(event)
        finally:
            await client.aclose()

    with pytest.raises(ChatError) as caught:
        asyncio.run(go())
    return caught.value, events


def texts(events: list[Any], kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def test_content_reasoning_usage_and_empty_chunks(serve: Any) -> None:
    server = serve(
        streaming(
            [
                chunk("", role="assistant"),
                chunk(None, reasoning="Let me "),
                chunk(None, reasoning="think.", reasoning_field="reasoning"),
                chunk(None),  # null content: normal, skipped
                {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [],
                },  # empty choices: normal, skipped
                chunk("Hello"),
                chunk(", world"),
                chunk(finish="stop"),
                usage_chunk(7, 3, reasoning=2),
            ]
        )
    )
    events = run_stream(profile_for(server))
    assert texts(events, ReasoningDelta) == "Let me think."
    assert texts(events, TextDelta) == "Hello, world"
    assert Finished("stop") in events
    assert Usage(prompt_tokens=7, completion_tokens=3, reasoning_tokens=2) in events
    body = server.requests[0].json()
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert "thinking" not in body


def test_think_tags_in_content_become_reasoning(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["<thi", "nk>plan ", "it</th", "ink>\n", "Answer"])))
    events = run_stream(profile_for(server))
    assert texts(events, ReasoningDelta) == "plan it"
    assert texts(events, TextDelta) == "Answer"


def test_thinking_profile_sends_extra_body(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    run_stream(profile_for(server, thinking=True))
    assert server.requests[0].json()["thinking"] == {"type": "enabled"}


def test_first_chunk_timeout(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["late"]), first_delay=3.0))
    started = time.monotonic()
    error, _ = run_error(profile_for(server, first_chunk_timeout=0.3, max_attempts=1))
    assert error.kind is ErrorKind.TIMEOUT
    assert time.monotonic() - started < 2.0


def test_slow_answer_is_not_cut_by_first_chunk_timeout(serve: Any) -> None:
    """The first-chunk limit is not a total limit: a long answer may take longer."""
    server = serve(streaming(answer_chunks(["a"] * 8), delay=0.2))  # 1.8 s in all
    events = run_stream(profile_for(server, first_chunk_timeout=1.0))
    assert texts(events, TextDelta) == "a" * 8


def test_idle_timeout_between_chunks(serve: Any) -> None:
    async def stalls(request: Any, responder: Any) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("a", role="assistant"))
        await asyncio.sleep(3.0)

    server = serve(stalls)
    error, events = run_error(profile_for(server, idle_timeout=0.3, first_chunk_timeout=2.0))
    assert error.kind is ErrorKind.TIMEOUT
    assert texts(events, TextDelta) == "a"
    assert len(server.requests) == 1  # text had arrived: never retried


def test_401_fails_at_once_without_retry(serve: Any) -> None:
    server = serve(status(401, "Incorrect API key provided"))
    error, events = run_error(profile_for(server, max_attempts=3))
    assert error.kind is ErrorKind.AUTH
    assert "401" in error.message
    assert len(server.requests) == 1
    assert not any(isinstance(e, Retrying) for e in events)


def test_404_unknown_model_is_not_retried(serve: Any) -> None:
    server = serve(status(404, "The model `nope` does not exist"))
    error, _ = run_error(profile_for(server, max_attempts=3))
    assert error.kind is ErrorKind.NOT_FOUND
    assert "nope" in error.message
    assert len(server.requests) == 1


def test_429_with_retry_after_is_retried_before_first_token(serve: Any) -> None:
    server = serve(
        in_turn(status(429, "slow down", {"Retry-After": "0.2"}), streaming(answer_chunks(["ok"])))
    )
    started = time.monotonic()
    events = run_stream(profile_for(server, max_attempts=3))
    assert texts(events, TextDelta) == "ok"
    retries = [e for e in events if isinstance(e, Retrying)]
    assert len(retries) == 1 and retries[0].delay == pytest.approx(0.2)
    assert time.monotonic() - started >= 0.2
    assert len(server.requests) == 2


def test_429_gives_up_after_max_attempts(serve: Any) -> None:
    server = serve(status(429, "slow down", {"Retry-After": "0"}))
    error, _ = run_error(profile_for(server, max_attempts=2))
    assert error.kind is ErrorKind.RATE_LIMIT
    assert len(server.requests) == 2


def test_long_retry_after_is_reported_not_waited(serve: Any) -> None:
    server = serve(status(429, "quota", {"Retry-After": "3600"}))
    error, _ = run_error(profile_for(server, max_attempts=3))
    assert error.kind is ErrorKind.RATE_LIMIT and error.retry_after == 3600
    assert len(server.requests) == 1


def test_server_error_then_success(serve: Any) -> None:
    server = serve(in_turn(status(503, "overloaded"), streaming(answer_chunks(["fine"]))))
    events = run_stream(profile_for(server))
    assert texts(events, TextDelta) == "fine"


def test_disconnect_mid_stream_is_an_error_after_text_and_not_retried(serve: Any) -> None:
    server = serve(cut_after([chunk("", role="assistant"), chunk("partial ")]))
    error, events = run_error(profile_for(server, max_attempts=3))
    assert error.kind is ErrorKind.CONNECTION
    assert texts(events, TextDelta) == "partial "
    assert len(server.requests) == 1


def test_body_ending_without_finish_reason_is_a_cut(serve: Any) -> None:
    async def ends_early(request: Any, responder: Any) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("half"))  # then the body simply ends: no [DONE]

    error, events = run_error(profile_for(serve(ends_early), max_attempts=1))
    assert error.kind is ErrorKind.CONNECTION
    assert texts(events, TextDelta) == "half"


def test_malformed_chunk_is_a_protocol_error(serve: Any) -> None:
    server = serve(streaming([chunk("ok"), b"data: {not json\n\n"]))
    error, _ = run_error(profile_for(server, max_attempts=1))
    assert error.kind is ErrorKind.PROTOCOL


def test_unreachable_endpoint(serve: Any) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = Profile(
        name="gone", base_url=f"http://127.0.0.1:{port}/v1", model="m", max_attempts=1
    )
    error, _ = run_error(profile)
    assert error.kind is ErrorKind.CONNECTION
    assert f"127.0.0.1:{port}" in error.message


def test_rejected_stream_options_are_dropped_and_remembered(serve: Any) -> None:
    server = serve(
        in_turn(
            status(400, "Unrecognized request argument supplied: stream_options"),
            streaming(answer_chunks(["fine"])),
        )
    )
    refused: list[str] = []
    events = run_stream(profile_for(server, model="m-7"), on_usage_rejected=refused.append)
    assert texts(events, TextDelta) == "fine"
    assert refused == ["m-7"]  # the consumer remembers it for this endpoint and model only
    assert "stream_options" in server.requests[0].json()
    assert "stream_options" not in server.requests[1].json()


def test_include_usage_false_sends_no_stream_options(serve: Any) -> None:
    """A model already known to refuse usage is asked without it (the consumer decides)."""
    server = serve(streaming(answer_chunks(["fine"])))
    events = run_stream(profile_for(server), include_usage=False)
    assert texts(events, TextDelta) == "fine"
    assert "stream_options" not in server.requests[0].json()


def test_include_usage_none_follows_the_profile(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["fine"])))
    run_stream(profile_for(server, include_usage=False), include_usage=None)
    run_stream(profile_for(server, include_usage=True), include_usage=None)
    assert "stream_options" not in server.requests[0].json()
    assert "stream_options" in server.requests[1].json()


def test_closing_the_stream_closes_the_connection(serve: Any) -> None:
    server = serve(endless())

    async def go() -> int:
        client = ChatClient(profile_for(server), None)
        seen = 0
        events = client.stream(PROMPT)
        async for event in events:
            seen += isinstance(event, TextDelta)
            if seen == 5:
                break
        await events.aclose()
        await client.aclose()
        return seen

    assert asyncio.run(go()) == 5
    assert server.wait_for_disconnect(2.0)


def test_cancelling_the_consumer_closes_the_connection(serve: Any) -> None:
    server = serve(endless())

    async def go() -> None:
        client = ChatClient(profile_for(server), None)
        got_text = asyncio.Event()

        async def consume() -> None:
            async for event in client.stream(PROMPT):
                if isinstance(event, TextDelta):
                    got_text.set()

        task = asyncio.ensure_future(consume())
        await got_text.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await client.aclose()

    asyncio.run(go())
    assert server.wait_for_disconnect(2.0)


def test_list_models(serve: Any) -> None:
    async def models(request: Any, responder: Any) -> None:
        await responder.send_json(
            200,
            {
                "object": "list",
                "data": [
                    {"id": "b", "object": "model", "created": 0, "owned_by": "x"},
                    {"id": "a", "object": "model", "created": 0, "owned_by": "x"},
                ],
            },
        )

    server = serve(models)

    async def go() -> list[str]:
        client = ChatClient(profile_for(server), None)
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    assert asyncio.run(go()) == ["a", "b"]


@example(reasoning="plan", answer="\n\nAnswer", cuts=[len("<think>plan</think>")])
@example(reasoning="", answer="\n\n", cuts=[len("<think></think>"), len("<think></think>\n")])
@given(
    reasoning=st.text(alphabet="ab <>/\nthink", max_size=20).filter(lambda s: "</think>" not in s),
    answer=st.text(alphabet="ab <>/\nthink", max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=8),
)
def test_think_splitter_survives_any_chunking(reasoning: str, answer: str, cuts: list[int]) -> None:
    stream = f"<think>{reasoning}</think>{answer}"
    points = sorted({min(c, len(stream)) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    splitter = ThinkTagSplitter()
    events = [e for piece in pieces for e in splitter.feed(piece)] + splitter.flush()
    assert texts(events, ReasoningDelta) == reasoning
    assert texts(events, TextDelta) == answer.lstrip("\n")


def test_newlines_after_think_in_the_next_chunk_are_not_answer_text() -> None:
    """Issue 7, 2.2: `</think>` ended one chunk, "\n\n" started the next, and leaked."""
    splitter = ThinkTagSplitter()
    events = [*splitter.feed("<think>plan</think>"), *splitter.feed("\n"), *splitter.feed("\nA")]
    events += splitter.feed("\n\nB") + splitter.flush()
    assert texts(events, ReasoningDelta) == "plan"
    assert texts(events, TextDelta) == "A\n\nB"  # newlines inside the answer stay


def test_endless_blanks_before_any_tag_are_not_held_back_for_ever() -> None:
    """Waiting to see whether `<think>` comes must not hold (and re-join) a stream of blanks."""
    splitter = ThinkTagSplitter()
    emitted = [event for _ in range(5000) for event in splitter.feed(" ")]
    assert len(texts(emitted, TextDelta)) >= 5000 - ThinkTagSplitter.MAX_LEADING_BLANKS - 1
    emitted += splitter.feed("<think>not a tag now") + splitter.flush()
    assert texts(emitted, TextDelta) == " " * 5000 + "<think>not a tag now"


def test_think_tag_later_in_the_answer_is_plain_text() -> None:
    splitter = ThinkTagSplitter()
    events = splitter.feed("Use the <think> tag like this") + splitter.flush()
    assert texts(events, TextDelta) == "Use the <think> tag like this"


def utf16_pieces(text: str, cuts: list[int]) -> list[str]:
    """`text` cut at UTF-16 code-unit positions, as a server that escapes it may cut it:
    a cut inside a surrogate pair leaves a lone surrogate at each side."""
    units = text.encode("utf-16-le", "surrogatepass")
    points = sorted({2 * min(cut, len(units) // 2) for cut in cuts})
    return [
        units[a:b].decode("utf-16-le", "surrogatepass")
        for a, b in zip([0, *points], [*points, len(units)], strict=True)
    ]


@example(text="smile \U0001f600", cuts=[7])
@example(text="\U0001f600\U0001f601", cuts=[1, 2, 3])
@given(
    text=st.text(alphabet=st.sampled_from("a \n<>é\U0001f600\U0001f9e0\U00010000"), max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=10),
)
def test_split_surrogate_pairs_are_rejoined_however_the_text_is_cut(
    text: str, cuts: list[int]
) -> None:
    """Each piece goes through JSON (\\u-escaped) and the SDK's own chunk model."""
    from openai.types.chat import ChatCompletionChunk

    normaliser = ChunkNormaliser()
    events: list[Any] = []
    for piece in utf16_pieces(text, cuts):
        parsed = ChatCompletionChunk.model_validate(json.loads(escaped_chunk(piece)))
        events += normaliser.feed(parsed)
    events += normaliser.flush()
    answer = texts(events, TextDelta)
    answer.encode("utf-8")  # never raises: every piece is valid Unicode
    assert answer == text


def test_list_models_leaves_out_ids_no_model_could_have(serve: Any) -> None:
    hostile = [7, None, "", "   ", "x" * 300, "ok\x1b[2J", "dup", "dup", "half\ud83d"]

    async def models(request: Any, responder: Any) -> None:
        data = [{"id": model_id, "object": "model", "owned_by": "x"} for model_id in hostile]
        # \\u-escaped, as a server may send it: the half emoji cannot travel otherwise.
        body = json.dumps({"object": "list", "data": data}, ensure_ascii=True)
        await responder.start_body(
            200, {"content-type": "application/json", "content-length": str(len(body))}
        )
        await responder.send_raw(body.encode())

    server = serve(models)

    async def go() -> list[str]:
        client = ChatClient(profile_for(server), None)
        try:
            return await client.list_models()
        finally:
            await client.aclose()

    assert asyncio.run(go()) == ["dup", "half\ufffd", "ok"]  # the escape sequence goes whole
