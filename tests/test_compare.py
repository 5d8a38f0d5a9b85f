"""Compare: one prompt, one answer from each of 2-4 profiles, siblings streamed at once, each
with its own Stop; choosing one makes it the active branch. Three real SSE servers on
loopback (each with its own words), real SQLite, the real window offscreen."""

from __future__ import annotations

import asyncio
from typing import Any

from deltadesk.core.profiles import Profile
from tests.test_controller import everything, shell, stored
from tests.test_sessions import Received, expected, until, words

__all__ = ["shell"]


def profiles_for(servers: dict[str, Any]) -> list[Profile]:
    return [
        Profile(name=name, base_url=server.base_url, model=f"model-{name}", max_attempts=1)
        for name, server in servers.items()
    ]


def test_three_profiles_stream_three_siblings_and_stop_on_their_own(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    servers = {name: serve(words(name)) for name in ("x", "y", "z")}
    received = Received(shell)
    controller = shell.controller

    async def compare_then_stop_one() -> tuple[Any, ...]:
        task = asyncio.ensure_future(
            controller.compare(None, "which is best?", profiles_for(servers))
        )
        await until(lambda: controller.conversation_id is not None)
        conversation_id = controller.conversation_id
        await until(lambda: len(received.texts) == 3)  # all three stream at once
        x, y, z = sorted(received.texts)
        assert all(controller.is_streaming(mid) for mid in (x, y, z))
        controller.stop_message(y)
        await until(lambda: not controller.is_streaming(y))
        at_stop = {mid: len(received.of(mid)) for mid in (x, z)}
        await asyncio.sleep(0.3)
        assert controller.is_streaming(x) and controller.is_streaming(z)
        assert all(len(received.of(mid)) > at_stop[mid] for mid in (x, z))  # they went on
        assert controller.busy  # the chat in view still streams
        controller.stop(conversation_id)
        return conversation_id, (x, y, z), await task

    _conversation_id, ids, statuses = qt_loop.run_until_complete(compare_then_stop_one())
    assert statuses == ["stopped", "stopped", "stopped"]
    prompt, *answers = everything(shell)
    assert prompt.role == "user" and prompt.content == "which is best?"
    assert [a.id for a in answers] == list(ids)
    for answer, name in zip(answers, ("x", "y", "z"), strict=True):
        assert answer.parent_id == prompt.id  # siblings of one prompt
        assert (answer.profile, answer.model, answer.status) == (name, f"model-{name}", "stopped")
        assert answer.content == received.of(answer.id) and answer.content.startswith(f"{name}0 ")
        assert set(answer.content.split()) <= {f"{name}{n}" for n in range(10_000)}
    # The one stopped first has less than the two that went on.
    x, y, z = answers
    assert len(y.content) < min(len(x.content), len(z.content))
    for server in servers.values():
        assert [m["content"] for m in server.requests[0].json()["messages"]] == ["which is best?"]
        assert server.wait_for_disconnect(2.0)
    assert [m.id for m in stored(shell)] == [prompt.id, x.id]  # the first is shown until chosen
    # Behind the columns the chat lays out no answer (the columns show them) ...
    assert shell.window.is_comparing() and shell.view.message_ids() == [prompt.id]
    shell.window.compare_view.dismissed.emit()  # ... Back to the chat: the first one, whole
    assert not shell.window.is_comparing()
    assert shell.view.message_ids() == [prompt.id, x.id]
    assert shell.view.message_plain_text(x.id).split() == x.content.split()


def test_choosing_an_answer_makes_it_the_branch_that_goes_on(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    servers = {name: serve(words(name, 3)) for name in ("x", "y", "z")}
    controller = shell.controller
    statuses = qt_loop.run_until_complete(
        controller.compare(None, "pick one", profiles_for(servers))
    )
    assert statuses == ["done", "done", "done"]
    prompt, x, y, z = everything(shell)
    assert [m.content for m in (x, y, z)] == [expected(n, 3) for n in ("x", "y", "z")]
    assert controller.choose(z.id)
    assert [m.id for m in stored(shell)] == [prompt.id, z.id]
    assert shell.view.message_ids() == [prompt.id, z.id]  # the view follows the choice
    # The next prompt continues from the chosen answer (sent to the active profile: z's).
    shell.services.profiles.upsert(profiles_for({"z": servers["z"]})[0])
    shell.services.profiles.set_active("z")
    assert qt_loop.run_until_complete(controller.send(controller.conversation_id, "more")) == "done"
    sent = [(m["role"], m["content"]) for m in servers["z"].requests[1].json()["messages"]]
    assert sent == [("user", "pick one"), ("assistant", expected("z", 3)), ("user", "more")]
    assert [m.id for m in stored(shell)][:2] == [prompt.id, z.id]


def test_compare_takes_two_to_four_profiles(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(words("x", 1))
    one = profiles_for({"x": server})
    five = [Profile(name=f"p{i}", base_url=server.base_url, model="m") for i in range(5)]
    assert qt_loop.run_until_complete(shell.controller.compare(None, "hi", one)) is None
    assert qt_loop.run_until_complete(shell.controller.compare(None, "hi", five)) is None
    assert shell.services.store.list_conversations() == [] and server.requests == []


def _column(shell: Any, message_id: int) -> Any:
    column = shell.window.compare_view.column(message_id)
    assert column is not None
    return column


def _words_shown(shell: Any, message_id: int) -> list[str]:
    return _column(shell, message_id).view.message_plain_text(message_id).split()


def test_an_undecided_compare_is_shown_again_on_return_to_its_chat(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    """One answer done, one stopped, one still streaming while another chat is in view: back
    in the chat, the columns show each as it is (the running one live), until one is chosen."""
    servers = {"x": serve(words("x", 3)), "y": serve(words("y")), "z": serve(words("z"))}
    received = Received(shell)
    controller, window = shell.controller, shell.window

    async def scenario() -> tuple[Any, ...]:
        task = asyncio.ensure_future(controller.compare(None, "compare me", profiles_for(servers)))
        await until(lambda: len(received.texts) == 3)
        conversation_id = controller.conversation_id
        x, y, z = sorted(received.texts)
        assert window.is_comparing()
        await until(lambda: not controller.is_streaming(x))
        controller.stop_message(z)
        await until(lambda: not controller.is_streaming(z))
        shell.new_chat()  # another chat in view: the compare goes on unseen
        assert not window.is_comparing() and window.compare_view.message_ids() == []
        before = len(received.of(y))
        await until(lambda: len(received.of(y)) > before)
        shell.open_conversation(conversation_id)
        assert window.is_comparing()
        assert window.compare_view.message_ids() == [x, y, z]
        assert window.compare_view.prompt_label.text() == "compare me"
        assert _words_shown(shell, x) == expected("x", 3).split()
        assert _column(shell, x).status == "done" and not _column(shell, x).stop_button.isEnabled()
        assert "model-x" in _column(shell, x).figures.text()
        assert "done" in _column(shell, x).figures.text()
        assert _column(shell, z).status == "stopped"
        assert "Stopped" in _column(shell, z).view.toPlainText()
        assert _words_shown(shell, z) == received.of(z).split()
        assert _column(shell, y).status == "streaming" and _column(shell, y).stop_button.isEnabled()
        assert _words_shown(shell, y) == received.of(y).split()  # what has come so far
        shown_now = len(_words_shown(shell, y))
        await until(lambda: len(_words_shown(shell, y)) > shown_now + 3)  # and then live
        # Continue with the one still streaming: the chat shows it, going on.
        _column(shell, y).choose_button.click()
        assert not window.is_comparing()
        assert [m.id for m in stored(shell)][-1] == y
        assert shell.view.message_ids()[-1] == y
        await until(lambda: len(shell.view.message_plain_text(y).split()) > shown_now + 6)
        controller.stop(conversation_id)
        statuses = await task
        shell.new_chat()
        shell.open_conversation(conversation_id)  # chosen: the chat, not the columns
        return conversation_id, statuses

    conversation_id, statuses = qt_loop.run_until_complete(scenario())
    assert statuses == ["done", "stopped", "stopped"]
    assert not window.is_comparing()
    assert shell.comparisons.open_comparison(conversation_id) is None
    prompt_id = everything(shell)[0].id
    answer_id = stored(shell)[-1].id
    assert shell.view.message_ids() == [prompt_id, answer_id]


def test_back_to_the_chat_or_a_new_prompt_ends_showing_the_compare_again(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    servers = {name: serve(words(name, 2)) for name in ("x", "y")}
    controller, window = shell.controller, shell.window
    assert qt_loop.run_until_complete(controller.compare(None, "first", profiles_for(servers))) == [
        "done",
        "done",
    ]
    first = controller.conversation_id
    assert window.is_comparing()
    window.compare_view.back_button.click()
    assert not window.is_comparing()
    shell.new_chat()
    shell.open_conversation(first)
    assert not window.is_comparing()  # the user went back to the chat: it stays the chat

    # A second compare, then a new prompt typed while its columns are shown: the chat
    # shows where the conversation went on, and returning there shows the chat.
    shell.new_chat()
    assert qt_loop.run_until_complete(
        controller.compare(None, "second", profiles_for(servers))
    ) == ["done", "done"]
    second = controller.conversation_id
    shell.new_chat()
    shell.open_conversation(second)
    assert window.is_comparing()  # undecided: shown again
    shell.services.profiles.upsert(profiles_for({"x": servers["x"]})[0])
    shell.services.profiles.set_active("x")
    assert qt_loop.run_until_complete(controller.send(second, "go on")) == "done"
    assert not window.is_comparing()
    assert [m.content for m in stored(shell)][-2] == "go on"
    shell.new_chat()
    shell.open_conversation(second)
    assert not window.is_comparing()
    assert shell.comparisons.open_comparison(second) is None


def test_a_deleted_answer_or_conversation_is_not_shown_again(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    servers = {name: serve(words(name, 2)) for name in ("x", "y")}
    controller, window = shell.controller, shell.window
    qt_loop.run_until_complete(controller.compare(None, "gone soon", profiles_for(servers)))
    conversation_id = controller.conversation_id
    shell.delete_conversation(conversation_id)
    assert not window.is_comparing()
    assert shell.comparisons.show_again(conversation_id) is False
    assert shell.comparisons.open_comparison(conversation_id) is None


def test_a_theme_switch_draws_the_columns_again_in_it(shell: Any, qt_loop: Any, serve: Any) -> None:
    from PySide6.QtGui import QColor, QPalette

    from deltadesk.ui import theme

    servers = {name: serve(words(name, 2)) for name in ("x", "y")}
    controller, window = shell.controller, shell.window
    qt_loop.run_until_complete(controller.compare(None, "colours", profiles_for(servers)))
    x, y = window.compare_view.message_ids()
    before = _column(shell, x)
    try:
        window.set_theme("dark")
        assert theme.is_dark()
        assert window.is_comparing() and window.compare_view.message_ids() == [x, y]
        after = _column(shell, x)
        assert after is not before  # drawn again, in the new colours
        base = after.view.palette().color(QPalette.ColorRole.Base)
        assert base == QColor(theme.DARK.background)
        assert _words_shown(shell, x) == expected("x", 2).split()
    finally:
        window.set_theme("light")
    assert not theme.is_dark()


def test_the_chat_behind_the_columns_lays_out_no_answer_until_it_is_shown(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    """The columns show the answers; the chat page behind them (not seen) does not render
    the active one a second time, also after a return to the chat. Back in the chat, it
    shows the answer so far and then live, and it ends exact."""
    servers = {"x": serve(words("x")), "y": serve(words("y", 3))}
    received = Received(shell)
    controller, window = shell.controller, shell.window

    async def scenario() -> tuple[int, Any]:
        task = asyncio.ensure_future(controller.compare(None, "compare me", profiles_for(servers)))
        await until(lambda: len(received.texts) == 2)
        conversation_id = controller.conversation_id
        x = min(received.texts)
        await until(lambda: len(received.of(x)) > 20)
        assert window.is_comparing() and controller.is_streaming(x)
        assert x not in shell.view.message_ids()
        shell.new_chat()
        shell.open_conversation(conversation_id)  # the open comparison again, x streaming
        assert window.is_comparing() and x not in shell.view.message_ids()
        window.compare_view.dismissed.emit()  # Back to the chat: x so far, then live
        assert x in shell.view.message_ids() and shell.view.is_streaming()
        shown_now = len(shell.view.message_plain_text(x).split())
        await until(lambda: len(shell.view.message_plain_text(x).split()) > shown_now + 5)
        controller.stop(conversation_id)
        await task
        return x, shell.view.message_plain_text(x)

    x, shown = qt_loop.run_until_complete(scenario())
    stored_x = shell.services.store.get_message(x)
    assert stored_x is not None and shown.split() == stored_x.content.split()
