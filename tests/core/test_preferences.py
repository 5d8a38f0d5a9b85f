import logging
import os
import stat
import sys
from pathlib import Path

import pytest

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


def test_usage_refusals_are_per_endpoint_and_model_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    store = PreferenceStore(path)
    assert store.usage_refusals("http://h/v1") == []
    store.refuse_usage("http://h/v1/", "mini")
    store.refuse_usage("http://h/v1", "mini")  # the same refusal twice is kept once
    store.refuse_usage("http://h/v1", "big")
    store.refuse_usage("http://other/v1", "mini")
    reloaded = PreferenceStore(path)
    assert reloaded.usage_refused("http://h/v1", "mini")
    assert not reloaded.usage_refused("http://h/v1", "other-model")
    assert reloaded.usage_refusals("http://h/v1/") == ["mini", "big"]
    assert reloaded.clear_usage_refusals("http://h/v1") == 2
    assert reloaded.clear_usage_refusals("http://h/v1") == 0
    again = PreferenceStore(path)
    assert again.usage_refusals("http://h/v1") == []
    assert again.usage_refused("http://other/v1", "mini")


def test_view_preferences_and_refusals_do_not_overwrite_each_other(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    store = PreferenceStore(path)
    store.refuse_usage("http://h/v1", "mini")
    store.update(keep_reasoning_open=True)
    reloaded = PreferenceStore(path)
    assert reloaded.current.keep_reasoning_open is True
    assert reloaded.usage_refusals("http://h/v1") == ["mini"]


def test_mistyped_refusals_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_text('{"usage_refusals": {"http://h/v1": ["ok", 3, null], "u": "nope", "7": []}}')
    store = PreferenceStore(path)
    assert store.usage_refusals("http://h/v1") == ["ok"]
    assert store.usage_refusals("u") == []


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, '{"keep_reasoning_open": ' + "[" * 500_000, "{nope", "[1]"],
)
def test_unusable_file_is_moved_aside_not_deleted(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "preferences.json"
    path.write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        store = PreferenceStore(path)
    assert store.current == Preferences()
    store.update(keep_reasoning_open=True)  # the next save does not destroy the bad file
    [aside] = tmp_path.glob("preferences.json.corrupt-*")
    assert aside.read_text(encoding="utf-8") == content
    assert "moved it to" in caplog.text
    assert PreferenceStore(path).current.keep_reasoning_open is True


def test_a_folder_in_the_way_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.mkdir()
    store = PreferenceStore(path)
    store.refuse_usage("http://h/v1", "m")
    assert PreferenceStore(path).usage_refused("http://h/v1", "m")
    assert [p.is_dir() for p in tmp_path.glob("preferences.json.corrupt-*")] == [True]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")
def test_preferences_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "config" / "preferences.json"
    PreferenceStore(path).update(keep_reasoning_open=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_in_the_way_is_moved_aside_without_waiting_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    os.mkfifo(path)
    assert PreferenceStore(path).current == Preferences()  # returns: it did not open the FIFO
    [aside] = tmp_path.glob("preferences.json.corrupt-*")
    assert stat.S_ISFIFO(aside.lstat().st_mode)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    path.write_bytes(b'\xef\xbb\xbf{"keep_reasoning_open": true}')
    assert PreferenceStore(path).current.keep_reasoning_open is True
    assert list(tmp_path.glob("*.corrupt-*")) == []


def test_window_preferences_round_trip_and_bad_values_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "preferences.json"
    store = PreferenceStore(path)
    store.update(
        zoom_percent=150,
        theme="dark",
        window_rect=(10, 20, 900, 700),
        window_maximized=True,
        splitter_sizes=(240, 660),
        last_conversation_id=7,
    )
    again = PreferenceStore(path).current
    assert (again.zoom_percent, again.theme, again.last_conversation_id) == (150, "dark", 7)
    assert again.window_rect == (10, 20, 900, 700) and again.splitter_sizes == (240, 660)
    assert again.window_maximized is True
    path.write_text(
        '{"zoom_percent": 5000, "theme": "neon", "window_rect": [1, 2, 0, 4],'
        ' "splitter_sizes": [1, "x"], "last_conversation_id": -3, "window_maximized": 1}'
    )
    bad = PreferenceStore(path).current
    assert bad.zoom_percent == 300  # bounded, not dropped
    assert bad.theme == "system" and bad.window_rect == () and bad.splitter_sizes == ()
    assert bad.last_conversation_id == 0 and bad.window_maximized is False
    path.write_text('{"zoom_percent": 10, "window_rect": [1, 2, 3]}')
    assert PreferenceStore(path).current.zoom_percent == 50
    assert PreferenceStore(path).current.window_rect == ()
