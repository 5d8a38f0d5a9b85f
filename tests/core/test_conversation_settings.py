"""ConversationSettings: what a conversation sends with every request, kept as JSON in the
history. Reading is tolerant: whatever the column holds (an older, a hand-edited or a hostile
file), the result is valid settings, never an error."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from deltadesk.core.conversation_settings import (
    MAX_NAME_CHARS,
    MAX_SYSTEM_CHARS,
    MAX_TEMPERATURE,
    MAX_TOKENS_LIMIT,
    REASONING_EFFORTS,
    ConversationSettings,
)

DEFAULTS = ConversationSettings()


def test_the_defaults_are_stored_as_nothing() -> None:
    assert DEFAULTS.is_default
    assert DEFAULTS.to_json() is None
    assert ConversationSettings.from_json(None) == DEFAULTS
    assert ConversationSettings.from_json("") == DEFAULTS


def test_only_what_is_set_is_written() -> None:
    settings = ConversationSettings(system="Be brief.", temperature=0.2)
    assert json.loads(settings.to_json() or "") == {"system": "Be brief.", "temperature": 0.2}
    assert not settings.is_default


def test_a_full_set_comes_back_as_it_was() -> None:
    settings = ConversationSettings(
        system="Answer in French.\nAlways.",
        temperature=1.5,
        max_tokens=4096,
        reasoning_effort="high",
        profile="Groq",
        model="llama-3.3-70b",
    )
    assert ConversationSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{",
        "[1, 2]",
        '"a string"',
        "42",
        "null",
        "true",
        "[" * 100_000 + "]" * 100_000,  # deeper than the parser's recursion limit
        '{"temperature": ' + "9" * 10_000 + "}",  # past int()'s digit limit
        "\x00\x01",
        "\ud800",
    ],
)
def test_a_column_that_is_no_settings_object_reads_as_the_defaults(text: str) -> None:
    assert ConversationSettings.from_json(text) == DEFAULTS


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", -0.1),
        ("temperature", MAX_TEMPERATURE + 0.01),
        ("temperature", "0.5"),
        ("temperature", True),  # a bool is an int in Python: not a temperature
        ("temperature", None),
        ("temperature", [0.5]),
        ("max_tokens", 0),
        ("max_tokens", -5),
        ("max_tokens", MAX_TOKENS_LIMIT + 1),
        ("max_tokens", 12.5),
        ("max_tokens", "100"),
        ("max_tokens", False),
        ("reasoning_effort", "extreme"),
        ("reasoning_effort", "HIGH"),
        ("reasoning_effort", 3),
        ("reasoning_effort", ["high"]),
        ("system", 12),
        ("system", {"text": "x"}),
        ("system", "   \n\t "),  # nothing but space: no system message
        ("profile", ["Groq"]),
        ("model", 3.5),
        ("model", ""),
    ],
)
def test_a_bad_value_is_the_default_and_the_others_stay(field: str, value: object) -> None:
    raw = {"system": "Kept.", "temperature": 0.7, "max_tokens": 100, "model": "m"}
    raw[field] = value
    read = ConversationSettings.from_json(json.dumps(raw))
    assert getattr(read, field) is None
    kept = {name: read_value for name, read_value in raw.items() if name != field}
    assert {name: getattr(read, name) for name in kept} == kept


def test_non_finite_numbers_are_refused() -> None:
    # Python's json reads NaN and Infinity, which no provider takes.
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        read = ConversationSettings.from_json(f'{{"temperature": {literal}}}')
        assert read.temperature is None


def test_the_edges_of_each_range_are_taken() -> None:
    low = ConversationSettings.from_mapping({"temperature": 0, "max_tokens": 1})
    high = ConversationSettings.from_mapping(
        {"temperature": MAX_TEMPERATURE, "max_tokens": MAX_TOKENS_LIMIT}
    )
    assert (low.temperature, low.max_tokens) == (0.0, 1)
    assert isinstance(low.temperature, float)
    assert (high.temperature, high.max_tokens) == (MAX_TEMPERATURE, MAX_TOKENS_LIMIT)
    assert {ConversationSettings.from_mapping({"reasoning_effort": e}).reasoning_effort
            for e in REASONING_EFFORTS} == set(REASONING_EFFORTS)  # fmt: skip


def test_long_text_is_cut_to_its_limit_and_unknown_keys_are_ignored() -> None:
    raw = {
        "system": "s" * (MAX_SYSTEM_CHARS + 10),
        "profile": "p" * (MAX_NAME_CHARS + 10),
        "model": " m ",
        "api_key": "sk-should-never-be-read",
        "__class__": "x",
    }
    read = ConversationSettings.from_json(json.dumps(raw))
    assert read.system is not None and len(read.system) == MAX_SYSTEM_CHARS
    assert read.profile is not None and len(read.profile) == MAX_NAME_CHARS
    assert read.model == "m"
    assert "sk-should" not in (read.to_json() or "")


def test_with_changes_checks_as_reading_does() -> None:
    settings = ConversationSettings(temperature=0.5)
    changed = settings.with_changes(max_tokens=200, temperature=7.0, reasoning_effort="low")
    assert changed == ConversationSettings(max_tokens=200, reasoning_effort="low")
    assert changed.with_changes(max_tokens=None) == ConversationSettings(reasoning_effort="low")
    assert settings == ConversationSettings(temperature=0.5)  # frozen: a copy was made


ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    ["system", "temperature", "max_tokens", "reasoning_effort", "profile", "model", "other"]
)


@given(st.dictionaries(FIELDS, ANY_JSON, max_size=7))
@example({"temperature": 10**400})  # found by a random run: float() overflowed
def test_any_mapping_reads_as_valid_settings_that_round_trip(raw: dict[str, object]) -> None:
    read = ConversationSettings.from_mapping(raw)
    assert read.temperature is None or (
        math.isfinite(read.temperature) and 0 <= read.temperature <= MAX_TEMPERATURE
    )
    assert read.max_tokens is None or 1 <= read.max_tokens <= MAX_TOKENS_LIMIT
    assert read.reasoning_effort in (None, *REASONING_EFFORTS)
    for text in (read.system, read.profile, read.model):
        assert text is None or (text and text == text.strip())
    assert ConversationSettings.from_json(read.to_json()) == read


@given(st.text(max_size=200))
def test_any_column_text_reads_without_error(text: str) -> None:
    read = ConversationSettings.from_json(text)
    assert ConversationSettings.from_json(read.to_json()) == read
