"""Regenerate and edit-and-resend add siblings to the conversation's tree: nothing is deleted
or reordered, the new branch becomes the active path, and only that path is sent. Real SSE
server (a different answer each time), real SQLite, the real window offscreen."""

from __future__ import annotations

from typing import Any

from tests.sse_script import Request, Responder, answer_chunks
from tests.test_controller import everything, shell, stored, use_server

__all__ = ["shell"]


def numbered_answers() -> Any:
    """The n-th request gets the answer "answer n" (so each answer is told apart)."""
    calls = 0

    async def handle(request: Request, responder: Responder) -> None:
        nonlocal calls
        calls += 1
        await responder.start_sse()
        for event in answer_chunks(["answer ", str(calls)]):
            await responder.send_event(event)
        await responder.send_done()

    return handle


def sent(server: Any, index: int) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[index].json()["messages"]]


def two_turns(shell: Any, qt_loop: Any) -> list[Any]:
    """prompt 1 -> answer 1 -> prompt 2 -> answer 2, all done."""
    assert qt_loop.run_until_complete(shell.controller.send(None, "prompt 1")) == "done"
    conversation_id = shell.controller.conversation_id
    assert qt_loop.run_until_complete(shell.controller.send(conversation_id, "prompt 2")) == "done"
    return stored(shell)


def rows(shell: Any) -> list[tuple[int, int | None, str, str, str]]:
    return [(m.id, m.parent_id, m.role, m.content, m.status) for m in everything(shell)]


def test_regenerate_an_older_answer_adds_a_sibling_and_keeps_everything(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    prompt_1, answer_1, prompt_2, answer_2 = two_turns(shell, qt_loop)
    before = rows(shell)
    assert qt_loop.run_until_complete(shell.controller.regenerate(answer_1.id)) == "done"
    after = rows(shell)
    assert after[:4] == before  # nothing deleted, changed or moved
    (new_id, parent, role, content, status) = after[4]
    assert (parent, role, content, status) == (prompt_1.id, "assistant", "answer 3", "done")
    assert [m.id for m in shell.services.store.siblings(answer_1.id)] == [answer_1.id, new_id]
    assert [m.id for m in stored(shell)] == [prompt_1.id, new_id]  # the new branch is active
    assert sent(server, 2) == [("user", "prompt 1")]  # only the path up to the prompt
    assert shell.view.message_ids() == [prompt_1.id, new_id]
    # Back on the old branch: the path through it comes back whole, in order.
    leaf = shell.services.store.switch_branch(answer_1.id)
    assert leaf == answer_2.id
    assert [m.id for m in stored(shell)] == [prompt_1.id, answer_1.id, prompt_2.id, answer_2.id]


def test_the_next_prompt_continues_the_active_branch_only(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    _prompt_1, answer_1, _prompt_2, _answer_2 = two_turns(shell, qt_loop)
    assert qt_loop.run_until_complete(shell.controller.regenerate(answer_1.id)) == "done"
    conversation_id = shell.controller.conversation_id
    assert qt_loop.run_until_complete(shell.controller.send(conversation_id, "prompt 3")) == "done"
    assert sent(server, 3) == [
        ("user", "prompt 1"),
        ("assistant", "answer 3"),
        ("user", "prompt 3"),
    ]
    assert [m.content for m in stored(shell)] == ["prompt 1", "answer 3", "prompt 3", "answer 4"]


def test_edit_and_resend_makes_a_sibling_prompt_and_its_answer(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    prompt_1, answer_1, prompt_2, _answer_2 = two_turns(shell, qt_loop)
    before = rows(shell)
    final = qt_loop.run_until_complete(shell.controller.edit_and_resend(prompt_2.id, " edited "))
    assert final == "done"
    after = rows(shell)
    assert after[:4] == before
    edited, answer = stored(shell)[2:]
    assert (edited.role, edited.content, edited.parent_id) == ("user", "edited", answer_1.id)
    assert [m.id for m in shell.services.store.siblings(prompt_2.id)] == [prompt_2.id, edited.id]
    assert (answer.parent_id, answer.content) == (edited.id, "answer 3")
    assert sent(server, 2) == [("user", "prompt 1"), ("assistant", "answer 1"), ("user", "edited")]
    assert shell.view.message_ids() == [prompt_1.id, answer_1.id, edited.id, answer.id]


def test_editing_the_first_prompt_starts_a_second_root(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    prompt_1, _answer_1, _prompt_2, _answer_2 = two_turns(shell, qt_loop)
    assert qt_loop.run_until_complete(shell.controller.edit_and_resend(prompt_1.id, "new start"))
    edited, answer = stored(shell)
    assert edited.parent_id is None and edited.content == "new start"
    assert [m.id for m in shell.services.store.siblings(prompt_1.id)] == [prompt_1.id, edited.id]
    assert sent(server, 2) == [("user", "new start")]
    assert answer.content == "answer 3"
    assert len(everything(shell)) == 6


def test_regenerate_refuses_a_prompt_and_edit_refuses_an_answer(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    prompt_1, answer_1, _prompt_2, _answer_2 = two_turns(shell, qt_loop)
    assert qt_loop.run_until_complete(shell.controller.regenerate(prompt_1.id)) is None
    assert qt_loop.run_until_complete(shell.controller.edit_and_resend(answer_1.id, "x")) is None
    assert qt_loop.run_until_complete(shell.controller.edit_and_resend(prompt_1.id, "  ")) is None
    assert len(everything(shell)) == 4 and len(server.requests) == 2


def test_continue_refuses_an_answer_with_follow_ups(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(numbered_answers())
    use_server(shell, server)
    _prompt_1, answer_1, _prompt_2, _answer_2 = two_turns(shell, qt_loop)
    shell.services.store.update_message(answer_1.id, status="stopped")
    assert qt_loop.run_until_complete(shell.controller.continue_(answer_1.id)) is None
    assert len(server.requests) == 2
