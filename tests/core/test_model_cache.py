"""The model lists cached per profile: fresh, aged, kept in a file, and tolerant of a file
that is damaged or holds outside text that is no model name."""

from __future__ import annotations

import json
from pathlib import Path

from deltadesk.core.model_cache import ModelCache, usable_model_names
from deltadesk.core.profiles import Profile

GROQ = Profile("Groq", "https://api.groq.com/openai/v1", "llama")
GROQ_ELSEWHERE = Profile("Groq", "https://proxy.example/v1", "llama")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_list_is_fresh_then_ages(tmp_path: Path) -> None:
    clock = Clock()
    cache = ModelCache(tmp_path / "m.json", max_age_s=60, clock=clock)
    assert cache.get(GROQ) is None and not cache.is_fresh(GROQ)
    assert cache.put(GROQ, ["b", "a", "b"]) == ["b", "a"]
    assert cache.is_fresh(GROQ)
    clock.now += 61
    assert not cache.is_fresh(GROQ)
    assert cache.get(GROQ) == ["b", "a"]  # an aged list still fills the picker
    clock.now -= 3600  # a clock set back: asked again, not fresh for ever
    assert not cache.is_fresh(GROQ)


def test_one_list_per_profile_and_endpoint(tmp_path: Path) -> None:
    cache = ModelCache(None)
    cache.put(GROQ, ["a"])
    assert cache.get(GROQ_ELSEWHERE) is None
    cache.forget(GROQ)
    assert cache.get(GROQ) is None


def test_kept_in_the_file(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "models-cache.json"
    ModelCache(path, clock=clock).put(GROQ, ["x", "y"])
    again = ModelCache(path, clock=clock)
    assert again.get(GROQ) == ["x", "y"] and again.is_fresh(GROQ)


def test_a_damaged_file_is_an_empty_cache(tmp_path: Path) -> None:
    path = tmp_path / "models-cache.json"
    path.write_text("{not json")
    assert ModelCache(path).get(GROQ) is None
    bad = {
        "lists": {
            "a": "no",
            "b": {"fetched_at": True, "models": ["m"]},
            "Groq\nhttps://api.groq.com/openai/v1": {
                "fetched_at": 5.0,
                "models": ["ok", 3, "evil\x1b[31m", "x" * 1000],
            },
        }
    }
    path.write_text(json.dumps(bad))
    cache = ModelCache(path)
    assert cache.get(GROQ) == ["ok", "evil[31m"]
    assert not cache.is_fresh(GROQ)


def test_usable_model_names() -> None:
    names, left_out = usable_model_names(["a", "a", "", "b\nc", "x" * 300, "d"])
    assert (names, left_out) == (["a", "d"], 4)
