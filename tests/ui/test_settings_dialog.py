import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
from collections.abc import Callable

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QWidget,
)

from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.profiles import DEMO_BASE_URL, Profile, demo_profile
from deltadesk.ui.settings_dialog import (
    FETCHING_TEXT,
    KEY_PLACEHOLDER,
    KEY_STORED_PLACEHOLDER,
    SettingsDialog,
)

OPENAI = Profile("OpenAI", "https://api.openai.com/v1", "gpt-4o-mini")
OLLAMA = Profile("Ollama", "http://localhost:11434/v1", "llama3.2")
SECRET = "sk-test-do-not-show-0123456789"


async def no_models(_profile: Profile, _key: str | None) -> list[str]:
    return []


def make_dialog(
    qtbot,
    profiles=(OPENAI, OLLAMA),
    active="OpenAI",
    *,
    stored_keys=("OpenAI",),
    fetch_models=no_models,
    keyring_problem=None,
) -> SettingsDialog:
    dialog = SettingsDialog(
        list(profiles),
        active,
        has_key=lambda name: name in stored_keys,
        fetch_models=fetch_models,
        keyring_problem=keyring_problem,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)  # focus checks need an active window
    return dialog


# Widgets are found the way a user finds them: by their label (through its buddy) or text.


def field(dialog: QDialog, label_text: str) -> QWidget:
    for label in dialog.findChildren(QLabel):
        if label.text().replace("&", "") == label_text and label.buddy() is not None:
            return label.buddy()
    raise LookupError(label_text)


def button(dialog: QDialog, text: str) -> QPushButton:
    for candidate in dialog.findChildren(QPushButton):
        if candidate.text().replace("&", "") == text:
            return candidate
    raise LookupError(text)


def checkbox(dialog: QDialog, text: str) -> QCheckBox:
    for candidate in dialog.findChildren(QCheckBox):
        if candidate.text().replace("&", "") == text:
            return candidate
    raise LookupError(text)


def profile_list(dialog: QDialog) -> QListWidget:
    return dialog.findChild(QListWidget)


def shown_labels(dialog: QDialog) -> list[str]:
    return [label.text() for label in dialog.findChildren(QLabel) if not label.isHidden()]


def select_profile(dialog: QDialog, name: str) -> None:
    profiles = profile_list(dialog)
    [item] = profiles.findItems(name, Qt.MatchFlag.MatchExactly)
    profiles.setCurrentItem(item)


def retype(qtbot, edit: QLineEdit, text: str) -> None:
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(edit, text)


def press_ok(qtbot, dialog: QDialog) -> None:
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def choose_preset(qtbot, dialog: QDialog, label: str) -> None:
    combo = field(dialog, "Preset:")
    assert isinstance(combo, QComboBox)
    combo.setFocus()
    # Walk with the arrow keys, as a user would; each step is a user choice (`activated`).
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    while combo.currentText() != label:
        before = combo.currentIndex()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        assert combo.currentIndex() != before, f"no preset {label!r}"


def test_unchanged_dialog_returns_the_same_profiles(qtbot):
    dialog = make_dialog(qtbot)
    press_ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    edits = dialog.edits()
    assert edits.profiles == [OPENAI, OLLAMA]
    assert (edits.renamed, edits.removed, edits.keys_to_set, edits.keys_to_delete) == (
        {},
        [],
        {},
        [],
    )
    assert edits.active == "OpenAI"


def test_add_a_profile_from_a_preset_with_a_key(qtbot):
    dialog = make_dialog(qtbot)
    qtbot.mouseClick(button(dialog, "Add"), Qt.MouseButton.LeftButton)
    name = field(dialog, "Name:")
    assert name.text() == "New profile"
    assert name.hasFocus()
    choose_preset(qtbot, dialog, "OpenRouter")
    assert field(dialog, "Base URL:").text() == "https://openrouter.ai/api/v1"
    assert field(dialog, "Model:").currentText() == "openai/gpt-4o-mini"
    assert name.text() == "OpenRouter"  # an untouched default name follows the preset

    key = field(dialog, "API key:")
    assert key.echoMode() == QLineEdit.EchoMode.Password
    assert key.placeholderText() == KEY_PLACEHOLDER
    qtbot.keyClicks(key, SECRET)
    press_ok(qtbot, dialog)

    assert dialog.result() == QDialog.DialogCode.Accepted
    edits = dialog.edits()
    added = edits.profiles[-1]
    assert (added.name, added.base_url, added.model) == (
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        "openai/gpt-4o-mini",
    )
    assert edits.keys_to_set == {"OpenRouter": SECRET}
    assert SECRET not in repr(edits.profiles)
    assert edits.renamed == {}
    assert edits.active == "OpenAI"


