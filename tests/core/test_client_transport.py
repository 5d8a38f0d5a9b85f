"""The per-event byte cap of transport.py, cut at every possible place: a blank line split
across two reads, any line-end style, must still end an event, and nothing else may."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from deltadesk.core.transport import UnsafeResponse, _EventSize, _Utf8Repair

LINE_ENDS = ["\r\n", "\r", "\n"]
# Two line ends in a row end an event; "\r" then "\n" is one CRLF, not two ends.
BLANK_LINES = [a + b for a in LINE_ENDS for b in LINE_ENDS if (a, b) != ("\r", "\n")]


def feed_all(guard: _EventSize | _Utf8Repair, stream: bytes, cuts: list[int]) -> bytes:
    points = sorted({min(cut, len(stream)) for cut in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    return b"".join(guard.feed(piece) for piece in pieces) + guard.finish()


events = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40), st.sampled_from(BLANK_LINES)),
    min_size=1,
    max_size=12,
)


@example(sizes=[(40, "\r\n\r\n"), (40, "\n\n")], cuts=[47, 48])
@given(sizes=events, cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=12))
def test_events_within_the_cap_pass_however_they_are_cut(
    sizes: list[tuple[int, str]], cuts: list[int]
) -> None:
    stream = "".join(f"data: {'x' * size}{blank}" for size, blank in sizes).encode()
    limit = len("data: ") + 40 + 4  # the longest event with its longest blank line
    assert feed_all(_Utf8Repair(_EventSize(limit)), stream, cuts) == stream


@given(
    before=events,
    cuts=st.lists(st.integers(min_value=0, max_value=800), max_size=12),
)
def test_one_event_over_the_cap_is_refused_however_it_is_cut(
    before: list[tuple[int, str]], cuts: list[int]
) -> None:
    limit = 100
    stream = "".join(f"data: {'x' * size}{blank}" for size, blank in before)
    stream += "data: " + "y" * (limit + 1) + "\n\n"
    with pytest.raises(UnsafeResponse, match="over 100 bytes"):
        feed_all(_EventSize(limit), stream.encode(), cuts)


def test_many_data_lines_without_a_blank_line_are_one_event() -> None:
    guard = _EventSize(1000)
    guard.feed(b"data: a\n" * 100)  # 800 bytes, one event so far
    with pytest.raises(UnsafeResponse):
        guard.feed(b"data: b\n" * 100)


def test_utf8_repair_replaces_bad_bytes_and_keeps_split_characters() -> None:
    text = "é€😀".encode()
    every_cut = list(range(len(text)))
    assert feed_all(_Utf8Repair(_EventSize(1000)), text, every_cut) == text
    repaired = feed_all(_Utf8Repair(_EventSize(1000)), b"a\xffb\xe2\x82", [2])
    assert repaired.decode() == "a\ufffdb\ufffd"  # a character cut off at the end, too
