"""The sidebar's search, rename, pin and delete-with-undo carried out by the shell, on a real
history in a temp dir and the real window offscreen."""

from __future__ import annotations

import asyncio
from typing import Any

from PySide6.QtCore import Qt

from tests.test_controller import shell
from tests.test_sessions import profile_for, start_in_new_chat, until, words

__all__ = ["shell"]


def conversation(shell: Any, title: str, *texts: str) -> int:
    """A conversation with one path of alternating prompts and answers."""
    store = shell.services.store
    made = store.create_conversation(title)
    for n, text in enumerate(texts):
        store.add_message(made.id, "user" if n % 2 == 0 else "assistant", text)
    return made.id


def search_for(shell: Any, qtbot: Any, query: str) -> list[tuple[int, int]]:
    sidebar = shell.window.sidebar
    sidebar.start_full_text_search()
    field = sidebar.filter_field()
    field.clear()
    with qtbot.waitSignal(
        sidebar.search_results().model().rowsInserted, timeout=3000, raising=False
    ):
        qtbot.keyClicks(field, query)
    qtbot.waitUntil(lambda: sidebar.search_results().count() > 0, timeout=3000)
    return sidebar.search_results().hits()


def test_full_text_search_finds_messages_of_every_branch(shell: Any, qtbot: Any) -> None:
    store = shell.services.store
    chat = conversation(shell, "Holidays", "Where to go in spring?", "Try Lisbon by train.")
    prompt = store.active_path(chat)[0]
    other = store.add_message(chat, "assistant", "Or Porto, by bus.", parent_id=prompt.id)
    conversation(shell, "Cooking", "Bread without yeast?", "Soda bread.")
    shell.refresh_conversations()
    assert [m.id for m in store.active_path(chat)][-1] == other.id
    hits = search_for(shell, qtbot, "lisb")
    [lisbon] = [m for m in store.messages(chat) if "Lisbon" in m.content]
    assert hits == [(chat, lisbon.id)]
    assert hits == [(h.conversation_id, h.message_id) for h in store.search_hits("lisb")]


def test_a_hit_opens_its_conversation_on_the_branch_that_holds_it(shell: Any, qtbot: Any) -> None:
    store = shell.services.store
    chat = conversation(shell, "Holidays", "Where to go in spring?", "Try Lisbon by train.")
    prompt, lisbon = store.active_path(chat)
    porto = store.add_message(chat, "assistant", "Or Porto, by bus.", parent_id=prompt.id)
    later = conversation(shell, "Cooking", "Bread without yeast?", "Soda bread.")
    shell.refresh_conversations()
    shell.open_conversation(later)
    revealed: list[tuple[int, str, bool]] = []
    real = shell.view.reveal_message
    shell.view.reveal_message = lambda mid, q: revealed.append((mid, q, real(mid, q)))
    hits = search_for(shell, qtbot, "lisbon")
    assert hits == [(chat, lisbon.id)]
    results = shell.window.sidebar.search_results()
    results.setFocus()
    results.setCurrentRow(0)
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert shell.controller.conversation_id == chat
    assert [m.id for m in store.active_path(chat)] == [prompt.id, lisbon.id]
    assert shell.view.message_ids() == [prompt.id, lisbon.id]
    assert shell.window.sidebar.current_id() == chat
    assert shell.window.conversation_title.text() == "Holidays"
    assert revealed == [(lisbon.id, "lisbon", True)]  # shown: scrolled to and highlighted
    # A hit on the path shown keeps the path (what follows it is not switched).
    store.switch_branch(porto.id)
    shell.controller.choose(porto.id)
    hits = search_for(shell, qtbot, "spring")
    assert hits == [(chat, prompt.id)]
    shell.window.sidebar.hit_activated.emit(chat, prompt.id)
    assert [m.id for m in store.active_path(chat)] == [prompt.id, porto.id]
    # A title hit opens the conversation as it is.
    shell.window.sidebar.hit_activated.emit(later, -1)
    assert shell.controller.conversation_id == later


