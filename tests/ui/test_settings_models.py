"""Fetch models offers the list (issue 9, item 6): with the Model field empty the fetched
list opens to choose from, and a choice fills the field; and the Advanced fields that say
how a chat's settings are sent (max tokens field, reasoning effort) round-trip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from deltadesk.core.profiles import Profile
from tests.ui.test_settings_dialog import (
    OLLAMA,
    OPENAI,
    button,
    checkbox,
    field,
    make_dialog,
    press_ok,
    run_until,
    shown_labels,
)
from tests.ui.test_settings_dialog import loop as loop

SEVEN = [f"model-{i}" for i in range(7)]


async def seven(_profile: Profile, _key: str | None) -> list[str]:
    return list(SEVEN)


def test_an_empty_model_field_opens_the_fetched_list_and_a_choice_fills_it(qtbot, loop):
    blank = Profile("Blank", "https://api.example.com/v1", "")
    dialog = make_dialog(qtbot, profiles=(blank, OPENAI), active="Blank", fetch_models=seven)
    model = field(dialog, "Model:")
    assert isinstance(model, QComboBox) and model.currentText() == ""
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    run_until(loop, fetch_button.isEnabled)
    assert "7 models: choose one from the Model list" in shown_labels(dialog)
    qtbot.waitUntil(model.view().isVisible, timeout=2000)  # the list is offered, open
    model.view().setCurrentIndex(model.model().index(3, 0))
    qtbot.keyClick(model.view(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not model.view().isVisible(), timeout=2000)
    assert model.currentText() == "model-3"
    press_ok(qtbot, dialog)
    assert dialog.edits().profiles[0].model == "model-3"


def test_a_typed_model_is_kept_and_the_list_stays_closed(qtbot, loop):
    dialog = make_dialog(qtbot, fetch_models=seven)
    model = field(dialog, "Model:")
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    run_until(loop, fetch_button.isEnabled)
    assert "7 models" in shown_labels(dialog)
    assert not model.view().isVisible()
    assert model.currentText() == OPENAI.model


def test_max_tokens_field_and_reasoning_effort_round_trip(qtbot) -> None:
    reasoner = Profile(
        "Reasoner",
        "https://api.openai.com/v1",
        "o-model",
        max_tokens_field="max_completion_tokens",
        accepts_reasoning_effort=True,
    )
    dialog = make_dialog(qtbot, profiles=(reasoner, OLLAMA), active="Reasoner", stored_keys=())
    combo = field(dialog, "Max tokens sent as:")
    effort = checkbox(dialog, "Reasoning effort adjustable per chat")
    assert isinstance(combo, QComboBox)
    assert combo.currentData() == "max_completion_tokens" and effort.isChecked()
    press_ok(qtbot, dialog)
    assert dialog.edits().profiles == [reasoner, OLLAMA]  # nothing edited, nothing changed
    combo.setCurrentIndex(combo.findData("max_tokens"))
    effort.setChecked(False)
    edited = dialog.edits().profiles[0]
    assert (edited.max_tokens_field, edited.accepts_reasoning_effort) == ("max_tokens", False)
