from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from deltadesk.core.text_safety import (
    REPLACEMENT,
    SurrogateJoiner,
    redact,
    replace_lone_surrogates,
    strip_control_chars,
)

EMOJI = "\U0001f600"


def test_a_pair_split_across_chunks_is_rejoined() -> None:
    joiner = SurrogateJoiner()
    parts = [joiner.feed("smile \ud83d"), joiner.feed("\ude00 ok"), joiner.flush()]
    assert "".join(parts) == f"smile {EMOJI} ok"


def test_lone_surrogates_are_replaced() -> None:
    assert replace_lone_surrogates("a\ud800b") == f"a{REPLACEMENT}b"
    assert replace_lone_surrogates("\udc00") == REPLACEMENT
    joiner = SurrogateJoiner()
    assert joiner.feed("x\ud83d") == "x"
    assert joiner.flush() == REPLACEMENT


def test_a_held_high_surrogate_followed_by_plain_text_is_replaced() -> None:
    joiner = SurrogateJoiner()
    assert joiner.feed("\ud83d") + joiner.feed("a") == f"{REPLACEMENT}a"


def test_valid_text_passes_untouched() -> None:
    text = f"héllo {EMOJI} 世界"
    assert replace_lone_surrogates(text) is text


surrogate_text = st.text(
    alphabet=st.sampled_from(["a", "\n", EMOJI, "\ud83d", "\ude00", "\ud800", "\udfff", "é"])
)


@given(surrogate_text, st.lists(st.integers(min_value=0, max_value=40), max_size=6))
def test_joined_chunks_always_encode_and_keep_every_valid_pair(text: str, cuts: list[int]) -> None:
    joiner = SurrogateJoiner()
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    out = "".join(joiner.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    out += joiner.flush()
    out.encode("utf-8")  # never raises
    assert out == replace_lone_surrogates(text)  # chunking never changes the result


def test_terminal_controls_are_stripped_but_newlines_and_tabs_kept() -> None:
    hostile = "ok\x1b]52;c;aGk=\x07 \x1b[2J\x9b31m\r\x00\x7fend\n\tnext"
    assert strip_control_chars(hostile) == "ok end\n\tnext"


def test_whole_escape_sequences_go_and_a_cut_one_leaves_only_inert_text() -> None:
    link = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
    assert strip_control_chars(link) == "click"
    assert strip_control_chars("\x1b]0;fake title\x07$ ") == "$ "
    assert strip_control_chars("a\x1b[10;20Hb\x1b7c\x1bPq#0\x1b\\d") == "abcd"
    # Unterminated: the control characters go, so the terminal sees plain text.
    assert strip_control_chars("\x1b]52;c;aGk=") == "52;c;aGk="
    assert strip_control_chars("\x9d0;t\x9cend") == "end"


def test_redact_hides_an_echoed_key_but_not_short_values() -> None:
    key = "sk-test-1234567890"
    assert redact(f"Incorrect API key provided: {key}.", key) == (
        "Incorrect API key provided: [redacted]."
    )
    assert redact("the word no", "no") == "the word no"
    assert redact("text", None) == "text"
