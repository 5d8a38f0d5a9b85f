"""app_paths with real directories; the private modes of what Deltadesk creates."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from deltadesk.core.paths import app_paths, create_private_file, ensure_private_dir

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes")


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_app_paths_with_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELTADESK_HOME", str(tmp_path / "ignored"))
    paths = app_paths(tmp_path / "mine")
    assert paths.config == paths.data == tmp_path / "mine"
    assert paths.db == tmp_path / "mine" / "history.sqlite3"
    assert paths.profiles == tmp_path / "mine" / "profiles.json"
    assert paths.log == tmp_path / "mine" / "deltadesk.log"
    assert paths.data.is_dir()
    assert not (tmp_path / "ignored").exists()


def test_app_paths_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELTADESK_HOME", str(tmp_path / "env-home"))
    paths = app_paths()
    assert paths.config == paths.data == tmp_path / "env-home"
    assert paths.config.is_dir()


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="XDG variables steer platformdirs on Linux only"
)
def test_app_paths_default_to_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DELTADESK_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    paths = app_paths()
    assert paths.config == tmp_path / "xdg-config" / "deltadesk"
    assert paths.data == tmp_path / "xdg-data" / "deltadesk"
    assert paths.config.is_dir() and paths.data.is_dir()


@posix_only
def test_created_folders_are_private_even_with_a_wide_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        paths = app_paths(tmp_path / "new" / "home")
    finally:
        os.umask(old)
    assert mode(paths.data) == 0o700


@posix_only
def test_a_chosen_folder_that_exists_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    app_paths(shared)
    assert mode(shared) == 0o755


@posix_only
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG steers platformdirs")
def test_platformdirs_folders_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DELTADESK_HOME", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    old_folder = tmp_path / "xdg-data" / "deltadesk"
    old_folder.mkdir(parents=True, mode=0o755)
    old_folder.chmod(0o755)  # as an older Deltadesk made it
    paths = app_paths()
    assert mode(paths.data) == 0o700 and mode(paths.config) == 0o700


@posix_only
def test_create_private_file_makes_new_and_old_files_0600(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        fresh = tmp_path / "deltadesk.log"
        create_private_file(fresh)
        assert fresh.exists() and mode(fresh) == 0o600
    finally:
        os.umask(old)
    existing = tmp_path / "old.log"
    existing.write_text("kept\n", encoding="utf-8")
    existing.chmod(0o644)
    create_private_file(existing)
    assert mode(existing) == 0o600
    assert existing.read_text(encoding="utf-8") == "kept\n"  # never truncated


def test_ensure_private_dir_is_idempotent(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b"
    ensure_private_dir(folder)
    ensure_private_dir(folder)
    assert folder.is_dir()
