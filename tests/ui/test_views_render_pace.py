"""While several views in sight stream at once, each renders at most every
SHARED_RENDER_INTERVAL_SECONDS (and less often when its renders are slow); a view streaming
alone renders every flush; whatever the pace, the text ends exact."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from deltadesk.ui import tail_renderer
from tests.ui.test_views_share_time import _edits, _view

PARTS = [f"Paragraph {n} with **bold** and `code`.\n\n" for n in range(12)]


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the pace under test: no other reason to wait (slow renders, shared stretches)."""
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_SECONDS", 3600.0)
    monkeypatch.setattr(tail_renderer, "SLOW_RENDER_SECONDS", 3600.0)
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_INTERVAL_SECONDS", 0.3)
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_FACTOR", 0.0)
    yield


def _reference(qtbot: QtBot, text: str) -> str:
    view = _view(qtbot)
    view.begin_streaming(1)
    view.append_text(1, text)
    view.end_streaming(1, "done")
    return view.message_plain_text(1)


def test_two_views_streaming_render_at_a_pace_and_end_exact(qtbot: QtBot, paced: None) -> None:
    first, second = _view(qtbot), _view(qtbot)
    for view in (first, second):
        view.begin_streaming(1)
        view.append_text(1, PARTS[0])  # each one's first render is at once
    edits = _edits(first)
    for part in PARTS[1:4]:
        second.append_text(1, part)
        first.append_text(1, part)
    assert edits == []  # the other view streams too: these wait for the pace
    qtbot.waitUntil(lambda: edits != [], timeout=3000)  # and come in one render
    assert "Paragraph 3" in first.toPlainText()
    for view in (first, second):
        for part in PARTS[4:]:
            view.append_text(1, part)
        view.end_streaming(1, "done")  # the end renders what still waited
    expected = _reference(qtbot, "".join(PARTS))
    assert first.message_plain_text(1) == second.message_plain_text(1) == expected


def test_a_view_whose_neighbour_has_ended_renders_every_flush(qtbot: QtBot, paced: None) -> None:
    first, second = _view(qtbot), _view(qtbot)
    for view in (first, second):
        view.begin_streaming(1)
        view.append_text(1, PARTS[0])
    second.end_streaming(1, "done")  # no longer streaming: it does not count
    edits = _edits(first)
    for part in PARTS[1:6]:
        before = len(edits)
        first.append_text(1, part)
        assert len(edits) > before  # rendered at once, every time
    first.end_streaming(1, "done")
    assert first.message_plain_text(1) == _reference(qtbot, "".join(PARTS[:6]))


def test_slow_renders_stretch_the_pace(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_SECONDS", 3600.0)
    monkeypatch.setattr(tail_renderer, "SLOW_RENDER_SECONDS", 3600.0)
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_INTERVAL_SECONDS", 0.0)
    monkeypatch.setattr(tail_renderer, "SHARED_RENDER_FACTOR", 1e4)  # any render is "slow"
    first, second = _view(qtbot), _view(qtbot)
    for view in (first, second):
        view.begin_streaming(1)
        view.append_text(1, PARTS[0])
    edits = _edits(first)
    first.append_text(1, PARTS[1])
    assert edits == []  # waits ten thousand times its last render's duration
    first.end_streaming(1, "done")
    second.end_streaming(1, "done")
    assert first.message_plain_text(1) == _reference(qtbot, "".join(PARTS[:2]))


def test_beside_another_streaming_view_a_render_edits_the_document_a_turn_later(
    qtbot: QtBot, paced: None
) -> None:
    """With another view in sight streaming, a render parses the markdown at once and edits
    the document at the next turn of the event loop (input and timers get a turn between
    the halves); asked for its text before that, the view puts it in at once."""
    first, second, third = _view(qtbot), _view(qtbot), _view(qtbot)
    for view in (first, second, third):
        view.begin_streaming(1)
    first.append_text(1, PARTS[0])  # alone: parsed and edited in one go
    assert "Paragraph 0" in first.toPlainText()
    edits = _edits(second)
    second.append_text(1, PARTS[0])  # the first one streams: split
    assert edits == []
    qtbot.waitUntil(lambda: edits != [], timeout=2000)  # the next turn
    assert "Paragraph 0" in second.toPlainText()
    edits = _edits(third)
    third.append_text(1, PARTS[0])
    assert edits == []
    assert "Paragraph 0" in third.message_plain_text(1)  # asked: put in now
    assert edits != []
    for view in (first, second, third):
        view.append_text(1, PARTS[1])
        view.end_streaming(1, "done")
        assert view.message_plain_text(1) == _reference(qtbot, "".join(PARTS[:2]))
