"""The window's preferences through the real shell (services, SQLite, the demo provider):
zoom and theme remembered, the window's place and the last conversation restored after a
restart, the welcome page only on an empty new chat, Up recalling the conversation's prompt."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from deltadesk.core.paths import app_paths
from deltadesk.services import Services
from deltadesk.shell import build_window
from deltadesk.ui import theme
from tests.test_controller import dispose


class Starts:
    """Starts the app's window on one data folder, as often as a test restarts it."""

    def __init__(self, home: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.home, self.loop = home, loop
        self.running: list[tuple[Any, Services]] = []

    def start(self, show: bool = True) -> Any:
        services = Services(app_paths(self.home), demo_tokens_per_second=0)
        shell = build_window(services)
        if show:
            shell.window.show()
        self.running.append((shell, services))
        return shell

    def quit(self, shell: Any) -> None:
        shell.window.close()  # closing: the window's state is saved
        for entry in list(self.running):
            if entry[0] is shell:
                self._stop(*entry)
                self.running.remove(entry)

    def _stop(self, shell: Any, services: Services) -> None:
        self.loop.run_until_complete(shell.controller.shutdown())
        self.loop.run_until_complete(services.aclose())
        dispose(shell.window)

    def preferences(self) -> dict[str, Any]:
        path = app_paths(self.home).preferences
        data: dict[str, Any] = json.loads(path.read_text())
        return data


@pytest.fixture
def starts(qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Starts]:
    runs = Starts(tmp_path / "home", qt_loop)
    yield runs
    for shell, services in runs.running:
        runs._stop(shell, services)
    theme.use(theme.LIGHT)


def send(shell: Any, loop: asyncio.AbstractEventLoop, text: str) -> None:
    controller = shell.controller
    assert loop.run_until_complete(controller.send(controller.conversation_id, text)) == "done"


def test_welcome_on_an_empty_new_chat_only(starts: Starts, qt_loop: Any, qtbot: QtBot) -> None:
    shell = starts.start()
    window = shell.window
    assert window.welcome_shown() and window.welcome.isVisible()
    qtbot.mouseClick(window.welcome.prompt_buttons[0], Qt.MouseButton.LeftButton)
    assert not window.welcome_shown()
    qt_loop.run_until_complete(
        _until(lambda: not shell.controller.busy and shell.view.message_ids())
    )
    assert len(shell.view.message_ids()) == 2  # the example was sent, and answered
    conversation_id = shell.controller.conversation_id
    shell.new_chat()
    assert window.welcome_shown()
    shell.open_conversation(conversation_id)
    assert not window.welcome_shown() and window.chat_view.isVisible()


async def _until(condition: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "gave up waiting"
        await asyncio.sleep(0.01)


def test_up_recalls_the_conversations_last_prompt(
    starts: Starts, qt_loop: Any, qtbot: QtBot
) -> None:
    shell = starts.start()
    send(shell, qt_loop, "first chat's question")
    first = shell.controller.conversation_id
    shell.new_chat()
    send(shell, qt_loop, "second chat's question")
    shell.open_conversation(first)
    prompt = shell.window.composer.input_widget()
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert shell.window.composer.text() == "first chat's question"
    shell.window.composer.clear()
    shell.new_chat()  # nothing in this chat, nothing sent from the box: the latest anywhere
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert shell.window.composer.text() == "second chat's question"
    shell.window.composer.clear()
    shell.window.composer.set_text("typed here")
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    qt_loop.run_until_complete(_until(lambda: not shell.controller.busy))
    shell.new_chat()
    qtbot.keyClick(prompt, Qt.Key.Key_Up)
    assert shell.window.composer.text() == "typed here"


def test_zoom_theme_place_and_conversation_survive_a_restart(starts: Starts, qt_loop: Any) -> None:
    shell = starts.start()
    window = shell.window
    send(shell, qt_loop, "remember me")
    conversation_id = shell.controller.conversation_id
    window.zoom_in()
    window.zoom_in()
    assert starts.preferences()["zoom_percent"] == 125  # saved as it changes
    window.theme_actions["dark"].trigger()
    assert starts.preferences()["theme"] == "dark"
    window.setGeometry(10, 30, 760, 560)
    window.splitter.setSizes([200, 500])
    sizes = window.splitter.sizes()
    starts.quit(shell)
    saved = starts.preferences()
    assert saved["window_rect"] == [10, 30, 760, 560]
    assert saved["splitter_sizes"] == sizes and saved["last_conversation_id"] == conversation_id

    theme.use(theme.LIGHT)  # a new process would start light
    again = starts.start(show=False)  # as app.py: restored before it shows
    restored = again.window
    assert restored.zoom_percent() == 125
    assert restored.theme_mode() == "dark" and theme.is_dark()
    assert restored.theme_actions["dark"].isChecked()
    geometry = restored.geometry()
    assert (geometry.x(), geometry.y(), geometry.width(), geometry.height()) == (10, 30, 760, 560)
    restored.show()
    assert restored.splitter.sizes()[0] == pytest.approx(sizes[0], abs=2)
    assert again.controller.conversation_id == conversation_id
    assert not restored.welcome_shown()
    assert len(again.view.message_ids()) == 2
    assert "remember me" in restored.conversation_title.text()


def test_a_deleted_last_conversation_starts_a_new_chat(starts: Starts, qt_loop: Any) -> None:
    shell = starts.start()
    send(shell, qt_loop, "soon gone")
    conversation_id = shell.controller.conversation_id
    starts.quit(shell)
    path = app_paths(starts.home).preferences
    data = json.loads(path.read_text())
    data["last_conversation_id"] = conversation_id + 100  # not in the history
    path.write_text(json.dumps(data))
    again = starts.start()
    assert again.controller.conversation_id is None and again.window.welcome_shown()


def test_closing_settings_gives_the_keyboard_back_to_the_prompt(
    starts: Starts, qtbot: QtBot
) -> None:
    from PySide6.QtWidgets import QDialog

    shell = starts.start()
    window = shell.window
    window.settings_button.setFocus()
    qtbot.mouseClick(window.settings_button, Qt.MouseButton.LeftButton)
    dialogs = [d for d in window.findChildren(QDialog) if d.isVisible()]
    assert len(dialogs) == 1
    dialogs[0].reject()
    qtbot.waitUntil(lambda: window.focusWidget() is window.composer.input_widget())


def test_a_maximised_window_comes_back_maximised(starts: Starts, qtbot: QtBot) -> None:
    shell = starts.start()
    shell.window.showMaximized()
    qtbot.waitUntil(shell.window.isMaximized)
    starts.quit(shell)
    assert starts.preferences()["window_maximized"] is True
    from deltadesk.window_state import show_window

    again = starts.start(show=False)
    show_window(again.window)
    qtbot.waitUntil(again.window.isMaximized)


def test_the_welcome_goes_however_the_first_prompt_was_sent(starts: Starts, qt_loop: Any) -> None:
    """Seen with a prompt sent past the prompt box (a compare, a script): the welcome page
    stayed over a conversation that had messages."""
    shell = starts.start()
    assert shell.window.welcome_shown()
    send(shell, qt_loop, "not typed in the prompt box")
    assert shell.view.message_ids() and not shell.window.welcome_shown()