def test_rename_goes_to_the_history_and_the_window_title(shell: Any, qtbot: Any) -> None:
    chat = conversation(shell, "Old name", "hello", "hi")
    other = conversation(shell, "Other", "x", "y")
    shell.refresh_conversations()
    shell.open_conversation(chat)
    sidebar = shell.window.sidebar
    sidebar.rename_requested.emit(chat, "New name")
    assert shell.services.store.get_conversation(chat).title == "New name"
    assert shell.window.conversation_title.text() == "New name"
    sidebar.rename_requested.emit(other, "Renamed other")  # not the open one: title stays
    assert shell.window.conversation_title.text() == "New name"
    assert shell.services.store.get_conversation(other).title == "Renamed other"
    assert "Renamed other" in [
        sidebar.list_widget().item(r).text() for r in range(sidebar.list_widget().count())
    ]


def test_pin_goes_to_the_history_and_the_pinned_group(shell: Any) -> None:
    first = conversation(shell, "First", "a", "b")
    conversation(shell, "Second", "c", "d")
    shell.refresh_conversations()
    sidebar = shell.window.sidebar
    assert sidebar.group_names() == ["Today"]
    sidebar.pin_requested.emit(first, True)
    assert shell.services.store.get_conversation(first).pinned
    assert sidebar.group_names() == ["Pinned", "Today"]
    assert sidebar.visible_ids()[0] == first
    sidebar.pin_requested.emit(first, False)
    assert sidebar.group_names() == ["Today"]


def delete_in_list(shell: Any, qtbot: Any, conversation_id: int) -> None:
    sidebar = shell.window.sidebar
    sidebar.select(conversation_id)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    qtbot.keyClick(view, Qt.Key.Key_Delete)


def test_delete_with_undo_then_for_real(shell: Any, qtbot: Any) -> None:
    store = shell.services.store
    chat = conversation(shell, "Doomed", "hello", "hi")
    keep = conversation(shell, "Kept", "x", "y")
    shell.refresh_conversations()
    shell.open_conversation(chat)
    delete_in_list(shell, qtbot, chat)
    sidebar = shell.window.sidebar
    assert sidebar.visible_ids() == [keep]
    assert shell.controller.conversation_id is None  # it left the view at once
    assert store.get_conversation(chat) is not None  # still in the history
    sidebar.undo_bar().undo()
    assert sidebar.visible_ids() == [keep, chat]
    assert shell.controller.conversation_id == chat  # open again, as it was
    sidebar.undo_bar().set_timeout(200)
    delete_in_list(shell, qtbot, chat)
    with qtbot.waitSignal(sidebar.delete_requested, timeout=10_000):
        pass  # the undo time is up
    assert store.get_conversation(chat) is None
    assert sidebar.visible_ids() == [keep]


def test_closing_the_window_deletes_what_waits_for_undo(shell: Any, qtbot: Any) -> None:
    chat = conversation(shell, "Doomed", "hello", "hi")
    shell.refresh_conversations()
    delete_in_list(shell, qtbot, chat)
    assert shell.services.store.get_conversation(chat) is not None
    shell.window.close()
    assert shell.services.store.get_conversation(chat) is None


def test_a_streaming_answer_goes_on_until_the_deletion_is_real(
    shell: Any, qt_loop: Any, qtbot: Any, serve: Any
) -> None:
    server = serve(words("a"))

    async def delete_mid_stream() -> tuple[int, str]:
        profile_for(shell, server, "A")
        task, chat, answer = await start_in_new_chat(shell, "first")
        delete_in_list(shell, qtbot, chat)
        before = len(shell.controller.live_text(answer)[0])
        await until(lambda: len(shell.controller.live_text(answer)[0]) > before)
        assert not task.done()  # hidden, not stopped: Undo would give it back whole
        shell.window.sidebar.commit_pending_delete()
        return chat, await asyncio.wait_for(task, 10)

    chat, status = qt_loop.run_until_complete(delete_mid_stream())
    assert status == "stopped"
    assert shell.services.store.get_conversation(chat) is None
    assert server.wait_for_disconnect(2.0)


def test_in_the_real_window_ctrl_shift_f_works_from_the_prompt_and_esc_is_not_stop(
    shell: Any, qtbot: Any
) -> None:
    window = shell.window
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    stops: list[tuple[Any, ...]] = []
    window.stop_requested.connect(lambda *args: stops.append(args))
    prompt = window.composer.input_widget()
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus, timeout=1000)
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(prompt, Qt.Key.Key_F, both)
    sidebar = window.sidebar
    assert sidebar.is_full_text() and sidebar.filter_field().hasFocus()
    qtbot.keyClicks(sidebar.filter_field(), "lisbon")
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Escape)
    assert not sidebar.is_full_text()
    assert stops == []  # Esc left the search; it stopped nothing
