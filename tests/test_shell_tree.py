"""The window's wiring of the tree and the sessions, through the real widgets offscreen: the
branch switcher, Edit, Regenerate, the figures under each answer, the sidebar's marks and the
compare view. Real SSE servers on loopback, real SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from deltadesk.core.profiles import Profile
from deltadesk.figures import message_figures
from tests.test_controller import everything, shell, stored, use_server
from tests.test_controller_tree import numbered_answers
from tests.test_sessions import Received, expected, profile_for, start_in_new_chat, until, words

__all__ = ["shell"]


def entry(shell: Any, message_id: int) -> Any:
    """What the chat view shows of one message (its switcher place, its figures)."""
    return shell.view._chat.entries[message_id]


def test_regenerate_from_the_view_shows_the_switcher_and_steps_back(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    use_server(shell, serve(numbered_answers()))
    controller, view = shell.controller, shell.view
    assert qt_loop.run_until_complete(controller.send(None, "prompt")) == "done"
    prompt, first = stored(shell)

    async def regenerate_from_the_view() -> None:
        view.regenerate_requested.emit(first.id)  # Regenerate under the answer
        await until(lambda: len(everything(shell)) == 3 and not controller.busy)

    qt_loop.run_until_complete(regenerate_from_the_view())
    second = stored(shell)[-1]
    assert second.content == "answer 2"
    assert view.message_ids() == [prompt.id, second.id]
    assert (entry(shell, second.id).sibling_index, entry(shell, second.id).sibling_count) == (2, 2)
    view.branch_requested.emit(second.id, -1)  # ◀
    assert view.message_ids() == [prompt.id, first.id]
    assert (entry(shell, first.id).sibling_index, entry(shell, first.id).sibling_count) == (1, 2)
    assert view.message_plain_text(first.id) == "answer 1"
    assert [m.id for m in stored(shell)] == [prompt.id, first.id]  # the path moved too
    view.branch_requested.emit(first.id, -1)  # nothing before the first: nothing happens
    assert view.message_ids() == [prompt.id, first.id]
    view.branch_requested.emit(first.id, +1)  # ▶
    assert view.message_ids() == [prompt.id, second.id]


def test_edit_from_the_view_sends_a_sibling_prompt(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    controller, view = shell.controller, shell.view
    assert qt_loop.run_until_complete(controller.send(None, "first try")) == "done"
    prompt, _answer = stored(shell)

    async def edit() -> None:
        view.edit_submitted.emit(prompt.id, "second try")
        await until(lambda: len(everything(shell)) == 4 and not controller.busy)

    qt_loop.run_until_complete(edit())
    edited, answer = stored(shell)
    assert edited.content == "second try" and edited.parent_id is None
    assert view.message_ids() == [edited.id, answer.id]
    assert (entry(shell, edited.id).sibling_index, entry(shell, edited.id).sibling_count) == (2, 2)
    assert [m["content"] for m in server.requests[1].json()["messages"]] == ["second try"]


def test_each_answer_shows_its_own_figures(shell: Any, qt_loop: Any, serve: Any) -> None:
    use_server(shell, serve(words("a", 5)), model="model-one")
    controller = shell.controller
    assert qt_loop.run_until_complete(controller.send(None, "one")) == "done"
    use_server(shell, serve(words("b", 5)), model="model-two")
    assert qt_loop.run_until_complete(controller.send(controller.conversation_id, "two")) == "done"
    _p1, a1, _p2, a2 = stored(shell)
    assert entry(shell, a1.id).figures.startswith("model-one · ")
    assert entry(shell, a2.id).figures.startswith("model-two · ")
    assert entry(shell, a2.id).figures.endswith(" · done")
    shell.open_conversation(controller.conversation_id)  # read back from the history
    assert entry(shell, a1.id).figures == message_figures(a1)
    assert entry(shell, a2.id).figures == message_figures(a2)


def test_the_sidebar_marks_a_chat_streaming_elsewhere_then_unseen(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server_a, server_b = serve(words("a", 40, delay=0.01)), serve(words("b"))
    sidebar, controller = shell.window.sidebar, shell.controller

    async def away_while_it_ends() -> tuple[Any, ...]:
        profile_for(shell, server_a, "A")
        task_a, conv_a, _answer_a = await start_in_new_chat(shell, "first")
        profile_for(shell, server_b, "B")
        task_b, conv_b, _answer_b = await start_in_new_chat(shell, "second")
        assert sidebar.marks(conv_a) == (True, False)  # answering…
        assert await task_a == "done"
        assert sidebar.marks(conv_a) == (False, True)  # new: finished while B was in view
        assert sidebar.marks(conv_b) == (True, False)
        shell.open_conversation(conv_a)
        assert sidebar.marks(conv_a) == (False, False)
        controller.stop(conv_b)
        return conv_b, await task_b

    conv_b, status_b = qt_loop.run_until_complete(away_while_it_ends())
    assert status_b == "stopped"
    assert sidebar.marks(conv_b) == (False, True)


def test_compare_from_the_window_streams_columns_with_their_own_stop(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    window, controller = shell.window, shell.controller
    servers = {name: serve(words(name)) for name in ("x", "y", "z")}
    for name, server in servers.items():
        shell.services.profiles.upsert(
            Profile(name=name, base_url=server.base_url, model=f"m-{name}", max_attempts=1)
        )
    shell.refresh_profiles()
    window.compare_picker.set_checked(["x", "y", "z"])
    received = Received(shell)
    columns = window.compare_view

    async def compare_and_stop_one() -> list[int]:
        window.composer.set_text("side by side?")
        window.request_compare()  # the Compare button
        await until(lambda: len(columns.message_ids()) == 3)
        assert window.is_comparing()
        ids = columns.message_ids()
        await until(lambda: all(received.of(mid) for mid in ids))
        columns.column(ids[1]).stop_button.click()  # the middle column's own Stop
        await until(lambda: not controller.is_streaming(ids[1]))
        await asyncio.sleep(0.2)
        assert controller.is_streaming(ids[0]) and controller.is_streaming(ids[2])
        columns.column(ids[2]).choose_button.click()  # Continue with this one
        assert not window.is_comparing()
        assert shell.view.message_ids()[-1] == ids[2]  # the chat goes on with it, live
        window.stop_requested.emit()  # Stop in the window: the rest of the chat in view
        await until(lambda: not controller.busy)
        return ids

    ids = qt_loop.run_until_complete(compare_and_stop_one())
    prompt, *answers = everything(shell)
    assert prompt.content == "side by side?" and [a.id for a in answers] == ids
    assert [a.profile for a in answers] == ["x", "y", "z"]
    assert all(a.status == "stopped" and a.parent_id == prompt.id for a in answers)
    for answer, name in zip(answers, ("x", "y", "z"), strict=True):
        assert answer.content == received.of(answer.id)
        shown = columns.column(answer.id).view.message_plain_text(answer.id)
        assert shown.split() == answer.content.split()
        assert answer.content.startswith(f"{name}0 ")
    assert [m.id for m in stored(shell)] == [prompt.id, ids[2]]
    assert shell.view.message_plain_text(ids[2]).split() == answers[2].content.split()
    assert answers[2].content.startswith(expected("z", 3))  # it went on after the other stop
