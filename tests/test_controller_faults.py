"""The window's controller when things go wrong around the stream: hostile text, a history
locked by another process, a full disk, a failing end. Real server, real SQLite, real window."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deltadesk.app import GUI_BUSY_TIMEOUT_MS
from deltadesk.core.paths import app_paths
from deltadesk.services import Services
from deltadesk.shell import build_window
from tests.sse_script import answer_chunks, chunk, streaming
from tests.test_controller import dispose, stored, use_server


@pytest.fixture
def shell(qapp: Any, qt_loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    """The window as run_gui builds it: with the short busy timeout of the GUI."""
    services = Services(
        app_paths(tmp_path / "home"), demo_tokens_per_second=0, busy_timeout_ms=GUI_BUSY_TIMEOUT_MS
    )
    shell = build_window(services)
    shell.window.show()
    yield shell
    qt_loop.run_until_complete(shell.controller.shutdown())
    qt_loop.run_until_complete(services.aclose())
    dispose(shell.window)


def record_notices(shell: Any) -> list[str | None]:
    notices: list[str | None] = []
    shell.controller.history_notice.connect(notices.append)
    return notices


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        await asyncio.sleep(0.02)


def wire_json(piece: str) -> bytes:
    """A text chunk as the wire carries it: JSON with \\u escapes (lone surrogates too)."""
    return f"data: {json.dumps(chunk(piece))}\n\n".encode()


def test_split_and_lone_surrogates_are_stored_shown_and_leave_the_window_usable(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    pieces = ["smile \ud83d", "\ude00 and ", "lone \ud800 end"]
    server = serve(
        streaming([chunk("", role="assistant"), *map(wire_json, pieces), chunk(finish="stop")])
    )
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send("emoji please")) == "done"
    answer = stored(shell)[-1]
    assert (answer.content, answer.status) == ("smile \U0001f600 and lone \ufffd end", "done")
    assert "\U0001f600" in shell.view.message_plain_text(answer.id)
    assert not shell.controller.busy  # Send is back: not stuck in Stop mode
    assert qt_loop.run_until_complete(shell.controller.send("again")) == "done"


def test_the_window_ends_busy_whatever_ending_the_answer_raises(
    shell: Any, qt_loop: Any, serve: Any, monkeypatch: Any
) -> None:
    server = serve(streaming(answer_chunks(["fine"])))
    use_server(shell, server)
    ended: list[tuple[int, str]] = []
    shell.controller.finished.connect(lambda mid, status: ended.append((mid, status)))

    def broken_finish(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug in saving")

    monkeypatch.setattr(shell.services.store, "finish_answer", broken_finish)
    assert qt_loop.run_until_complete(shell.controller.send("hello")) == "done"
    assert not shell.controller.busy
    assert shell.controller.streaming_message_id is None
    assert ended and ended[0][1] == "done"  # the view was told the answer ended
    assert shell.window.composer.text() == ""  # and the composer is back in Send mode


def test_a_locked_history_does_not_stop_the_stream_and_catches_up(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    words = [f"w{i} " for i in range(60)]
    server = serve(streaming(answer_chunks(words), delay=0.05))
    use_server(shell, server)
    notices = record_notices(shell)
    other = sqlite3.connect(shell.services.paths.db, isolation_level=None)

    async def lock_for_a_while() -> tuple[str | None, list[float]]:
        task = asyncio.ensure_future(shell.controller.send("go"))
        await until(lambda: len(shell.controller.live_text()[0]) > 10)
        other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        frames: list[float] = []
        shell.controller.text_appended.connect(lambda *_: frames.append(time.monotonic()))
        await asyncio.sleep(2.0)
        other.execute("COMMIT")
        return await task, frames

    try:
        final, frames = qt_loop.run_until_complete(lock_for_a_while())
    finally:
        other.close()
    assert final == "done"
    # It kept streaming while locked: text went on arriving all through the 2 s.
    assert len(frames) > 10
    gaps = [b - a for a, b in itertools.pairwise(frames)]
    print(f"locked history: {len(frames)} frames, longest gap {max(gaps) * 1000:.0f} ms")
    assert max(gaps) < 1.0
    # Said once, plainly; cleared once a save went through again.
    problems = [n for n in notices if n]
    assert len(problems) == 1 and "locked by another program" in problems[0]
    assert notices[-1] is None
    answer = stored(shell)[-1]
    assert (answer.content, answer.status) == ("".join(words), "done")


def fill_up(shell: Any) -> None:
    """The history's disk is full from now on (the file may not grow by a page)."""
    conn = shell.services.store._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def make_room(shell: Any) -> None:
    shell.services.store._conn.execute("PRAGMA max_page_count = 1073741823")


