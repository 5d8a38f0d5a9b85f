"""Saving a streaming answer by appending (schema 2), and the upgrade from a schema-1 file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from deltadesk.core import store as store_module
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Usage
from deltadesk.core.store import Store

DATA = Path(__file__).parent / "data"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def count_parts(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM message_parts").fetchone()[0])
    finally:
        conn.close()


def test_parts_are_joined_on_reading_and_replaced_by_the_final_text(
    store: Store, db_path: Path
) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "Once ", "hmm ")
    store.append_partial(answer.id, "upon ", "")
    store.append_partial(answer.id, "", "")  # nothing new: nothing written
    store.append_partial(answer.id, "a time", "ok")
    assert count_parts(db_path) == 3
    shown = store.get_message(answer.id)
    assert shown is not None
    assert (shown.content, shown.reasoning, shown.status) == (
        "Once upon a time",
        "hmm ok",
        "streaming",
    )
    assert store.messages(chat.id)[-1] == shown
    with Store(db_path) as other:  # another connection (or instance) sees the same
        assert other.get_message(answer.id) == shown

    store.finish_answer(
        answer.id,
        content="Once upon a time.",
        reasoning="hmm ok",
        status="done",
        usage=Usage(5, 4, 1),
    )
    assert count_parts(db_path) == 0
    final = store.get_message(answer.id)
    assert final is not None
    assert (final.content, final.status, final.completion_tokens) == (
        "Once upon a time.",
        "done",
        4,
    )


def test_a_continued_answer_appends_after_its_stored_text(store: Store) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", "Earlier text. ", status="streaming")
    store.append_partial(answer.id, "More.", "")
    assert store.get_message(answer.id).content == "Earlier text. More."  # type: ignore[union-attr]


def test_parts_of_other_messages_do_not_mix(store: Store) -> None:
    first, second = store.create_conversation(), store.create_conversation()
    a = store.add_message(first.id, "assistant", status="streaming")
    b = store.add_message(second.id, "assistant", status="streaming")
    for i in range(3):
        store.append_partial(a.id, f"a{i}", "")
        store.append_partial(b.id, f"b{i}", f"r{i}")
    assert [m.content for m in store.messages(first.id)] == ["a0a1a2"]
    assert store.get_message(b.id).reasoning == "r0r1r2"  # type: ignore[union-attr]


def test_appending_to_a_deleted_message_does_nothing(store: Store, db_path: Path) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "x", "")
    store.delete_conversation(chat.id)  # parts go with it (ON DELETE CASCADE)
    store.append_partial(answer.id, "late", "")
    assert count_parts(db_path) == 0


def test_update_message_with_content_sets_the_whole_text(store: Store) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "abc", "r")
    store.update_message(answer.id, status="stopped")  # no text given: the parts stay
    assert store.get_message(answer.id).content == "abc"  # type: ignore[union-attr]
    store.update_message(answer.id, content="replaced")
    shown = store.get_message(answer.id)
    assert shown is not None and (shown.content, shown.reasoning) == ("replaced", "r")


def test_recovery_folds_the_parts_of_a_crashed_answer(db_path: Path) -> None:
    """A real process appends parts and dies without closing anything."""
    desktop_dir = Path(store_module.__file__).resolve().parents[2]
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from deltadesk.core.store import Store
        store = Store(Path(sys.argv[1]))
        chat = store.create_conversation("crash")
        msg = store.add_message(chat.id, "assistant", status="streaming")
        for piece in ("half ", "an ", "answ"):
            store.append_partial(msg.id, piece, "why " if piece == "an " else "")
        os._exit(9)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(desktop_dir)}
    result = subprocess.run(
        [sys.executable, "-c", script, str(db_path)], env=env, timeout=30, check=False
    )
    assert result.returncode == 9
    with Store(db_path) as reopened:
        (chat,) = reopened.list_conversations()
        (partial,) = reopened.messages(chat.id)
        assert (partial.content, partial.status) == ("half an answ", "streaming")
        assert reopened.recover_interrupted() == 1
        recovered = reopened.get_message(partial.id)
        assert recovered is not None
        assert (recovered.content, recovered.reasoning) == ("half an answ", "why ")
        assert recovered.status == "interrupted"
    assert count_parts(db_path) == 0


@pytest.mark.parametrize(
    ("hostile", "stored"),
    [
        ("\ud83d", "\ufffd"),
        ("\ude00 tail", "\ufffd tail"),
        ("a\ud800b", "a\ufffdb"),
        ("pair \ud83d\ude00", "pair \U0001f600"),  # a pair in one string is joined
    ],
)
def test_lone_surrogates_are_replaced_at_every_write(
    store: Store, db_path: Path, hostile: str, stored: str
) -> None:
    chat = store.create_conversation(hostile)
    assert chat.title == stored
    store.rename_conversation(chat.id, hostile)
    prompt = store.add_message(chat.id, "user", hostile, profile=hostile, model=hostile)
    assert (prompt.content, prompt.profile, prompt.model) == (stored, stored, stored)
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, hostile, hostile)
    streaming = store.get_message(answer.id)
    assert streaming is not None and (streaming.content, streaming.reasoning) == (stored, stored)
    store.finish_answer(
        answer.id,
        content=hostile + hostile,
        reasoning=hostile,
        status="failed",
        error=ChatError(ErrorKind.BAD_REQUEST, hostile),
    )
    final = store.get_message(answer.id)
    assert final is not None
    assert (final.content, final.error_message) == (stored + stored, stored)
    assert store.get_conversation(chat.id).title == stored  # type: ignore[union-attr]
    with Store(db_path) as reopened:
        assert reopened.messages(chat.id) == store.messages(chat.id)


# -- the upgrade of a file made by the schema-1 Store ---------------------------------------------


def test_a_schema_1_file_from_the_old_store_migrates_with_every_message(tmp_path: Path) -> None:
    # history-v1.sqlite3 was written by the Store of schema 1 (before append-saving): three
    # conversations, a done answer with usage, an answer cut off while streaming, a failure.
    # The strict checks of the upgrade (order, parents, leaves) are in test_migrations.py.
    db_path = tmp_path / "history.sqlite3"
    shutil.copyfile(DATA / "history-v1.sqlite3", db_path)
    before = _dump(db_path)
    with Store(db_path) as upgraded:
        titles = [c.title for c in upgraded.list_conversations()]
        assert sorted(titles) == ["Cut off", "Failed", "Émoji test 😀"]
        rows = {
            (m.role, m.content, m.reasoning, m.status, m.error_kind, m.prompt_tokens)
            for c in upgraded.list_conversations()
            for m in upgraded.messages(c.id)
        }
        assert ("assistant", "Hi! ☕", "thinking…", "done", None, 12) in rows
        # Cut off by a crash: no app of the new schema can be streaming into it.
        assert ("assistant", "Once upon a time", "plot", "interrupted", None, None) in rows
        assert ("assistant", "", "", "failed", "rate_limit", None) in rows
        assert len(rows) == 7
        assert upgraded.recover_interrupted() == 0
        # The upgraded file takes appended parts.
        cut_off = next(c for c in upgraded.list_conversations() if c.title == "Cut off")
        answer = upgraded.messages(cut_off.id)[-1]
        upgraded.append_partial(answer.id, ", the end", "")
        assert upgraded.get_message(answer.id).content == "Once upon a time, the end"  # type: ignore[union-attr]
    after = _dump(db_path)
    assert len(after) == len(before)
    assert _dump(db_path.with_name("history.sqlite3.bak-v1")) == before
    assert _user_version(db_path) == len(store_module.MIGRATIONS) == 4


def _dump(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT m.id, c.title, m.role, m.content FROM messages m"
            " JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id"
        ).fetchall()
    finally:
        conn.close()


def _user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


# -- what a save costs ---------------------------------------------------------------------------


def wal_frames_written(path: Path, write: object) -> int:
    """How many pages one commit writes: the growth of the -wal file, in frames."""
    wal = path.with_name(path.name + "-wal")
    before = wal.stat().st_size if wal.exists() else 0
    write()  # type: ignore[operator]
    page_size = 4096
    return (wal.stat().st_size - before) // (page_size + 24)


def test_a_save_writes_what_is_new_not_the_whole_answer(db_path: Path) -> None:
    slice_ = "word " * 2000  # 10 kB a second, a fast model
    with Store(db_path) as store:
        # Keep every frame in the -wal file so its growth counts exactly what was written.
        store._conn.execute("PRAGMA wal_autocheckpoint = 0")
        chat = store.create_conversation()
        answer = store.add_message(chat.id, "assistant", status="streaming")
        costs = [
            wal_frames_written(db_path, lambda: store.append_partial(answer.id, slice_, ""))
            for _ in range(60)
        ]
        # 10 kB is three pages of text, plus the pages of the rows and indexes it touches.
        assert max(costs[1:]) <= 12, costs
        assert max(costs[-10:]) <= max(costs[1:11]) + 1, costs
        # Rewriting the whole answer instead costs pages in proportion to its length.
        whole = slice_ * 60
        rewrite = wal_frames_written(
            db_path, lambda: store.update_message(answer.id, content=whole)
        )
        assert rewrite > 60


def test_the_final_save_writes_the_answer_once(db_path: Path) -> None:
    slice_ = "word " * 20_000  # 100 kB
    with Store(db_path) as store:
        store._conn.execute("PRAGMA wal_autocheckpoint = 0")
        secure_delete = store._conn.execute("PRAGMA secure_delete").fetchone()[0]
        chat = store.create_conversation()
        answer = store.add_message(chat.id, "assistant", status="streaming")
        for _ in range(20):
            store.append_partial(answer.id, slice_, "")
        whole = slice_ * 20  # 2 MB: about 490 pages of text
        frames = wal_frames_written(
            db_path,
            lambda: store.finish_answer(answer.id, content=whole, reasoning="", status="done"),
        )
        assert store.get_message(answer.id).content == whole  # type: ignore[union-attr]
        pages_of_text = len(whole) // 4096
        # Not twice (joined parts first, then the final text), nor the dropped parts zeroed.
        # The full-text index (schema 4) covers only the first 100,000 characters: a few pages.
        assert pages_of_text <= frames < pages_of_text * 1.2, (frames, pages_of_text)
        # The connection's own setting is back for deletes the user asks for.
        assert store._conn.execute("PRAGMA secure_delete").fetchone()[0] == secure_delete


def test_the_wal_file_shrinks_back_after_a_huge_answer(db_path: Path) -> None:
    wal = db_path.with_name(db_path.name + "-wal")
    with Store(db_path) as store:
        chat = store.create_conversation()
        answer = store.add_message(chat.id, "assistant", status="streaming")
        huge = "z" * 12_000_000
        store.finish_answer(answer.id, content=huge, reasoning="", status="done")
        assert wal.stat().st_size > 12_000_000
        store._conn.execute("PRAGMA wal_checkpoint")  # as the automatic checkpoint does
        store.add_message(chat.id, "user", "next")  # the next write starts the log afresh
        assert wal.stat().st_size <= 8 * 1024 * 1024
        assert store.get_message(answer.id).content == huge  # type: ignore[union-attr]