def test_a_typed_name_is_kept_when_a_preset_is_chosen(qtbot):
    dialog = make_dialog(qtbot)
    qtbot.mouseClick(button(dialog, "Add"), Qt.MouseButton.LeftButton)
    retype(qtbot, field(dialog, "Name:"), "Cheap models")
    choose_preset(qtbot, dialog, "Groq")
    assert field(dialog, "Name:").text() == "Cheap models"
    assert profile_list(dialog).currentItem().text() == "Cheap models"


def test_stored_keys_are_never_shown_back(qtbot):
    dialog = make_dialog(qtbot)
    key = field(dialog, "API key:")
    assert key.text() == ""
    assert key.placeholderText() == KEY_STORED_PLACEHOLDER
    assert checkbox(dialog, "Remove stored key").isVisibleTo(dialog)
    select_profile(dialog, "Ollama")
    assert field(dialog, "API key:").placeholderText() == KEY_PLACEHOLDER
    assert not checkbox(dialog, "Remove stored key").isVisibleTo(dialog)


def test_a_typed_key_survives_switching_profiles_and_stays_out_of_profiles(qtbot):
    dialog = make_dialog(qtbot)
    qtbot.keyClicks(field(dialog, "API key:"), SECRET)
    select_profile(dialog, "Ollama")
    assert field(dialog, "API key:").text() == ""
    select_profile(dialog, "OpenAI")
    assert field(dialog, "API key:").text() == SECRET
    press_ok(qtbot, dialog)
    edits = dialog.edits()
    assert edits.keys_to_set == {"OpenAI": SECRET}
    assert SECRET not in repr(edits.profiles)


def test_remove_stored_key(qtbot):
    dialog = make_dialog(qtbot)
    checkbox(dialog, "Remove stored key").setChecked(True)
    press_ok(qtbot, dialog)
    assert dialog.edits().keys_to_delete == ["OpenAI"]


def test_rename_goes_to_renamed_and_the_active_name_follows(qtbot):
    dialog = make_dialog(qtbot)
    retype(qtbot, field(dialog, "Name:"), "Work")
    assert profile_list(dialog).currentItem().text() == "Work"  # the list follows as you type
    press_ok(qtbot, dialog)
    edits = dialog.edits()
    assert edits.renamed == {"OpenAI": "Work"}
    assert [p.name for p in edits.profiles] == ["Work", "Ollama"]
    assert edits.active == "Work"


def test_remove_a_profile(qtbot):
    dialog = make_dialog(qtbot)
    remove = button(dialog, "Remove")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert [profile_list(dialog).item(r).text() for r in range(profile_list(dialog).count())] == [
        "Ollama"
    ]
    assert not remove.isEnabled()  # the last profile cannot go
    press_ok(qtbot, dialog)
    edits = dialog.edits()
    assert edits.removed == ["OpenAI"]
    assert edits.profiles == [OLLAMA]
    assert edits.active == "Ollama"


def test_duplicate_copies_settings_but_not_the_key(qtbot):
    dialog = make_dialog(qtbot)
    qtbot.mouseClick(button(dialog, "Duplicate"), Qt.MouseButton.LeftButton)
    assert field(dialog, "Name:").text() == "OpenAI copy"
    assert field(dialog, "API key:").placeholderText() == KEY_PLACEHOLDER
    press_ok(qtbot, dialog)
    edits = dialog.edits()
    assert edits.profiles[-1].base_url == OPENAI.base_url
    assert edits.profiles[-1].name == "OpenAI copy"
    assert edits.keys_to_set == {}


