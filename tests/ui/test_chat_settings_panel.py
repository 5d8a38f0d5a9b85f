"""The chat settings panel, the ⋯ button and the model picker as widgets, offscreen: what
they show, what they say when the user changes something, and that outside text stays
plain and narrow."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.presets import ChatPreset
from deltadesk.ui.chat_settings_panel import ChatSettingsButton, ChatSettingsPanel
from deltadesk.ui.model_picker import ModelPicker
from deltadesk.ui.presets_dialog import describe

HOT = ConversationSettings(
    system="Rhyme.", temperature=1.2, max_tokens=64, reasoning_effort="low", profile="P"
)


def panel(qtbot) -> ChatSettingsPanel:
    widget = ChatSettingsPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_shows_settings_and_says_nothing_while_filled(qtbot) -> None:
    p = panel(qtbot)
    said: list[ConversationSettings] = []
    p.edited.connect(said.append)
    p.show_settings(HOT, reasoning_effort=True, answering="P · m")
    assert p.system_edit.toPlainText() == "Rhyme."
    assert p.temperature_spin.value() == 1.2 and p.max_tokens_spin.value() == 64
    assert p.effort_combo.currentData() == "low" and p.effort_combo.isVisible()
    assert p.settings() == HOT
    qtbot.wait(700)  # longer than the system prompt's gathering delay
    assert said == []


def test_defaults_read_as_default_and_send_nothing(qtbot) -> None:
    p = panel(qtbot)
    p.show_settings(ConversationSettings(), reasoning_effort=False)
    assert p.temperature_spin.text() == "Default" and p.max_tokens_spin.text() == "Default"
    assert p.settings() == ConversationSettings()
    assert not p.effort_combo.isVisible() and p.effort_note.isVisible()


def test_each_change_is_said_once_keeping_profile_and_model(qtbot) -> None:
    p = panel(qtbot)
    said: list[ConversationSettings] = []
    p.edited.connect(said.append)
    p.show_settings(ConversationSettings(profile="P", model="big"), reasoning_effort=True)
    p.temperature_spin.setValue(0.0)
    assert said[-1] == ConversationSettings(temperature=0.0, profile="P", model="big")
    p.max_tokens_spin.setValue(100)
    p.effort_combo.setCurrentIndex(p.effort_combo.findData("high"))
    p.effort_combo.activated.emit(p.effort_combo.currentIndex())
    assert said[-1].reasoning_effort == "high" and said[-1].max_tokens == 100
    p.temperature_spin.setValue(p.temperature_spin.minimum())  # back to Default
    assert said[-1].temperature is None
    assert len(said) == 4


def test_typing_a_system_prompt_is_gathered_then_said(qtbot) -> None:
    p = panel(qtbot)
    said: list[ConversationSettings] = []
    p.edited.connect(said.append)
    p.show_settings(ConversationSettings(), reasoning_effort=False)
    p.system_edit.setFocus()
    qtbot.keyClicks(p.system_edit, "Be kind")
    assert said == []  # not one change per key
    qtbot.waitUntil(lambda: bool(said), timeout=3000)
    assert [s.system for s in said] == ["Be kind"]
    p.system_edit.setPlainText("   ")
    p.commit()  # at once (a prompt is being sent)
    assert said[-1].system is None


def test_reset_is_asked_for(qtbot) -> None:
    p = panel(qtbot)
    asked: list[bool] = []
    p.reset_requested.connect(lambda: asked.append(True))
    qtbot.mouseClick(p.reset_button, Qt.MouseButton.LeftButton)
    assert asked == [True]


def test_outside_text_is_plain_and_does_not_widen(qtbot) -> None:
    p = panel(qtbot)
    evil = "<img src='/dev/zero'>" + "x" * 5000
    p.show_settings(ConversationSettings(), reasoning_effort=False, answering=evil)
    assert p.answering_label.textFormat() == Qt.TextFormat.PlainText
    assert p.sizeHint().width() < 400


def test_the_button_toggles_and_lists_presets(qtbot) -> None:
    button = ChatSettingsButton()
    qtbot.addWidget(button)
    chosen: list[str] = []
    button.preset_chosen.connect(chosen.append)
    button.set_presets(["Code & review", "Plain"])
    assert button.preset_names() == ["Code & review", "Plain"]
    button.menu().actions()[0].menu().actions()[0].trigger()
    assert chosen == ["Code & review"]
    assert button.isCheckable()


def picker(qtbot) -> ModelPicker:
    widget = ModelPicker()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_picker_free_text_and_list_choice(qtbot) -> None:
    p = picker(qtbot)
    chosen: list[str] = []
    p.model_chosen.connect(chosen.append)
    p.set_models(["a", "b"])
    p.set_model("a")
    assert chosen == []  # shown, not chosen
    p.combo.setEditText("my-own")
    p.combo.lineEdit().returnPressed.emit()
    p.combo.lineEdit().editingFinished.emit()  # the same name: said once
    assert chosen == ["my-own"]
    p.combo.setCurrentIndex(1)
    p.combo.activated.emit(1)
    assert chosen == ["my-own", "b"]


def test_picker_asks_for_its_list_when_looked_at(qtbot) -> None:
    p = picker(qtbot)
    wanted: list[bool] = []
    p.list_wanted.connect(lambda: wanted.append(True))
    p.combo.setFocus()
    qtbot.waitUntil(lambda: bool(wanted), timeout=2000)


def test_picker_stays_narrow_with_long_names(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    p = ModelPicker(host)
    narrow = p.sizeHint().width()
    p.set_models(["m" * 300, "x" * 200])
    p.set_model("y" * 256)
    assert p.sizeHint().width() == narrow <= 220


def test_preset_description_is_plain_lines() -> None:
    text = describe(ChatPreset("x", HOT))
    assert "Temperature: 1.2" in text and "Reasoning effort: low" in text
    assert "System prompt: Rhyme." in text


def test_picker_shows_the_start_of_a_long_name(qtbot) -> None:
    p = picker(qtbot)
    p.set_model("a-long-model-name-that-does-not-fit")
    p.set_models(["a-long-model-name-that-does-not-fit", "b"])
    assert p.combo.lineEdit().cursorPosition() == 0


def test_a_floating_panel_moves_with_its_window(qtbot) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMainWindow

    from deltadesk.ui.chat_settings_panel import FloatingFollower, settings_dock

    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QWidget())
    window.setGeometry(100, 100, 600, 400)
    dock = settings_dock(ChatSettingsPanel(), window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    FloatingFollower(dock, window)
    window.show()
    qtbot.waitExposed(window)
    dock.setFloating(True)
    dock.show()
    dock.move(400, 160)
    qtbot.waitUntil(lambda: dock.pos() == QPoint(400, 160))
    window.move(window.pos() + QPoint(40, 25))
    qtbot.waitUntil(lambda: dock.pos() == QPoint(440, 185))  # the same place on the window
    dock.setFloating(False)  # docked: Qt's own layout keeps it in the window
    docked_at = dock.pos()
    window.move(window.pos() + QPoint(30, 0))
    qtbot.wait(50)
    assert dock.pos() == docked_at
