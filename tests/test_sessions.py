"""A session per conversation: several answers stream at once, each into its own message,
whatever the view shows. Real SSE servers on loopback (each with its own words), real SQLite,
the real window offscreen."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

from deltadesk.answer_stream import CLOSED_DURING_ANSWER
from deltadesk.core.profiles import Profile
from tests.sse_script import Request, Responder, chunk
from tests.test_controller import shell

__all__ = ["shell"]


def words(prefix: str, count: int | None = None, delay: float = 0.005) -> Any:
    """Streams `prefix0 prefix1 ...` (`count` words, or until the client goes away)."""

    async def handle(request: Request, responder: Responder) -> None:
        await responder.start_sse()
        await responder.send_event(chunk("", role="assistant"))
        n = 0
        while (count is None or n < count) and not responder.client_gone.is_set():
            await responder.send_event(chunk(f"{prefix}{n} "))
            n += 1
            await asyncio.sleep(delay)
        if count is not None:
            await responder.send_event(chunk(finish="stop"))
            await responder.send_done()

    return handle


def expected(prefix: str, count: int) -> str:
    return "".join(f"{prefix}{n} " for n in range(count))


def profile_for(shell: Any, server: Any, name: str) -> Profile:
    """Makes a profile for `server` the active one (the next answer goes there)."""
    profile = Profile(name=name, base_url=server.base_url, model=f"model-{name}", max_attempts=1)
    shell.services.profiles.upsert(profile)
    shell.services.profiles.set_active(name)
    return profile


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.01)


class Received:
    """The text each message was sent by the controller, by message id."""

    def __init__(self, shell: Any) -> None:
        self.texts: dict[int, list[str]] = {}
        shell.controller.text_appended.connect(
            lambda mid, text: self.texts.setdefault(mid, []).append(text)
        )

    def of(self, message_id: int) -> str:
        return "".join(self.texts.get(message_id, []))


async def start_in_new_chat(shell: Any, text: str) -> tuple[asyncio.Future[Any], int, int]:
    """Sends `text` in a new chat; (the send, its conversation, its answer) once it streams."""
    shell.new_chat()
    task = asyncio.ensure_future(shell.controller.send(None, text))
    await until(lambda: shell.controller.live_text()[0])
    conversation_id = shell.controller.conversation_id
    answer_id = shell.controller.streaming_message_id
    assert conversation_id is not None and answer_id is not None
    return task, conversation_id, answer_id


def answer_of(shell: Any, conversation_id: int) -> Any:
    return shell.services.store.active_path(conversation_id)[-1]


def test_two_conversations_stream_at_once_and_stop_on_their_own(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a")), serve(words("b"))
    received = Received(shell)

    async def both() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, answer_b = await start_in_new_chat(shell, "second")
        assert conv_a != conv_b
        assert shell.controller.conversation_streams(conv_a)
        assert shell.controller.conversation_streams(conv_b)
        a_before = len(received.of(answer_a))
        await asyncio.sleep(0.2)
        assert len(received.of(answer_a)) > a_before  # A goes on while B is in view
        shell.controller.stop(conv_a)
        assert await task_a == "stopped"
        b_at_stop = len(received.of(answer_b))
        await asyncio.sleep(0.3)
        assert not task_b.done() and shell.controller.conversation_streams(conv_b)
        assert len(received.of(answer_b)) > b_at_stop  # B did not stop with A
        assert shell.controller.busy  # the chat in view (B) still shows Stop
        shell.controller.stop(conv_b)
        return conv_a, conv_b, answer_a, answer_b, await task_b

    conv_a, conv_b, answer_a, answer_b, final_b = qt_loop.run_until_complete(both())
    assert final_b == "stopped"
    assert server_a.wait_for_disconnect(2.0) and server_b.wait_for_disconnect(2.0)
    stored_a, stored_b = answer_of(shell, conv_a), answer_of(shell, conv_b)
    assert (stored_a.id, stored_b.id) == (answer_a, answer_b)
    assert stored_a.status == stored_b.status == "stopped"
    assert stored_a.content == received.of(answer_a) and stored_a.content.startswith("a0 a1 ")
    assert stored_b.content == received.of(answer_b) and stored_b.content.startswith("b0 b1 ")
    assert "b" not in stored_a.content and "a" not in stored_b.content
    assert (stored_a.profile, stored_b.profile) == ("A", "B")
    assert not shell.controller.busy


def test_switching_the_view_mid_stream_neither_stops_nor_misroutes(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    count = 120
    server_a = serve(words("a", count, delay=0.01))
    server_b = serve(words("b", count, delay=0.01))
    received = Received(shell)

    async def switch_around() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, answer_b = await start_in_new_chat(shell, "second")
        for conversation_id, answer_id, other in [
            (conv_a, answer_a, answer_b),
            (conv_b, answer_b, answer_a),
            (conv_a, answer_a, answer_b),
        ]:
            await asyncio.sleep(0.15)
            shell.open_conversation(conversation_id)
            assert other not in shell.view.message_ids()
            assert shell.view.message_ids()[-1] == answer_id  # shown live, at the end
        shell.new_chat()  # away from both: they go on
        await asyncio.sleep(0.1)
        shell.open_conversation(conv_b)
        statuses = await asyncio.gather(task_a, task_b)
        return conv_a, conv_b, answer_a, answer_b, statuses

    conv_a, conv_b, answer_a, answer_b, statuses = qt_loop.run_until_complete(switch_around())
    assert statuses == ["done", "done"]
    assert answer_of(shell, conv_a).content == expected("a", count) == received.of(answer_a)
    assert answer_of(shell, conv_b).content == expected("b", count) == received.of(answer_b)
    # The view in front (B), shown while it streamed, holds B's whole answer and nothing of A.
    assert shell.view.message_plain_text(answer_b).split() == expected("b", count).split()
    assert answer_a not in shell.view.message_ids()
    shell.open_conversation(conv_a)
    assert shell.view.message_plain_text(answer_a).split() == expected("a", count).split()


def test_escape_stops_only_the_chat_in_view(
    shell: Any, qt_loop: Any, serve: Any, qtbot: Any
) -> None:
    from PySide6.QtCore import Qt

    server_a, server_b = serve(words("a")), serve(words("b"))

    async def escape_in_a() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, _answer_b = await start_in_new_chat(shell, "second")
        shell.open_conversation(conv_a)
        assert shell.window.composer.is_streaming()  # A streams: its button is Stop
        qtbot.keyClick(shell.window.composer.input_widget(), Qt.Key.Key_Escape)
        status_a = await task_a
        await asyncio.sleep(0.2)
        assert not task_b.done() and shell.controller.conversation_streams(conv_b)
        assert not shell.window.composer.is_streaming()  # A in view: Send is back
        shell.open_conversation(conv_b)
        assert shell.window.composer.is_streaming()  # B in view: Stop again
        shell.window.stop_requested.emit()  # the Stop button, on B
        return status_a, await task_b

    assert qt_loop.run_until_complete(escape_in_a()) == ("stopped", "stopped")


def test_enter_in_another_chat_sends_there_while_one_streams(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a")), serve(words("b", 3))

    async def send_elsewhere() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        shell.new_chat()
        assert not shell.window.composer.is_streaming()  # a new chat is not busy
        profile_for(shell, server_b, "B")
        shell.window.prompt_submitted.emit("into the new chat")  # Enter, as the window sends it
        await until(lambda: shell.controller.conversation_id not in (None, conv_a))
        conv_b = shell.controller.conversation_id
        await until(lambda: answer_of(shell, conv_b).status == "done")
        shell.controller.stop(conv_a)
        return conv_a, conv_b, await task_a

    conv_a, conv_b, status_a = qt_loop.run_until_complete(send_elsewhere())
    assert status_a == "stopped"
    prompt, answer = shell.services.store.active_path(conv_b)
    assert prompt.content == "into the new chat" and answer.content == expected("b", 3)
    assert len(shell.services.store.messages(conv_a)) == 2  # nothing went into A


def test_each_chat_keeps_its_draft_and_its_status_line(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(words("a"))
    composer, status = shell.window.composer, shell.window.status_label

    async def drafts() -> Any:
        profile_for(shell, server, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        composer.set_text("half a thought for A")
        await until(lambda: "tok/s" in status.text())  # A's figures, A in view
        shell.new_chat()
        assert composer.text() == ""  # A's draft stays with A
        assert "tok/s" not in status.text()  # and so do its figures
        composer.set_text("a draft for the new chat")
        await asyncio.sleep(0.3)
        assert "tok/s" not in status.text()  # A streaming elsewhere does not move it
        shell.open_conversation(conv_a)
        assert composer.text() == "half a thought for A"
        await until(lambda: "tok/s" in status.text())
        shell.new_chat()
        assert composer.text() == "a draft for the new chat"  # the new chat's, kept too
        shell.controller.stop(conv_a)
        return await task_a

    assert qt_loop.run_until_complete(drafts()) == "stopped"


def test_closing_the_app_mid_streams_marks_every_answer_interrupted(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a")), serve(words("b"))

    async def quit_while_both_stream() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, _answer_b = await start_in_new_chat(shell, "second")
        await shell.controller.shutdown()
        return conv_a, conv_b, await task_a, await task_b

    conv_a, conv_b, status_a, status_b = qt_loop.run_until_complete(quit_while_both_stream())
    assert (status_a, status_b) == ("interrupted", "interrupted")
    for conversation_id, prefix in [(conv_a, "a0 "), (conv_b, "b0 ")]:
        answer = answer_of(shell, conversation_id)
        assert (answer.status, answer.error_kind) == ("interrupted", "other")
        assert answer.error_message == CLOSED_DURING_ANSWER
        assert answer.content.startswith(prefix)
    assert server_a.wait_for_disconnect(2.0) and server_b.wait_for_disconnect(2.0)


def test_each_stream_saves_about_once_a_second(
    shell: Any, qt_loop: Any, serve: Any, monkeypatch: Any
) -> None:
    count = 60  # about 3 s each
    server_a = serve(words("a", count, delay=0.05))
    server_b = serve(words("b", count, delay=0.05))
    store = shell.services.store
    saves: dict[int, list[float]] = {}
    real_append = store.append_partial

    def counted(message_id: int, text: str, reasoning: str) -> None:
        saves.setdefault(message_id, []).append(time.monotonic())
        real_append(message_id, text, reasoning)

    monkeypatch.setattr(store, "append_partial", counted)

    async def two_slow_answers() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, _conv_a, answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, _conv_b, answer_b = await start_in_new_chat(shell, "second")
        await asyncio.sleep(1.5)
        partial = (store.get_message(answer_a).content, store.get_message(answer_b).content)
        return answer_a, answer_b, partial, await asyncio.gather(task_a, task_b)

    answer_a, answer_b, (partial_a, partial_b), statuses = qt_loop.run_until_complete(
        two_slow_answers()
    )
    assert statuses == ["done", "done"]
    # Both were on disk in part while streaming, each at its own pace.
    assert partial_a.startswith("a0 a1 ") and len(partial_a) < len(expected("a", count))
    assert partial_b.startswith("b0 b1 ") and len(partial_b) < len(expected("b", count))
    for answer_id in (answer_a, answer_b):
        gaps = [b - a for a, b in itertools.pairwise(saves[answer_id])]
        # ~3 s of streaming: saved about once a second, never at every frame.
        assert gaps and all(0.9 <= gap < 2.5 for gap in gaps), gaps
    assert store.get_message(answer_a).content == expected("a", count)
    assert store.get_message(answer_b).content == expected("b", count)


def test_a_chat_that_streams_or_ended_unseen_is_marked_until_opened(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a", 30, delay=0.01)), serve(words("b"))
    controller = shell.controller
    marks: list[tuple[int, bool, bool]] = []
    controller.marks_changed.connect(lambda *mark: marks.append(mark))

    async def end_while_away() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        assert marks == [(conv_a, True, False)]
        profile_for(shell, server_b, "B")
        task_b, conv_b, _answer_b = await start_in_new_chat(shell, "second")
        assert await task_a == "done"  # ended while B was in view
        assert controller.conversation_unseen(conv_a)
        assert not controller.conversation_unseen(conv_b)  # in view: seen as it streams
        shell.open_conversation(conv_a)
        assert not controller.conversation_unseen(conv_a)
        controller.stop(conv_b)
        return conv_a, conv_b, await task_b

    conv_a, conv_b, status_b = qt_loop.run_until_complete(end_while_away())
    assert status_b == "stopped"
    assert marks == [
        (conv_a, True, False),
        (conv_b, True, False),
        (conv_a, False, True),  # done, not seen
        (conv_a, False, False),  # opened
        (conv_b, False, True),  # stopped while A was in view
    ]


def test_a_stop_before_the_answer_first_runs_still_ends_it(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(words("a"))
    profile_for(shell, server, "A")

    async def stop_at_once() -> Any:
        asyncio.get_running_loop().call_later(0, shell.window.stop_requested.emit)
        return await shell.controller.send(None, "never mind")

    assert qt_loop.run_until_complete(stop_at_once()) == "stopped"
    assert not shell.controller.busy and not shell.window.composer.is_streaming()
    assert answer_of(shell, shell.controller.conversation_id).status == "stopped"


def test_deleting_a_streaming_chat_stops_only_its_answer(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a")), serve(words("b"))

    async def delete_a() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, answer_b = await start_in_new_chat(shell, "second")
        shell.delete_conversation(conv_a)
        status_a = await task_a
        before = len(shell.controller.live_text(answer_b)[0])
        await asyncio.sleep(0.2)
        assert len(shell.controller.live_text(answer_b)[0]) > before  # B goes on
        shell.controller.stop(conv_b)
        return conv_a, status_a, await task_b

    conv_a, status_a, status_b = qt_loop.run_until_complete(delete_a())
    assert (status_a, status_b) == ("stopped", "stopped")
    assert shell.services.store.get_conversation(conv_a) is None
    assert server_a.wait_for_disconnect(2.0)