def test_a_duplicate_name_keeps_the_dialog_open(qtbot):
    dialog = make_dialog(qtbot)
    select_profile(dialog, "Ollama")
    retype(qtbot, field(dialog, "Name:"), "openai")
    press_ok(qtbot, dialog)
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert "Another profile is already called “openai”." in shown_labels(dialog)
    assert field(dialog, "Name:").hasFocus()

    retype(qtbot, field(dialog, "Name:"), "Local")
    assert "Another profile is already called “openai”." not in shown_labels(dialog)
    press_ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.edits().renamed == {"Ollama": "Local"}


def test_validation_shows_the_profile_with_the_problem(qtbot):
    dialog = make_dialog(qtbot)
    select_profile(dialog, "Ollama")
    retype(qtbot, field(dialog, "Base URL:"), "ftp://example.com")
    field(dialog, "Model:").setEditText("")
    select_profile(dialog, "OpenAI")
    press_ok(qtbot, dialog)
    assert dialog.isVisible()
    assert profile_list(dialog).currentItem().text() == "Ollama"
    labels = shown_labels(dialog)
    assert any(text.startswith("Enter an http:// or https:// address") for text in labels)
    assert "Choose or type a model." in labels


def test_empty_name_is_refused(qtbot):
    dialog = make_dialog(qtbot)
    retype(qtbot, field(dialog, "Name:"), "   ")
    press_ok(qtbot, dialog)
    assert dialog.isVisible()
    assert "Give the profile a name." in shown_labels(dialog)


def test_demo_profile_shows_a_read_only_base_url(qtbot):
    dialog = make_dialog(qtbot, profiles=(demo_profile(), OPENAI), active="OpenAI")
    select_profile(dialog, demo_profile().name)
    base_url = field(dialog, "Base URL:")
    assert base_url.isReadOnly()
    assert base_url.text() == "built-in demo"
    assert not field(dialog, "Preset:").isEnabled()
    press_ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.edits().profiles[0].base_url == DEMO_BASE_URL
    select_profile(dialog, "OpenAI")
    assert not field(dialog, "Base URL:").isReadOnly()


def test_advanced_settings_round_trip(qtbot):
    dialog = make_dialog(qtbot)
    field(dialog, "First-token limit:").setValue(12.5)
    field(dialog, "Idle timeout:").setValue(90)
    field(dialog, "Connect timeout:").setValue(4)
    field(dialog, "Attempts:").setValue(1)
    checkbox(dialog, "Include usage (token counts)").setChecked(False)
    checkbox(dialog, "Thinking (reasoning)").setChecked(True)
    press_ok(qtbot, dialog)
    edited = dialog.edits().profiles[0]
    assert edited == Profile(
        "OpenAI",
        OPENAI.base_url,
        OPENAI.model,
        first_chunk_timeout=12.5,
        idle_timeout=90.0,
        connect_timeout=4.0,
        max_attempts=1,
        include_usage=False,
        thinking=True,
    )


def test_keyring_problem_is_shown(qtbot):
    from deltadesk.core.secrets import NO_KEYRING_PROBLEM as problem

    dialog = make_dialog(qtbot, stored_keys=(), keyring_problem=problem)
    # Shown as it is: it already says keys are kept for this session only, once.
    assert any(text.strip() == problem for text in shown_labels(dialog))
    assert sum(text.count("session only") for text in shown_labels(dialog)) == 1
    assert "session only" in field(dialog, "API key:").placeholderText()


def test_labels_have_buddies_and_distinct_mnemonics(qtbot):
    dialog = make_dialog(qtbot)
    texts = [w.text() for w in dialog.findChildren(QLabel) if w.buddy() is not None]
    texts += [w.text() for w in dialog.findChildren(QPushButton) + dialog.findChildren(QCheckBox)]
    keys = [t[t.index("&") + 1].lower() for t in texts if "&" in t]
    assert len(keys) >= 15
    assert len(keys) == len(set(keys)), sorted(keys)


