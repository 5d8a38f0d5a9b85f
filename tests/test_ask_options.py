"""`ask --system/--temperature/--max-tokens`: what reaches the server's request body, checked
on a real SSE server on loopback (the client's own request path, then the command line)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.client import ChatClient, RequestOptions
from deltadesk.core.profiles import Profile
from tests.sse_script import SSEServer, answer_chunks, streaming
from tests.test_ask import deltadesk

PROMPT = [{"role": "user", "content": "hi"}]


def request_of(server: SSEServer, options: RequestOptions | None) -> dict[str, Any]:
    profile = Profile(name="test", base_url=server.base_url, model="m")

    async def go() -> None:
        client = ChatClient(profile, None)
        try:
            async for _event in client.stream(PROMPT, options):
                pass
        finally:
            await client.aclose()

    asyncio.run(go())
    body: dict[str, Any] = server.requests[-1].json()
    return body


def test_options_reach_the_request_body(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    body = request_of(server, RequestOptions(system="Be terse.", temperature=0.2, max_tokens=64))
    assert body["messages"] == [{"role": "system", "content": "Be terse."}, *PROMPT]
    assert (body["temperature"], body["max_tokens"]) == (0.2, 64)


def test_no_options_leave_the_provider_defaults(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    for options in (None, RequestOptions()):
        body = request_of(server, options)
        assert body["messages"] == PROMPT
        assert "temperature" not in body and "max_tokens" not in body


def test_temperature_zero_is_sent_not_dropped(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    assert request_of(server, RequestOptions(temperature=0.0))["temperature"] == 0.0


def test_ask_sends_the_options(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["fine"])))
    result = deltadesk(
        "ask",
        "--base-url",
        server.base_url,
        "--model",
        "m",
        "--system",
        "You are a pirate.",
        "--temperature",
        "1.5",
        "--max-tokens",
        "12",
        "hello",
        data_dir=tmp_path,
    )
    assert (result.returncode, result.stdout) == (0, "fine\n"), result.stderr
    body = server.requests[0].json()
    assert body["messages"] == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "hello"},
    ]
    assert (body["temperature"], body["max_tokens"]) == (1.5, 12)


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--temperature", "warm", "'warm' is not a temperature"),
        ("--temperature", "-1", "'-1' is not a temperature"),
        ("--temperature", "nan", "'nan' is not a temperature"),
        ("--max-tokens", "0", "'0' is not a number of tokens"),
        ("--max-tokens", "1.5", "'1.5' is not a number of tokens"),
        ("--system", "  ", "the system message is empty"),
        ("--continue", "abc", "'abc' is not a conversation id"),
        ("--continue", "0", "'0' is not a conversation id"),
    ],
)
def test_bad_values_are_usage_errors(tmp_path: Path, option: str, value: str, said: str) -> None:
    result = deltadesk("ask", option, value, "hi", data_dir=tmp_path)
    assert result.returncode == 2
    assert said in result.stderr
    assert "Traceback" not in result.stderr


def test_reasoning_effort_is_sent(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    body = request_of(server, RequestOptions(reasoning_effort="high"))
    assert body["reasoning_effort"] == "high"
    assert "reasoning_effort" not in request_of(server, RequestOptions())


def test_max_tokens_go_under_the_profiles_field(serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    profile = Profile(
        name="o", base_url=server.base_url, model="m", max_tokens_field="max_completion_tokens"
    )

    async def go() -> None:
        client = ChatClient(profile, None)
        try:
            async for _event in client.stream(PROMPT, RequestOptions(max_tokens=99)):
                pass
        finally:
            await client.aclose()

    asyncio.run(go())
    body = server.requests[-1].json()
    assert body["max_completion_tokens"] == 99
    assert "max_tokens" not in body


def test_ask_with_a_profile_honours_its_max_tokens_field(tmp_path: Path, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["fine"])))
    profile = {
        "name": "reasoner",
        "base_url": server.base_url,
        "model": "o-model",
        "max_tokens_field": "max_completion_tokens",
    }
    (tmp_path / "profiles.json").write_text(
        json.dumps({"version": 2, "active": "reasoner", "profiles": [profile]})
    )
    result = deltadesk(
        "ask", "--profile", "reasoner", "--max-tokens", "7", "hello", data_dir=tmp_path
    )
    assert (result.returncode, result.stdout) == (0, "fine\n"), result.stderr
    body = server.requests[0].json()
    assert body["max_completion_tokens"] == 7 and "max_tokens" not in body
    assert body["model"] == "o-model"
