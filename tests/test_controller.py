"""The real spine end to end: SSE server on loopback → client → controller → view → SQLite.

These build the window exactly as the app does (app.build_window), offscreen.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deltadesk.core.paths import app_paths
from deltadesk.core.profiles import Profile
from deltadesk.services import Services
from deltadesk.shell import build_window
from tests.sse_script import (
    SSEServer,
    answer_chunks,
    chunk,
    cut_after,
    endless,
    in_turn,
    status,
    streaming,
)

ANSWER_WORDS = ["# Title\n\n", "Some ", "**bold** ", "text ", "and ", "`code`", ".\n"]


@pytest.fixture
def shell(qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    shell = build_window(services)
    shell.window.show()
    yield shell
    qt_loop.run_until_complete(shell.controller.shutdown())
    qt_loop.run_until_complete(services.aclose())
    dispose(shell.window)


def dispose(window: Any) -> None:
    """Closes the window and deletes it now. Left to the garbage collector, a closed window
    (or a widget of it) is freed at a random moment, possibly from inside one of its own
    timer events, and Qt then crashes on the freed receiver (SIGSEGV in notifyInternal2)."""
    import shiboken6

    window.close()
    shiboken6.delete(window)
    gc.collect()  # what the test left behind goes now, not inside a later test's timer event


def use_server(shell: Any, server: SSEServer, **overrides: Any) -> Profile:
    fields: dict[str, Any] = {
        "name": "Local test",
        "base_url": server.base_url,
        "model": "m",
        "max_attempts": 1,
    }
    fields.update(overrides)
    profile = Profile(**fields)
    shell.services.profiles.upsert(profile)
    shell.services.profiles.set_active(profile.name)
    return profile


def stored(shell: Any) -> list[Any]:
    """The active path of the conversation in view: what is shown and sent."""
    return shell.services.store.active_path(shell.controller.conversation_id)


def everything(shell: Any) -> list[Any]:
    """Every message of the conversation in view, every branch, in id order."""
    return shell.services.store.messages(shell.controller.conversation_id)


def test_demo_answer_streams_renders_and_is_stored(shell: Any, qt_loop: Any) -> None:
    appended: list[str] = []
    shell.controller.text_appended.connect(lambda _mid, text: appended.append(text))
    status_ = qt_loop.run_until_complete(shell.controller.send("Show me a table"))
    assert status_ == "done"
    user, answer = stored(shell)
    assert (user.role, user.content) == ("user", "Show me a table")
    assert answer.status == "done" and answer.error_kind is None
    assert answer.content == "".join(appended)
    assert answer.reasoning  # the demo thinks first
    assert answer.completion_tokens and answer.prompt_tokens and answer.ttft_ms is not None
    # Buffered: far fewer view updates than tokens, even at full speed.
    assert len(appended) < answer.completion_tokens / 3
    rendered = shell.view.message_plain_text(answer.id)
    assert "|" not in rendered and "**" not in rendered  # markdown was rendered, not dumped
    last_line = answer.content.strip().splitlines()[-1].strip("*_# ")
    assert last_line.split()[-1].strip(".*_") in rendered
    assert "tok/s" in shell.window.status_label.text()
    # The sidebar lists the new conversation, titled after the prompt.
    assert shell.window.sidebar.current_id() == shell.controller.conversation_id


def test_stop_closes_the_stream_and_keeps_the_partial(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(endless(words_per_second=300))
    use_server(shell, server)
    seen: list[str] = []
    shell.controller.text_appended.connect(lambda _mid, text: seen.append(text))

    async def send_then_stop() -> tuple[str | None, float]:
        task = asyncio.ensure_future(shell.controller.send("go on forever"))
        while len("".join(seen)) < 40:
            await asyncio.sleep(0.01)
        stop_pressed = time.monotonic()
        shell.controller.stop()
        return await task, stop_pressed

    final, stop_pressed = qt_loop.run_until_complete(send_then_stop())
    assert final == "stopped"
    assert server.wait_for_disconnect(2.0)
    assert time.monotonic() - stop_pressed < 2.0
    answer = stored(shell)[-1]
    assert answer.status == "stopped" and answer.error_kind is None
    assert answer.content == "".join(seen) and answer.content.startswith("word0 ")
    assert not shell.controller.busy
    assert shell.window.composer.text() == ""  # Send is back: the button is not Stop any more


def test_escape_stops_like_the_button(shell: Any, qt_loop: Any, serve: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    server = serve(endless())
    use_server(shell, server)

    async def send_then_escape() -> str | None:
        task = asyncio.ensure_future(shell.controller.send("go"))
        while shell.controller.streaming_message_id is None or not shell.controller.live_text()[0]:
            await asyncio.sleep(0.01)
        qtbot.keyClick(shell.window.composer, Qt.Key.Key_Escape)
        return await task

    assert qt_loop.run_until_complete(send_then_escape()) == "stopped"
    assert server.wait_for_disconnect(2.0)


def test_disconnect_mid_stream_ends_interrupted_with_partial(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(cut_after([chunk("", role="assistant"), chunk("Half an "), chunk("answer")]))
    use_server(shell, server)
    failures: list[tuple[Any, ...]] = []
    shell.controller.failed.connect(lambda *args: failures.append(args))
    assert qt_loop.run_until_complete(shell.controller.send("hello")) == "interrupted"
    answer = stored(shell)[-1]
    assert answer.status == "interrupted" and answer.error_kind == "connection"
    assert answer.content == "Half an answer"
    assert failures == [(answer.id, "interrupted", "connection", answer.error_message)]
    # The error is shown beside the answer, never inside its text.
    assert answer.error_message not in shell.view.message_plain_text(answer.id)
    assert "Half an answer" in shell.view.message_plain_text(answer.id)


def test_wrong_key_fails_at_once_and_keeps_the_prompt(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(status(401, "Incorrect API key provided"))
    use_server(shell, server, max_attempts=3)
    assert qt_loop.run_until_complete(shell.controller.send("my precious prompt")) == "failed"
    user, answer = stored(shell)
    assert user.content == "my precious prompt"
    assert answer.status == "failed" and answer.error_kind == "auth" and answer.content == ""
    assert len(server.requests) == 1
    assert not shell.controller.busy


def test_retry_answers_again_beside_the_failed_answer(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(in_turn(status(500, "boom"), streaming(answer_chunks(ANSWER_WORDS))))
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send("try me")) == "failed"
    failed_id = stored(shell)[-1].id
    assert qt_loop.run_until_complete(shell.controller.retry(failed_id)) == "done"
    user, answer = stored(shell)
    assert user.content == "try me" and answer.status == "done"
    assert answer.content == "".join(ANSWER_WORDS)
    # Never deleted: the failed answer stays, a sibling of the new one.
    assert [(m.id, m.status) for m in shell.services.store.siblings(answer.id)] == [
        (failed_id, "failed"),
        (answer.id, "done"),
    ]
    assert [m.parent_id for m in everything(shell)] == [None, user.id, user.id]
    # The retried request carried the prompt once, not twice.
    assert [m["content"] for m in server.requests[1].json()["messages"]] == ["try me"]
    assert shell.view.message_ids() == [user.id, answer.id]  # the view shows the new path


def test_partial_is_saved_while_streaming(shell: Any, qt_loop: Any, serve: Any) -> None:
    words = [f"w{i} " for i in range(30)]
    server = serve(streaming(answer_chunks(words), delay=0.06))
    use_server(shell, server)

    async def watch() -> tuple[str, str | None]:
        task = asyncio.ensure_future(shell.controller.send("slowly"))
        await asyncio.sleep(1.5)
        mid = shell.controller.streaming_message_id
        partial = shell.services.store.get_message(mid).content
        return partial, await task

    partial, final = qt_loop.run_until_complete(watch())
    assert final == "done"
    assert partial.startswith("w0 w1 ") and len(partial) < len("".join(words))


def test_remote_profile_without_key_says_so(shell: Any, qt_loop: Any) -> None:
    profile = Profile(name="Remote", base_url="https://api.example.invalid/v1", model="m")
    shell.services.profiles.upsert(profile)
    shell.services.profiles.set_active("Remote")
    assert qt_loop.run_until_complete(shell.controller.send("hello")) == "failed"
    answer = stored(shell)[-1]
    assert answer.error_kind == "no_key" and "Settings" in answer.error_message


def test_history_is_there_after_reopening(qapp: Any, qt_loop: Any, tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "home")
    services = Services(paths, demo_tokens_per_second=0)
    first = build_window(services)
    assert qt_loop.run_until_complete(first.controller.send("remember me")) == "done"
    conversation_id = first.controller.conversation_id
    qt_loop.run_until_complete(services.aclose())
    dispose(first.window)

    again = Services(paths, demo_tokens_per_second=0)
    second = build_window(again)
    try:
        second.open_conversation(conversation_id)
        messages = again.store.messages(conversation_id)
        assert [m.role for m in messages] == ["user", "assistant"]
        assert "remember me" in second.view.message_plain_text(messages[0].id)
    finally:
        qt_loop.run_until_complete(again.aclose())
        dispose(second.window)


def test_empty_prompt_does_nothing(shell: Any, qt_loop: Any) -> None:
    assert qt_loop.run_until_complete(shell.controller.send("   \n ")) is None
    assert shell.services.store.list_conversations() == []


def test_settings_edits_move_keys_with_renames_and_never_write_them(shell: Any) -> None:
    from deltadesk.shell import apply_profile_edits
    from deltadesk.ui.profile_edits import ProfileEdits

    services = shell.services
    a = Profile(name="A", base_url="https://a.example/v1", model="m")
    b = Profile(name="B", base_url="https://b.example/v1", model="m")
    services.profiles.replace_all([a, b], "A")
    services.secrets.set("A", "key-of-a-" + "1" * 20)
    services.secrets.set("B", "key-of-b-" + "2" * 20)
    swapped = ProfileEdits(
        profiles=[
            Profile(name="B", base_url=a.base_url, model="m"),
            Profile(name="A", base_url=b.base_url, model="m"),
            Profile(name="C", base_url="https://c.example/v1", model="m"),
        ],
        renamed={"A": "B", "B": "A"},
        removed=[],
        keys_to_set={"C": "key-of-c-" + "3" * 20},
        keys_to_delete=[],
        active="B",
    )
    assert apply_profile_edits(services, swapped) == []
    assert services.secrets.get("B") == "key-of-a-" + "1" * 20
    assert services.secrets.get("A") == "key-of-b-" + "2" * 20
    assert services.secrets.get("C") == "key-of-c-" + "3" * 20
    assert services.profiles.active_name == "B"
    assert services.profiles.get("B").base_url == a.base_url
    text = services.paths.profiles.read_text()
    assert "key-of" not in text and "C" in text


def test_keep_thinking_open_is_remembered(qapp: Any, qt_loop: Any, tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "home")
    services = Services(paths, demo_tokens_per_second=0)
    first = build_window(services)
    first.window.keep_reasoning_box.setChecked(True)
    assert first.view.keep_reasoning_open is True
    qt_loop.run_until_complete(services.aclose())
    dispose(first.window)

    again = Services(paths, demo_tokens_per_second=0)
    second = build_window(again)
    try:
        assert second.window.keep_reasoning_box.isChecked()
        assert second.view.keep_reasoning_open is True
    finally:
        qt_loop.run_until_complete(again.aclose())
        dispose(second.window)


def test_closing_the_app_mid_answer_keeps_it_as_interrupted(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(endless())
    use_server(shell, server)

    async def send_then_quit() -> str | None:
        task = asyncio.ensure_future(shell.controller.send("go"))
        while not shell.controller.live_text()[0]:
            await asyncio.sleep(0.01)
        await shell.controller.shutdown()
        return await task

    assert qt_loop.run_until_complete(send_then_quit()) == "interrupted"
    assert server.wait_for_disconnect(2.0)
    answer = stored(shell)[-1]
    assert answer.status == "interrupted" and answer.content.startswith("word0 ")


def test_switching_away_and_back_mid_answer_shows_it_live(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    words = [f"w{i} " for i in range(40)]
    server = serve(streaming(answer_chunks(words), delay=0.02))
    use_server(shell, server)

    async def switch_around() -> str | None:
        task = asyncio.ensure_future(shell.controller.send("first"))
        while len(shell.controller.live_text()[0]) < 12:
            await asyncio.sleep(0.01)
        first_id = shell.controller.conversation_id
        answer_id = shell.controller.streaming_message_id
        shell.new_chat()  # away: the view shows an empty chat while the answer goes on
        assert shell.view.message_ids() == []
        await asyncio.sleep(0.1)
        shell.open_conversation(first_id)  # back: what came meanwhile is there, and more follows
        assert answer_id in shell.view.message_ids()
        return await task

    assert qt_loop.run_until_complete(switch_around()) == "done"
    answer = stored(shell)[-1]
    assert answer.content == "".join(words)
    assert shell.view.message_plain_text(answer.id).split() == answer.content.split()


def test_continue_goes_on_in_the_same_message(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(
        in_turn(
            cut_after([chunk("", role="assistant"), chunk("The first half")]),
            streaming(answer_chunks([" and the second half."])),
        )
    )
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send("tell me")) == "interrupted"
    cut_id = stored(shell)[-1].id
    assert qt_loop.run_until_complete(shell.controller.continue_(cut_id)) == "done"
    # One prompt, one answer: the "continue" turn went with the request, and nowhere else.
    assert [(m.role, m.status) for m in everything(shell)] == [
        ("user", "done"),
        ("assistant", "done"),
    ]
    answer = stored(shell)[-1]
    assert answer.id == cut_id
    assert answer.content == "The first half and the second half."
    assert answer.error_kind is None and answer.error_message is None
    # The model saw its own partial answer, then the request to go on.
    sent = [(m["role"], m["content"]) for m in server.requests[1].json()["messages"]]
    assert sent[:2] == [("user", "tell me"), ("assistant", "The first half")]
    assert sent[2][0] == "user" and "Continue" in sent[2][1] and len(sent) == 3
    assert shell.view.message_ids() == [stored(shell)[0].id, cut_id]
    assert "Continue exactly" not in shell.view.toPlainText()
    assert shell.view.message_plain_text(cut_id) == answer.content


def test_settings_edits_report_a_keyring_that_fails_instead_of_crashing(
    shell: Any, monkeypatch: Any
) -> None:
    from deltadesk.core.secrets import SecretStoreError
    from deltadesk.shell import apply_profile_edits
    from deltadesk.ui.profile_edits import ProfileEdits

    services = shell.services
    a = Profile(name="A", base_url="https://a.example/v1", model="m")
    services.profiles.replace_all([a], "A")

    def locked(name: str) -> str | None:
        raise SecretStoreError("The keyring is locked.")

    monkeypatch.setattr(services.secrets, "get", locked)
    renamed = ProfileEdits(
        profiles=[Profile(name="B", base_url=a.base_url, model="m")],
        renamed={"A": "B"},
        removed=[],
        keys_to_set={},
        keys_to_delete=[],
        active="B",
    )
    assert apply_profile_edits(services, renamed) == ["The keyring is locked."]
    assert services.profiles.active_name == "B"
