from pathlib import Path

from deltadesk.core.preferences import Preferences, PreferenceStore


def test_defaults_then_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    store = PreferenceStore(path)
    assert store.current == Preferences()
    store.update(keep_reasoning_open=True)
    assert PreferenceStore(path).current.keep_reasoning_open is True


def test_unreadable_or_mistyped_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text("{not json")
    assert PreferenceStore(path).current == Preferences()
    path.write_text('{"keep_reasoning_open": "yes", "unknown": 1}')
    assert PreferenceStore(path).current == Preferences()
