"""The profile flags that shape a request: under which name max tokens go, and whether the
endpoint takes reasoning_effort. Read from and written to a real profiles file."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pytest

from deltadesk.core.profiles import Profile, ProfileStore

REASONER = Profile(
    "Reasoner",
    "https://api.example.com/v1",
    "o-model",
    max_tokens_field="max_completion_tokens",
    accepts_reasoning_effort=True,
)


def test_the_flags_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    store = ProfileStore(path)
    store.upsert(REASONER)
    reloaded = ProfileStore(path)
    assert reloaded.get("Reasoner") == REASONER
    saved = json.loads(path.read_text())["profiles"][-1]
    assert saved["max_tokens_field"] == "max_completion_tokens"
    assert saved["accepts_reasoning_effort"] is True


def test_defaults_for_an_older_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    entry = {"name": "P", "base_url": "u", "model": "m"}
    path.write_text(json.dumps({"version": 2, "active": "P", "profiles": [entry]}))
    profile = ProfileStore(path).active
    assert (profile.max_tokens_field, profile.accepts_reasoning_effort) == ("max_tokens", False)


def test_an_unknown_max_tokens_field_is_the_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "profiles.json"
    entry = {"name": "P", "base_url": "u", "model": "m", "max_tokens_field": "max_tokenz"}
    path.write_text(json.dumps({"version": 2, "active": "P", "profiles": [entry]}))
    with caplog.at_level(logging.WARNING, logger="deltadesk.core.profiles"):
        profile = ProfileStore(path).active
    assert profile.max_tokens_field == "max_tokens"
    assert "max_tokens_field" in caplog.text


def test_an_unknown_max_tokens_field_is_refused_when_saving(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "profiles.json")
    with pytest.raises(ValueError, match="max_tokens_field must be one of"):
        store.upsert(dataclasses.replace(REASONER, max_tokens_field="tokens"))
