"""The settings dialog's newer fields: first-token limit, self-hosted server, answer cap,
usage refusals; and outside text (model lists, errors) shown as plain text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLabel

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.profiles import Profile
from deltadesk.ui.settings_dialog import SettingsDialog, usable_model_names
from tests.ui.test_settings_dialog import (
    OLLAMA,
    OPENAI,
    button,
    checkbox,
    choose_preset,
    field,
    make_dialog,
    no_models,
    press_ok,
    run_until,
    shown_labels,
)
from tests.ui.test_settings_dialog import loop as loop


def test_zero_first_token_limit_reads_automatic_and_round_trips(qtbot) -> None:
    dialog = make_dialog(qtbot)
    spin = field(dialog, "First-token limit:")
    assert isinstance(spin, QDoubleSpinBox)
    assert spin.value() == 0.0
    assert spin.text() == "Automatic (300 s local / 120 s hosted)"
    press_ok(qtbot, dialog)
    assert dialog.edits().profiles == [OPENAI, OLLAMA]  # nothing edited, nothing changed


def test_a_preset_for_a_model_server_ticks_self_hosted(qtbot) -> None:
    dialog = make_dialog(qtbot)
    local = checkbox(dialog, "Self-hosted model server")
    assert not local.isChecked()
    choose_preset(qtbot, dialog, "llama.cpp (local)")
    assert local.isChecked()
    press_ok(qtbot, dialog)
    edited = dialog.edits().profiles[0]
    assert edited.local_server and edited.base_url == "http://localhost:8080/v1"
    assert edited.first_token_limit == 300.0


def test_answer_cap_round_trips_and_an_odd_stored_value_survives_unedited(qtbot) -> None:
    odd = Profile("Odd", "https://api.example.com/v1", "m", max_answer_chars=12_345_678)
    dialog = make_dialog(qtbot, profiles=(odd, OPENAI), active="Odd", stored_keys=())
    cap = field(dialog, "Answer-size cap:")
    assert isinstance(cap, QDoubleSpinBox)
    assert cap.value() == 12.3
    press_ok(qtbot, dialog)
    assert dialog.edits().profiles[0].max_answer_chars == 12_345_678  # not rounded away
    cap.setValue(2.5)
    assert dialog.edits().profiles[0].max_answer_chars == 2_500_000


def test_usage_refusals_are_listed_and_can_be_reset(qtbot) -> None:
    refusals = {OPENAI.base_url: ["gpt-4o-mini", "<b>odd</b>"]}
    resets: list[str] = []

    def reset(profile: Profile) -> None:
        resets.append(profile.base_url)
        refusals.pop(profile.base_url, None)

    dialog = SettingsDialog(
        [OPENAI, OLLAMA],
        "OpenAI",
        has_key=lambda _name: False,
        fetch_models=no_models,
        usage_refusals=lambda profile: list(refusals.get(profile.base_url, [])),
        reset_usage_refusals=reset,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    assert "Usage not reported by: gpt-4o-mini, <b>odd</b>" in shown_labels(dialog)
    again = button(dialog, "Ask for usage again")
    assert again.isVisible()
    qtbot.mouseClick(again, Qt.MouseButton.LeftButton)
    assert resets == [OPENAI.base_url]
    assert not again.isVisible()
    assert not any("Usage not reported" in text for text in shown_labels(dialog))


def test_without_refusals_there_is_no_button(qtbot) -> None:
    dialog = make_dialog(qtbot)
    assert not button(dialog, "Ask for usage again").isVisible()


def test_model_names_are_filtered() -> None:
    names = ["gpt-4o", "gpt-4o", "x" * 300, "bad\nname", "  ", "ok\x1b[2J"]
    assert usable_model_names(names) == (["gpt-4o", "ok[2J"], 4)


def test_hostile_fetch_results_are_plain_text(qtbot, loop) -> None:
    hostile = '<img src="/nonexistent/picture.png"><b>x</b>'

    async def fetch(_profile: Profile, _key: str | None) -> list[str]:
        raise ChatError(ErrorKind.BAD_REQUEST, hostile)

    dialog = make_dialog(qtbot, fetch_models=fetch)
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    run_until(loop, fetch_button.isEnabled)
    [status] = [label for label in dialog.findChildren(QLabel) if label.text() == hostile]
    assert status.textFormat() == Qt.TextFormat.PlainText


def test_numbers_outside_the_spin_boxes_survive_unless_edited(qtbot) -> None:
    odd = Profile(
        "Odd",
        "https://api.example.com/v1",
        "m",
        first_chunk_timeout=7200.0,
        idle_timeout=0.25,
        max_attempts=50,
        max_answer_chars=100,
    )
    dialog = make_dialog(qtbot, profiles=(odd, OPENAI), active="Odd", stored_keys=())
    press_ok(qtbot, dialog)
    assert dialog.edits().profiles[0] == odd  # clamped on screen, not in the file
    field(dialog, "Attempts:").setValue(2)
    edited = dialog.edits().profiles[0]
    assert edited.max_attempts == 2 and edited.idle_timeout == 0.25
