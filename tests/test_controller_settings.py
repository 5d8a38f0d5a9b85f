"""A conversation's settings go with every request of it: checked in the request bodies a
real SSE server on loopback receives, through the window's own controller and history."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.paths import app_paths
from deltadesk.core.store import Store
from deltadesk.services import Services
from deltadesk.shell import build_window
from tests.sse_script import answer_chunks, streaming
from tests.test_controller import dispose, use_server

TERSE = ConversationSettings(system="Be terse.", temperature=0.3, max_tokens=50)


@pytest.fixture
def shell(qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    shell = build_window(services)
    yield shell
    qt_loop.run_until_complete(shell.controller.shutdown())
    qt_loop.run_until_complete(services.aclose())
    dispose(shell.window)


def body(server: Any, index: int = -1) -> dict[str, Any]:
    result: dict[str, Any] = server.requests[index].json()
    return result


def test_a_new_chats_settings_are_sent_and_kept_with_its_conversation(
    shell: Any, qt_loop: Any, serve: Any, tmp_path: Path
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    c = shell.controller
    c.set_settings(None, TERSE)
    assert c.settings_of(None) == TERSE
    assert qt_loop.run_until_complete(c.send(None, "hello")) == "done"
    sent = body(server)
    assert sent["messages"][0] == {"role": "system", "content": "Be terse."}
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 50)
    assert c.conversation_id is not None
    assert shell.services.store.get_conversation(c.conversation_id).settings == TERSE
    assert c.settings_of(None) == ConversationSettings()  # the next new chat starts afresh
    reopened = Store(tmp_path / "home" / "history.sqlite3")
    try:
        assert reopened.get_conversation(c.conversation_id).settings == TERSE
    finally:
        reopened.close()


def test_changed_settings_go_with_the_next_request_only(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    c = shell.controller
    qt_loop.run_until_complete(c.send(None, "one"))
    first = body(server)
    assert first["messages"][0]["role"] == "user"
    assert "temperature" not in first and "max_tokens" not in first
    conversation_id = c.conversation_id
    c.set_settings(conversation_id, TERSE.with_changes(temperature=0.0))
    qt_loop.run_until_complete(c.send(conversation_id, "two"))
    second = body(server)
    assert second["messages"][0] == {"role": "system", "content": "Be terse."}
    assert second["temperature"] == 0.0
    assert [m["content"] for m in second["messages"][1:]] == ["one", "ok", "two"]
    stored = shell.services.store.get_conversation(conversation_id).settings
    assert stored.temperature == 0.0


def test_regenerate_and_continue_carry_the_settings(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    c = shell.controller
    c.set_settings(None, TERSE)
    qt_loop.run_until_complete(c.send(None, "hello"))
    answer = shell.services.store.active_path(c.conversation_id)[-1]
    qt_loop.run_until_complete(c.regenerate(answer.id))
    assert body(server)["messages"][0]["content"] == "Be terse."
    assert body(server)["max_tokens"] == 50


def test_reasoning_effort_only_where_the_profile_takes_it(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    c = shell.controller
    c.set_settings(None, ConversationSettings(reasoning_effort="high"))
    qt_loop.run_until_complete(c.send(None, "hello"))
    assert "reasoning_effort" not in body(server)
    use_server(
        shell,
        server,
        accepts_reasoning_effort=True,
        max_tokens_field="max_completion_tokens",
    )
    c.set_settings(c.conversation_id, ConversationSettings(reasoning_effort="high", max_tokens=9))
    qt_loop.run_until_complete(c.send(c.conversation_id, "again"))
    sent = body(server)
    assert sent["reasoning_effort"] == "high"
    assert sent["max_completion_tokens"] == 9 and "max_tokens" not in sent


def test_the_conversations_profile_and_model_answer(shell: Any, qt_loop: Any, serve: Any) -> None:
    active = serve(streaming(answer_chunks(["from the active one"])))
    other = serve(streaming(answer_chunks(["from the other one"])))
    use_server(shell, other, name="Other", model="other-default")
    use_server(shell, active)  # the window's active profile
    c = shell.controller
    c.set_settings(None, ConversationSettings(profile="Other", model="other-big"))
    assert c.answering_profile().name == "Other"
    qt_loop.run_until_complete(c.send(None, "hello"))
    assert not active.requests
    assert body(other)["model"] == "other-big"
    answer = shell.services.store.active_path(c.conversation_id)[-1]
    assert (answer.profile, answer.model, answer.content) == (
        "Other",
        "other-big",
        "from the other one",
    )
    # a profile that is gone: the active one answers, with its own model
    c.set_settings(c.conversation_id, ConversationSettings(profile="Gone"))
    qt_loop.run_until_complete(c.send(c.conversation_id, "and now?"))
    assert body(active)["model"] == "m"


def test_settings_changed_is_said(shell: Any, qapp: Any) -> None:
    seen: list[tuple[Any, Any]] = []
    shell.controller.settings_changed.connect(lambda cid, s: seen.append((cid, s)))
    shell.controller.set_settings(None, TERSE)
    shell.controller.set_settings(None, TERSE)  # no change: nothing said
    assert seen == [(None, TERSE)]


def test_settings_the_history_cannot_take_hold_for_the_run(
    qapp: Any, qt_loop: Any, tmp_path: Path, serve: Any
) -> None:
    import sqlite3

    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0, busy_timeout_ms=50)
    shell = build_window(services)
    try:
        server = serve(streaming(answer_chunks(["ok"])))
        use_server(shell, server)
        c = shell.controller
        qt_loop.run_until_complete(c.send(None, "one"))
        chat = c.conversation_id
        notices: list[object] = []
        c.history_notice.connect(notices.append)
        lock = sqlite3.connect(tmp_path / "home" / "history.sqlite3")
        lock.execute("BEGIN EXCLUSIVE")  # another process holds the history: writes fail
        try:
            c.set_settings(chat, TERSE)
        finally:
            lock.rollback()
            lock.close()
        assert notices and "hold until Deltadesk closes" in str(notices[-1])
        assert services.store.get_conversation(chat).settings == ConversationSettings()
        shell.new_chat()  # the view moves on; the unsaved settings are not dropped with it
        shell.open_conversation(chat)
        assert c.settings_of(chat) == TERSE
        qt_loop.run_until_complete(c.send(chat, "two"))
        assert body(server)["messages"][0]["content"] == "Be terse."
    finally:
        qt_loop.run_until_complete(shell.controller.shutdown())
        qt_loop.run_until_complete(services.aclose())
        dispose(shell.window)
