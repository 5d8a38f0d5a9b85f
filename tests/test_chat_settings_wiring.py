"""The per-chat settings as the window offers them: the panel, the model picker and the
profile picker set what the conversation in view sends (checked in the request bodies of a
real SSE server on loopback), presets start chats with their settings, and the model list
comes from the profile's /models, cached, fetched in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.model_cache import ModelCache
from deltadesk.core.paths import app_paths
from deltadesk.core.presets import PresetStore
from deltadesk.core.sse_server import Request, Responder
from deltadesk.services import Services
from deltadesk.shell import build_window
from deltadesk.ui.profile_edits import ProfileEdits
from tests.sse_script import Handler, answer_chunks, streaming
from tests.test_controller import dispose, use_server

MODELS = ["alpha-1", "beta-2", "gamma-3"]


def with_models(chat: Handler, models: list[str] | None = None, code: int = 200) -> Handler:
    """A server that lists models on GET /models and answers chats with ``chat``."""

    async def handle(request: Request, responder: Responder) -> None:
        if request.method == "GET" and request.path.endswith("/models"):
            if code != 200:
                await responder.send_json(code, {"error": {"message": "no list for you"}})
                return
            data = [{"id": m, "object": "model", "owned_by": "t"} for m in models or MODELS]
            await responder.send_json(200, {"object": "list", "data": data})
            return
        await chat(request, responder)

    return handle


@pytest.fixture
def shell(qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    services = Services(app_paths(tmp_path / "home"), demo_tokens_per_second=0)
    shell = build_window(services)
    shell.window.show()
    yield shell
    qt_loop.run_until_complete(shell.chat_settings.aclose())
    qt_loop.run_until_complete(shell.controller.shutdown())
    qt_loop.run_until_complete(services.aclose())
    dispose(shell.window)


def chats(server: Any) -> list[dict[str, Any]]:
    return [r.json() for r in server.requests if r.method == "POST"]


def test_the_panel_sets_what_the_chat_sends(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["arr"])))
    use_server(shell, server)
    panel = shell.chat_settings.panel
    panel.system_edit.setPlainText("Talk like a pirate.")  # gathered for a moment...
    panel.temperature_spin.setValue(0.7)  # ...and kept with the next change at once
    panel.max_tokens_spin.setValue(300)
    c = shell.controller
    qt_loop.run_until_complete(c.send(None, "hello"))
    sent = chats(server)[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Talk like a pirate."}
    assert (sent["temperature"], sent["max_tokens"]) == (0.7, 300)
    stored = shell.services.store.get_conversation(c.conversation_id).settings
    assert (stored.system, stored.temperature, stored.max_tokens) == (
        "Talk like a pirate.",
        0.7,
        300,
    )


def test_a_system_prompt_typed_just_before_send_goes_with_it(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    shell.chat_settings.panel.system_edit.setPlainText("Be brief.")

    async def send_at_once() -> None:
        # From inside the running loop, as in the app: the composer's Enter, well before
        # the system prompt's gathering delay is over.
        shell.window.prompt_submitted.emit("hi")
        async with asyncio.timeout(20):
            while not chats(server):
                await asyncio.sleep(0.01)

    qt_loop.run_until_complete(send_at_once())
    assert chats(server)[-1]["messages"][0] == {"role": "system", "content": "Be brief."}
    qt_loop.run_until_complete(shell.controller.shutdown())


def test_each_conversation_shows_its_own_settings(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    c, panel = shell.controller, shell.chat_settings.panel
    c.set_settings(None, ConversationSettings(system="First", temperature=0.1))
    qt_loop.run_until_complete(c.send(None, "one"))
    first = c.conversation_id
    shell.new_chat()
    assert panel.system_edit.toPlainText() == ""
    qt_loop.run_until_complete(c.send(None, "two"))
    assert chats(server)[-1]["messages"][0]["role"] == "user"  # the new chat has none
    shell.open_conversation(first)
    assert panel.system_edit.toPlainText() == "First"
    assert panel.settings().temperature == 0.1


def test_the_model_picker_sets_the_chats_model(shell: Any, qt_loop: Any, serve: Any) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    picker = shell.window.model_picker
    shell.chat_settings.show_view()
    assert picker.model() == "m"  # the profile's own
    picker.combo.setEditText("custom-model")
    picker.combo.lineEdit().returnPressed.emit()
    assert shell.controller.settings_of(None).model == "custom-model"
    qt_loop.run_until_complete(shell.controller.send(None, "hi"))
    assert chats(server)[-1]["model"] == "custom-model"
    answer = shell.services.store.active_path(shell.controller.conversation_id)[-1]
    assert answer.model == "custom-model"
    picker.combo.setEditText("m")  # back to the profile's own: nothing kept
    picker.combo.lineEdit().returnPressed.emit()
    assert shell.controller.settings_of(shell.controller.conversation_id).model is None


def look_at(loop: Any, picker: Any, done: Any, notes: list[str | None] | None = None) -> None:
    """The user looks at the picker (from inside the running loop, as in the app); waits
    until ``done()``."""

    async def go() -> None:
        picker.list_wanted.emit()
        if notes is not None:
            notes.append(picker.note())
        async with asyncio.timeout(20):
            while not done():
                await asyncio.sleep(0.01)

    loop.run_until_complete(go())


def test_the_model_list_is_fetched_in_the_background_and_cached(
    shell: Any, qt_loop: Any, serve: Any, qtbot: Any
) -> None:
    server = serve(with_models(streaming(answer_chunks(["ok"]))))
    use_server(shell, server)
    shell.chat_settings.show_view()
    picker = shell.window.model_picker
    assert picker.models() == [] and not server.requests  # nothing asked before a look
    notes: list[str | None] = []
    look_at(qt_loop, picker, lambda: picker.models() == MODELS, notes)
    assert notes[0] == "Fetching the model list…"  # the window goes on meanwhile
    assert picker.note() is None
    look_at(qt_loop, picker, lambda: True)  # fresh: not asked again
    qt_loop.run_until_complete(asyncio.sleep(0.05))
    assert len(server.requests) == 1
    # Chosen from the list: the chat's model
    picker.combo.setCurrentIndex(1)
    picker.combo.activated.emit(1)
    assert shell.controller.settings_of(None).model == "beta-2"
    # the cache is a file: the next start has the list at once, without asking
    again = ModelCache(shell.chat_settings.models.path)
    assert again.get(shell.services.profiles.active) == MODELS


def test_a_model_list_that_cannot_be_fetched_is_said_quietly(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(with_models(streaming(answer_chunks(["ok"])), code=500))
    use_server(shell, server)
    picker = shell.window.model_picker
    shell.chat_settings.show_view()
    look_at(qt_loop, picker, lambda: picker.note() != "Fetching the model list…")
    note = picker.note()
    assert note is not None and note.startswith("The model list could not be fetched")
    assert "no list for you" in note  # the server's own word, not some other failure
    assert picker.isEnabled() and picker.models() == []
    asked = len(server.requests)
    assert asked >= 1
    look_at(qt_loop, picker, lambda: True)  # failed just now: not asked again at every look
    qt_loop.run_until_complete(asyncio.sleep(0.05))
    assert len(server.requests) == asked


def test_the_profile_picker_sets_the_chats_profile(shell: Any, qt_loop: Any, serve: Any) -> None:
    one = serve(streaming(answer_chunks(["from one"])))
    two = serve(streaming(answer_chunks(["from two"])))
    use_server(shell, two, name="Two", model="two-m")
    use_server(shell, one, name="One")
    shell.refresh_profiles()
    qt_loop.run_until_complete(shell.controller.send(None, "first"))
    first = shell.controller.conversation_id
    box = shell.window.profile_box
    box.setCurrentIndex(box.findText("Two"))
    box.activated.emit(box.findText("Two"))
    assert shell.controller.settings_of(first).profile == "Two"
    assert shell.window.model_picker.model() == "two-m"
    qt_loop.run_until_complete(shell.controller.send(first, "second"))
    assert len(chats(one)) == 1 and chats(two)[-1]["model"] == "two-m"
    # another chat on One; coming back shows Two in the picker
    shell.services.profiles.set_active("One")
    shell.new_chat()
    assert box.currentText() == "One"
    shell.open_conversation(first)
    assert box.currentText() == "Two"


def test_presets_start_chats_with_their_settings(
    shell: Any, qt_loop: Any, serve: Any, tmp_path: Path
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server)
    wiring, c = shell.chat_settings, shell.controller
    c.set_settings(None, ConversationSettings(system="Reviewer", max_tokens=99))
    assert wiring.save_preset("Code review") is None
    assert wiring.button.preset_names() == ["Code review"]
    on_disk = PresetStore(tmp_path / "home" / "presets.json").get("Code review")
    assert on_disk is not None and on_disk.settings.profile == "Local test"
    shell.window.new_chat_requested.emit()  # a plain new chat: defaults
    assert c.settings_of(None) == ConversationSettings()
    wiring.new_chat_from_preset("Code review")
    assert wiring.panel.system_edit.toPlainText() == "Reviewer"
    qt_loop.run_until_complete(c.send(None, "look at this"))
    sent = chats(server)[-1]
    assert sent["messages"][0]["content"] == "Reviewer" and sent["max_tokens"] == 99


def test_the_presets_dialog_renames_deletes_and_starts(
    shell: Any, qt_loop: Any, serve: Any, qtbot: Any
) -> None:
    wiring = shell.chat_settings
    shell.controller.set_settings(None, ConversationSettings(system="S"))
    wiring.save_preset("A")
    wiring.save_preset("B")
    dialog = wiring.open_presets()
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["A", "B"]
    dialog.list.setCurrentRow(0)
    dialog.name_edit.setText("B")
    qtbot.mouseClick(dialog.rename_button, Qt.MouseButton.LeftButton)
    assert "exists already" in dialog.problem.text() and dialog.problem.isVisible()
    dialog.name_edit.setText("Alpha")
    qtbot.mouseClick(dialog.rename_button, Qt.MouseButton.LeftButton)
    assert wiring.presets.names() == ["Alpha", "B"]
    assert wiring.button.preset_names() == ["Alpha", "B"]
    dialog.list.setCurrentRow(1)
    qtbot.mouseClick(dialog.delete_button, Qt.MouseButton.LeftButton)
    assert wiring.presets.names() == ["Alpha"]
    dialog.list.setCurrentRow(0)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert shell.controller.settings_of(None).system == "S"


def test_the_panel_toggles_with_its_shortcut_and_button(shell: Any, qtbot: Any) -> None:
    wiring, window = shell.chat_settings, shell.window
    assert not wiring.dock.isVisible()
    qtbot.mouseClick(window.chat_settings_button, Qt.MouseButton.LeftButton)
    assert wiring.dock.isVisible() and window.chat_settings_button.isChecked()
    wiring.toggle_action.trigger()
    assert not wiring.dock.isVisible() and not window.chat_settings_button.isChecked()
    assert wiring.toggle_action.shortcut().toString() == "Ctrl+Shift+S"
    wiring.dock.close()  # its own close button: the ⋯ button follows
    wiring.toggle_action.trigger()
    assert wiring.dock.isVisible()
    wiring.dock.close()
    assert not window.chat_settings_button.isChecked()


def test_the_panel_never_pushes_the_window_past_a_small_screen(shell: Any, qtbot: Any) -> None:
    window = shell.window
    screen = window.screen().availableGeometry()
    assert screen.width() <= 800  # the offscreen screen: a small one
    window.resize(screen.width() - 40, screen.height() - 40)
    qtbot.waitUntil(lambda: window.width() <= screen.width())
    shell.chat_settings.toggle_action.trigger()
    qtbot.waitUntil(shell.chat_settings.dock.isVisible)
    qtbot.wait(50)  # layouts settle (a deferred relayout would widen the window)
    assert window.frameGeometry().width() <= screen.width()
    assert shell.chat_settings.dock.isFloating()  # over the window's right side instead


def test_the_chats_profile_shows_again_after_the_profiles_change(
    shell: Any, qtbot: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server, name="Two", model="two-m")
    use_server(shell, server, name="One")
    shell.refresh_profiles()
    shell.controller.set_settings(None, ConversationSettings(profile="Two"))
    box = shell.window.profile_box
    assert box.currentText() == "Two"
    shell.refresh_profiles()  # as after Settings: the list refilled, showing the active one
    qtbot.waitUntil(lambda: box.currentText() == "Two", timeout=2000)


def test_save_as_preset_asks_for_a_name(shell: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QInputDialog

    wiring = shell.chat_settings
    shell.controller.set_settings(None, ConversationSettings(temperature=0.4))
    wiring.button.save_action.trigger()
    dialogs = [d for d in shell.window.findChildren(QInputDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].setTextValue("Cool")
    dialogs[0].accept()
    preset = wiring.presets.get("Cool")
    assert preset is not None and preset.settings.temperature == 0.4
    assert wiring.button.preset_names() == ["Cool"]


def test_chats_and_presets_follow_a_renamed_profile(shell: Any, qt_loop: Any, serve: Any) -> None:
    one = serve(streaming(answer_chunks(["from one"])))
    two = serve(streaming(answer_chunks(["from two"])))
    two_profile = use_server(shell, two, name="Two", model="two-m")
    use_server(shell, one, name="One")
    c, wiring = shell.controller, shell.chat_settings
    c.set_settings(None, ConversationSettings(profile="Two"))
    wiring.save_preset("On two")
    qt_loop.run_until_complete(c.send(None, "hello"))
    chat = c.conversation_id
    shell.new_chat()
    c.set_settings(None, ConversationSettings(profile="Two", system="new chat"))
    profiles = [p for p in shell.services.profiles.profiles() if p.name != "Two"]
    renamed = replace(two_profile, name="Second")
    edits = ProfileEdits(
        profiles=[*profiles, renamed],
        renamed={"Two": "Second"},
        removed=[],
        keys_to_set={},
        keys_to_delete=[],
        active="One",
    )
    shell._apply_settings(edits)
    assert shell.services.store.get_conversation(chat).settings.profile == "Second"
    assert c.settings_of(None).profile == "Second"
    assert wiring.presets.get("On two").settings.profile == "Second"
    qt_loop.run_until_complete(c.send(chat, "still two?"))
    assert len(chats(two)) == 2 and len(chats(one)) == 0


def test_a_long_model_name_does_not_widen_the_window(shell: Any, qtbot: Any) -> None:
    window = shell.window
    screen = window.screen().availableGeometry()
    window.resize(screen.width() - 40, screen.height() - 40)
    before = window.frameGeometry().width()
    shell.controller.set_settings(None, ConversationSettings(model="model-" + "x" * 190))
    assert window.model_picker.model().startswith("model-xxx")
    shell.window.model_picker.set_models(["y" * 250, "z" * 250])
    qtbot.wait(50)  # layouts settle
    assert window.frameGeometry().width() == before <= screen.width()


def test_the_status_line_names_the_chats_model_before_an_answer(shell: Any) -> None:
    shell.controller.set_settings(None, ConversationSettings(model="other-model"))
    assert shell.window.status_label.text().startswith("other-model · ")


def test_the_chat_menu_offers_presets_and_the_panel(shell: Any) -> None:
    menus = [a.menu() for a in shell.window.menuBar().actions() if a.text() == "&Chat"]
    if not menus:
        pytest.skip("this window has no Chat menu")
    texts = [a.text() for a in menus[0].actions()]
    start = texts.index("New chat")
    assert texts[start + 1 : start + 5] == [
        "New chat from pre&set",
        "Save chat settings as preset…",
        "Manage presets…",
        "Chat settings",
    ]


def test_a_pause_while_typing_the_system_prompt_loses_nothing(shell: Any, qtbot: Any) -> None:
    wiring = shell.chat_settings
    wiring.toggle_action.trigger()
    edit = wiring.panel.system_edit
    edit.setFocus()
    qtbot.keyClicks(edit, "Hello ")
    qtbot.waitUntil(lambda: shell.controller.settings_of(None).system == "Hello", timeout=3000)
    qtbot.keyClicks(edit, "world")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    wiring.panel.commit()
    assert edit.toPlainText() == "Hello world\n"
    assert shell.controller.settings_of(None).system == "Hello world"


def test_reasoning_effort_is_offered_where_the_profile_takes_it(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["ok"])))
    use_server(shell, server, accepts_reasoning_effort=True)
    panel = shell.chat_settings.panel
    shell.chat_settings.toggle_action.trigger()
    shell.chat_settings.show_view()
    assert panel.effort_combo.isVisible() and not panel.effort_note.isVisible()
    panel.effort_combo.setCurrentIndex(panel.effort_combo.findData("medium"))
    panel.effort_combo.activated.emit(panel.effort_combo.currentIndex())
    qt_loop.run_until_complete(shell.controller.send(None, "think"))
    assert chats(server)[-1]["reasoning_effort"] == "medium"
    use_server(shell, server)  # the same name, without it: not offered, not sent
    shell.chat_settings.show_view()
    assert not panel.effort_combo.isVisible() and panel.effort_note.isVisible()
    qt_loop.run_until_complete(shell.controller.send(shell.controller.conversation_id, "again"))
    assert "reasoning_effort" not in chats(server)[-1]


def test_fetch_models_in_settings_fills_the_picker_too(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(with_models(streaming(answer_chunks(["ok"]))))
    profile = use_server(shell, server)
    shell.chat_settings.show_view()
    models = qt_loop.run_until_complete(shell.chat_settings.fetch_models(profile, None))
    assert models == MODELS
    assert shell.window.model_picker.models() == MODELS
    assert shell.chat_settings.models.is_fresh(profile)
