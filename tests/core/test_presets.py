"""Chat presets in their JSON file: a round trip, renames and deletes, and a file that is
damaged or hand-edited (read as far as it can be, never a crash)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.presets import ChatPreset, PresetStore

CODER = ConversationSettings(
    system="You write Python.", temperature=0.2, max_tokens=800, profile="Groq", model="llama"
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "presets.json"


def test_no_file_no_presets(path: Path) -> None:
    store = PresetStore(path)
    assert store.presets() == []
    assert not path.exists()  # nothing written until something changes


def test_round_trip(path: Path) -> None:
    store = PresetStore(path)
    store.save("Coder", CODER)
    store.save("  Plain\n one ", ConversationSettings())
    assert PresetStore(path).presets() == [
        ChatPreset("Coder", CODER),
        ChatPreset("Plain one", ConversationSettings()),
    ]
    saved = json.loads(path.read_text())
    assert saved["version"] == 1
    assert saved["presets"][0]["settings"]["system"] == "You write Python."
    assert saved["presets"][1]["settings"] == {}
    assert path.stat().st_mode & 0o777 == 0o600


def test_saving_under_a_name_replaces_in_place(path: Path) -> None:
    store = PresetStore(path)
    store.save("A", CODER)
    store.save("B", ConversationSettings())
    store.save("A", ConversationSettings(temperature=1.0))
    assert store.names() == ["A", "B"]
    assert PresetStore(path).get("A") == ChatPreset("A", ConversationSettings(temperature=1.0))


def test_rename_and_delete(path: Path) -> None:
    store = PresetStore(path)
    store.save("A", CODER)
    store.save("B", ConversationSettings())
    with pytest.raises(ValueError, match="exists already"):
        store.rename("A", "B")
    with pytest.raises(ValueError, match="needs a name"):
        store.rename("A", "   ")
    store.rename("A", "Coder")
    store.delete("B")
    store.delete("not there")
    assert PresetStore(path).presets() == [ChatPreset("Coder", CODER)]


def test_a_corrupt_file_is_moved_aside(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path.parent.mkdir(parents=True)
    path.write_text('{"presets": [ {"name": ', encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        store = PresetStore(path)
    assert store.presets() == []
    assert [p.name for p in path.parent.iterdir() if ".corrupt-" in p.name]
    store.save("New", CODER)  # a fresh file, the damaged one kept aside
    assert PresetStore(path).names() == ["New"]


def test_bad_entries_are_skipped_and_bad_values_are_defaults(path: Path) -> None:
    path.parent.mkdir(parents=True)
    entries: list[object] = [
        "not an object",
        {"name": ""},
        {"name": 5},
        {"name": "Hot", "settings": {"temperature": 99, "max_tokens": "lots", "model": "m"}},
        {"name": "Hot", "settings": {}},
        {"name": "No settings", "settings": [1, 2]},
    ]
    path.write_text(json.dumps({"version": 7, "presets": entries}), encoding="utf-8")
    store = PresetStore(path)
    assert store.presets() == [
        ChatPreset("Hot", ConversationSettings(model="m")),
        ChatPreset("No settings", ConversationSettings()),
    ]


def test_a_failed_write_keeps_the_change_and_says_so(path: Path) -> None:
    store = PresetStore(path)
    path.mkdir(parents=True)  # a folder in the file's place: the write fails (even as root)
    store.save("A", CODER)
    assert store.names() == ["A"]
    assert store.save_problem is not None and "could not be saved" in store.save_problem
    path.rmdir()
    store.save("B", CODER)
    assert store.save_problem is None
    assert PresetStore(path).names() == ["A", "B"]
