"""The window's wiring of the chat view (real widgets offscreen, real SQLite, real SSE): a
branch switch keeps the switched message where it was on screen, the actions that start an
answer are not offered while the conversation streams, and "Thought for" takes the stream's
time."""

from __future__ import annotations

import asyncio
from typing import Any

from deltadesk.live_answer import StreamStats
from tests.sse_script import chunk, streaming
from tests.test_controller import shell, stored, use_server
from tests.test_sessions import until
from tests.ui.test_branching import _anchors

__all__ = ["shell"]


def _branched_conversation(shell: Any) -> tuple[int, int, int]:
    """Twelve turns; the sixth answer has a sibling, whose branch goes on for six turns of
    its own. Returns (conversation, the answer shown, its sibling)."""
    store = shell.services.store
    conversation = store.create_conversation("Branches")
    answer = sibling = 0
    for turn in range(12):
        prompt = store.add_message(conversation.id, "user", f"Question {turn}\n\n" + "words " * 60)
        if turn == 5:
            sibling = store.add_message(
                conversation.id, "assistant", "The other answer " * 40, parent_id=prompt.id
            ).id
            for other in range(6):  # the sibling's own branch (the current leaf goes on)
                store.add_message(conversation.id, "user", f"Other question {other} " * 20)
                store.add_message(conversation.id, "assistant", f"Other answer {other} " * 60)
            store.set_active_leaf(conversation.id, prompt.id)
        reply = store.add_message(conversation.id, "assistant", f"Answer {turn} " * 80)
        if turn == 5:
            answer = reply.id
    return conversation.id, answer, sibling


def test_a_branch_switch_keeps_the_switcher_under_the_pointer(shell: Any, qtbot: Any) -> None:
    conversation_id, answer, sibling = _branched_conversation(shell)
    shell.window.resize(900, 600)
    shell.open_conversation(conversation_id)
    view = shell.view
    qtbot.waitUntil(lambda: view.pending_message_count == 0)
    # The user scrolls up to the branched answer and clicks ◀ on it.
    top_wanted = 120.0
    view.place_message(answer, top_wanted)
    before = view.message_top(answer)
    assert before is not None and abs(before - top_wanted) <= 1
    assert not view.following
    view.branch_requested.emit(answer, -1)  # ◀ 2/2
    assert sibling in view.message_ids() and answer not in view.message_ids()
    after = view.message_top(sibling)
    assert after is not None and abs(after - before) <= 1  # same place on screen
    assert "branch-next:" + str(sibling) in _anchors(view.document())
    # Older messages still loading above do not move it either.
    qtbot.waitUntil(lambda: view.pending_message_count == 0)
    after_loading = view.message_top(sibling)
    assert after_loading is not None and abs(after_loading - before) <= 1
    view.branch_requested.emit(sibling, +1)  # and back: ▶ 1/2
    back = view.message_top(answer)
    assert back is not None and abs(back - before) <= 1


def test_no_edit_or_regenerate_while_the_conversation_streams(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    events = [
        chunk("", role="assistant"),
        *(chunk(f"w{n} ") for n in range(40)),
        chunk(finish="stop"),
    ]
    server = serve(streaming(events, delay=0.05))
    use_server(shell, server)
    view = shell.view
    seen: list[set[str]] = []

    async def send_and_look() -> None:
        assert await shell.controller.send(None, "first") == "done"
        task = asyncio.ensure_future(shell.controller.send(shell.controller.conversation_id, "two"))
        await until(lambda: shell.controller.busy and "w3" in view.toPlainText())
        seen.append({s.cursor.selectedText() for s in view.extraSelections()})
        await task

    qt_loop.run_until_complete(send_and_look())
    assert seen[0] == {"Edit", "Regenerate"}  # drawn dim: the controller would refuse them
    assert "Copy answer" in view.toPlainText()
    assert view.extraSelections() == []  # offered again once it ended
    assert len(stored(shell)) == 4


def test_thought_for_takes_the_streams_reasoning_time(shell: Any, qt_loop: Any, serve: Any) -> None:
    events = [
        chunk("", role="assistant"),
        *(chunk(reasoning=f"think{n} ") for n in range(5)),
        *(chunk(f"answer{n} ") for n in range(5)),
        chunk(finish="stop"),
    ]
    use_server(shell, serve(streaming(events, delay=0.02)))
    assert qt_loop.run_until_complete(shell.controller.send(None, "think")) == "done"
    answer = stored(shell)[-1]
    assert answer.reasoning.startswith("think0")
    assert "words" not in shell.view.toPlainText()  # a count of words is not a time
    # The figures of an answer carry how long the model thought: the fold says it.
    stats = StreamStats(model="m", status="done")
    stats.reasoning_ms = 3240.0
    shell._on_figures(answer.id, stats)
    assert "▸ Thought for 3.2 s" in shell.view.toPlainText()