def test_a_full_disk_keeps_the_answer_says_so_and_saves_it_when_space_returns(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    words = [f"{i:04d} " + "lorem ipsum " * 170 for i in range(40)]
    server = serve(streaming(answer_chunks(words), delay=0.01))
    use_server(shell, server)
    notices = record_notices(shell)

    async def fill_then_free() -> str | None:
        task = asyncio.ensure_future(shell.controller.send("a long one"))
        await until(lambda: shell.controller.streaming_message_id is not None)
        fill_up(shell)
        status = await task
        mid = stored(shell)[-1].id
        # Ended, not saved: the window shows the whole answer all the same.
        assert "full" in (notices[-1] or "") and "kept in memory" in (notices[-1] or "")
        assert shell.services.store.get_message(mid).status == "streaming"
        assert shell.controller.unsaved_answer(mid).content == "".join(words)
        shell.open_conversation(shell.controller.conversation_id)  # shown from memory
        assert shell.view.message_plain_text(mid).split() == "".join(words).split()
        make_room(shell)
        await until(lambda: shell.controller.unsaved_answer(mid) is None, timeout=10)
        return status

    assert qt_loop.run_until_complete(fill_then_free()) == "done"
    answer = stored(shell)[-1]
    assert (answer.content, answer.status) == ("".join(words), "done")
    assert notices[-1] is not None and notices[-1].startswith("Saved")
    assert "disk is full" in " ".join(n for n in notices if n)
    assert not any("move" in n.lower() for n in notices if n)  # no advice to move a healthy db


def test_a_prompt_the_full_disk_cannot_take_is_said_not_raised(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["never"])))
    use_server(shell, server)
    notices = record_notices(shell)
    first = qt_loop.run_until_complete(shell.controller.send("short"))
    assert first == "done"
    fill_up(shell)
    assert qt_loop.run_until_complete(shell.controller.send("y" * 200_000)) is None
    assert notices and "disk is full" in (notices[-1] or "")
    assert not shell.controller.busy
    assert len(server.requests) == 1  # nothing was sent for a prompt that is not kept


def test_a_prompt_with_a_lone_surrogate_is_kept_and_sent_safely(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["fine"])))
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send("pasted \ud83d half")) == "done"
    user, _answer = stored(shell)
    assert user.content == "pasted \ufffd half"
    assert server.requests[0].json()["messages"][0]["content"] == "pasted \ufffd half"
    conversation = shell.services.store.get_conversation(shell.controller.conversation_id)
    assert conversation.title == "pasted \ufffd half"


def test_deleting_a_conversation_in_a_locked_history_is_said_and_keeps_it(
    shell: Any, qt_loop: Any, serve: Any
) -> None:
    server = serve(streaming(answer_chunks(["keep me"])))
    use_server(shell, server)
    assert qt_loop.run_until_complete(shell.controller.send("hello")) == "done"
    conversation_id = shell.controller.conversation_id
    other = sqlite3.connect(shell.services.paths.db, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        shell.delete_conversation(conversation_id)  # a slot: it must not raise
    finally:
        other.execute("COMMIT")
        other.close()
    assert "locked by another program" in shell.window.banner_label.text()
    assert shell.services.store.get_conversation(conversation_id) is not None
    assert shell.window.sidebar.current_id() == conversation_id
    shell.delete_conversation(conversation_id)  # free again: it goes
    assert shell.services.store.get_conversation(conversation_id) is None