# --- fetching models on a real qasync loop ----------------------------------------------


@pytest.fixture
def loop(qapp):
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


def run_until(loop, condition: Callable[[], bool], timeout: float = 3.0) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    loop.run_until_complete(asyncio.wait_for(wait(), timeout))


def test_fetch_models_fills_the_combo_and_keeps_the_typed_model(qtbot, loop):
    calls: list[tuple[Profile, str | None]] = []
    release = asyncio.Event()

    async def fetch(profile: Profile, key: str | None) -> list[str]:
        calls.append((profile, key))
        await release.wait()
        return ["gpt-4o", "gpt-4o-mini", "o3-mini"]

    dialog = make_dialog(qtbot, fetch_models=fetch)
    model = field(dialog, "Model:")
    model.setEditText("my-fine-tune")
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    assert FETCHING_TEXT in shown_labels(dialog)
    assert not fetch_button.isEnabled()

    run_until(loop, lambda: bool(calls))
    assert calls[0][0].base_url == OPENAI.base_url
    assert calls[0][0].model == "my-fine-tune"
    assert calls[0][1] is None  # no key typed: the app uses the stored one
    release.set()
    run_until(loop, fetch_button.isEnabled)

    assert [model.itemText(i) for i in range(model.count())] == ["gpt-4o", "gpt-4o-mini", "o3-mini"]
    assert model.currentText() == "my-fine-tune"
    assert "3 models" in shown_labels(dialog)


def test_fetch_models_passes_the_typed_key_and_shows_errors(qtbot, loop):
    calls: list[tuple[Profile, str | None]] = []

    async def fetch(profile: Profile, key: str | None) -> list[str]:
        calls.append((profile, key))
        raise ChatError(ErrorKind.AUTH, "The key was refused (401).", status=401)

    dialog = make_dialog(qtbot, fetch_models=fetch)
    qtbot.keyClicks(field(dialog, "API key:"), SECRET)
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    run_until(loop, fetch_button.isEnabled)
    assert calls[0][1] == SECRET
    assert "The key was refused (401)." in shown_labels(dialog)
    assert field(dialog, "Model:").currentText() == OPENAI.model


def test_fetch_for_a_renamed_profile_asks_under_its_stored_name(qtbot, loop):
    calls: list[Profile] = []

    async def fetch(profile: Profile, _key: str | None) -> list[str]:
        calls.append(profile)
        return ["one"]

    dialog = make_dialog(qtbot, fetch_models=fetch)
    retype(qtbot, field(dialog, "Name:"), "Renamed")
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    run_until(loop, fetch_button.isEnabled)
    assert calls[0].name == "OpenAI"
    assert "1 model" in shown_labels(dialog)


def test_models_arriving_after_a_profile_switch_stay_with_their_profile(qtbot, loop):
    release = asyncio.Event()

    async def fetch(_profile: Profile, _key: str | None) -> list[str]:
        await release.wait()
        return ["remote-a", "remote-b"]

    dialog = make_dialog(qtbot, fetch_models=fetch)
    fetch_button = button(dialog, "Fetch models")
    qtbot.mouseClick(fetch_button, Qt.MouseButton.LeftButton)
    select_profile(dialog, "Ollama")
    release.set()
    run_until(loop, fetch_button.isEnabled)
    model = field(dialog, "Model:")
    assert model.count() == 0  # Ollama's list is untouched
    assert model.currentText() == OLLAMA.model
    select_profile(dialog, "OpenAI")
    assert [model.itemText(i) for i in range(model.count())] == ["remote-a", "remote-b"]
    assert "2 models" in shown_labels(dialog)


def test_closing_the_dialog_cancels_a_running_fetch(qtbot, loop):
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def fetch(_profile: Profile, _key: str | None) -> list[str]:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return []

    dialog = make_dialog(qtbot, fetch_models=fetch)
    qtbot.mouseClick(button(dialog, "Fetch models"), Qt.MouseButton.LeftButton)
    run_until(loop, started.is_set)
    dialog.reject()
    run_until(loop, lambda: bool(cancelled))
    assert cancelled == [True]
