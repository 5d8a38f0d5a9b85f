"""The history store against real SQLite files in tmp_path."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from deltadesk.core import migrations as store_module
from deltadesk.core.store import MESSAGE_STATUSES, Store, StoreError

V_NEXT_ADD_ARCHIVED = "ALTER TABLE conversations ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def user_version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def table_columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def table_names(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()


def test_round_trip_survives_reopen(db_path: Path) -> None:
    with Store(db_path) as first:
        chat = first.create_conversation("Soup")
        question = first.add_message(chat.id, "user", "How long to boil an egg?")
        answer = first.add_message(
            chat.id, "assistant", "", status="streaming", profile="Groq", model="llama"
        )
    with Store(db_path) as second:
        assert second.get_conversation(chat.id) is not None
        assert second.get_conversation(chat.id).title == "Soup"  # type: ignore[union-attr]
        assert second.messages(chat.id) == [question, answer]
        assert second.get_message(answer.id) == answer
    assert answer.profile == "Groq" and answer.model == "llama" and answer.status == "streaming"


def test_update_message_sets_fields_and_bumps_times(store: Store) -> None:
    chat = store.create_conversation()
    msg = store.add_message(chat.id, "assistant", status="streaming")
    store.update_message(
        msg.id,
        content="Ten minutes.",
        reasoning="Hard-boiled means...",
        status="failed",
        error_kind="rate_limit",
        error_message="Slow down",
        prompt_tokens=12,
        completion_tokens=3,
        reasoning_tokens=5,
        ttft_ms=123.5,
    )
    updated = store.get_message(msg.id)
    assert updated is not None
    assert (updated.content, updated.reasoning, updated.status) == (
        "Ten minutes.",
        "Hard-boiled means...",
        "failed",
    )
    assert (updated.error_kind, updated.error_message) == ("rate_limit", "Slow down")
    assert (updated.prompt_tokens, updated.completion_tokens, updated.reasoning_tokens) == (
        12,
        3,
        5,
    )
    assert updated.ttft_ms == 123.5
    assert updated.created_at == msg.created_at
    assert updated.updated_at > msg.updated_at
    conversation = store.get_conversation(chat.id)
    assert conversation is not None and conversation.updated_at == updated.updated_at


def test_update_message_clears_an_error(store: Store) -> None:
    chat = store.create_conversation()
    msg = store.add_message(chat.id, "assistant")
    store.update_message(msg.id, status="failed", error_kind="timeout", error_message="late")
    store.update_message(msg.id, status="done", error_kind=None, error_message=None)
    cleared = store.get_message(msg.id)
    assert cleared is not None and cleared.error_kind is None and cleared.error_message is None


@pytest.mark.parametrize(
    "fields",
    [{"id": 5}, {"conversation_id": 2}, {"created_at": 0.0}, {"role": "system"}, {"bogus": 1}],
)
def test_update_message_rejects_other_fields(store: Store, fields: dict[str, object]) -> None:
    chat = store.create_conversation()
    msg = store.add_message(chat.id, "user", "hi")
    with pytest.raises(ValueError, match="cannot update"):
        store.update_message(msg.id, **fields)
    assert store.get_message(msg.id) == msg


def test_invalid_values_raise_value_error(store: Store) -> None:
    chat = store.create_conversation()
    with pytest.raises(ValueError, match="role"):
        store.add_message(chat.id, "robot", "beep")
    with pytest.raises(ValueError, match="status"):
        store.add_message(chat.id, "user", "hi", status="finished")
    msg = store.add_message(chat.id, "assistant")
    with pytest.raises(ValueError, match="status"):
        store.update_message(msg.id, status="ok")
    with pytest.raises(ValueError, match="error kind"):
        store.update_message(msg.id, error_kind="kaboom")
    assert store.messages(chat.id) == [msg]


def test_check_constraints_guard_the_table(store: Store, db_path: Path) -> None:
    chat = store.create_conversation()
    conn = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO messages (conversation_id, role, status, created_at, updated_at)"
                " VALUES (?, 'user', 'weird', 0, 0)",
                (chat.id,),
            )
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO messages (conversation_id, role, status, created_at, updated_at)"
                " VALUES (?, 'robot', 'done', 0, 0)",
                (chat.id,),
            )
    finally:
        conn.close()


def test_add_message_to_missing_conversation_raises(store: Store) -> None:
    with pytest.raises(StoreError, match="No conversation 999"):
        store.add_message(999, "user", "hello?")


def test_update_of_a_deleted_message_is_a_no_op(store: Store) -> None:
    chat = store.create_conversation()
    msg = store.add_message(chat.id, "assistant", status="streaming")
    store.delete_conversation(chat.id)
    store.update_message(msg.id, content="late partial")
    assert store.get_message(msg.id) is None


def test_delete_conversation_cascades_to_messages(store: Store, db_path: Path) -> None:
    doomed = store.create_conversation("doomed")
    kept = store.create_conversation("kept")
    for text in ("a", "b", "c"):
        store.add_message(doomed.id, "user", text)
    survivor = store.add_message(kept.id, "user", "stay")
    store.delete_conversation(doomed.id)
    assert store.get_conversation(doomed.id) is None
    assert store.messages(doomed.id) == []
    assert store.messages(kept.id) == [survivor]
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 1
    finally:
        conn.close()


def test_delete_message(store: Store) -> None:
    chat = store.create_conversation()
    first = store.add_message(chat.id, "user", "one")
    second = store.add_message(chat.id, "assistant", "two")
    store.delete_message(first.id)
    # The answer stays, moved up to the deleted prompt's place (a root now).
    assert store.messages(chat.id) == [replace(second, parent_id=None)]
    store.delete_message(first.id)  # already gone: fine


def test_conversations_most_recently_updated_first(store: Store) -> None:
    older = store.create_conversation("older")
    newer = store.create_conversation("newer")
    assert [c.title for c in store.list_conversations()] == ["newer", "older"]
    store.add_message(older.id, "user", "bump")
    assert [c.id for c in store.list_conversations()] == [older.id, newer.id]
    msg = store.add_message(newer.id, "assistant", status="streaming")
    store.update_message(msg.id, content="partial")
    assert [c.id for c in store.list_conversations()] == [newer.id, older.id]


def test_rename_keeps_position(store: Store) -> None:
    first = store.create_conversation("first")
    store.create_conversation("second")
    store.rename_conversation(first.id, "renamed")
    assert [c.title for c in store.list_conversations()] == ["second", "renamed"]


def test_messages_oldest_first(store: Store) -> None:
    chat = store.create_conversation()
    other = store.create_conversation()
    texts = [f"message {i}" for i in range(20)]
    for i, text in enumerate(texts):
        store.add_message(chat.id, "user" if i % 2 == 0 else "assistant", text)
        store.add_message(other.id, "user", "noise")
    assert [m.content for m in store.messages(chat.id)] == texts


def test_recover_interrupted(store: Store) -> None:
    chat = store.create_conversation()
    stuck = [store.add_message(chat.id, "assistant", "half", status="streaming") for _ in range(2)]
    done = store.add_message(chat.id, "assistant", "whole")
    stopped = store.add_message(chat.id, "assistant", "cut", status="stopped")
    assert store.recover_interrupted() == 2
    statuses = {m.id: m.status for m in store.messages(chat.id)}
    assert [statuses[m.id] for m in stuck] == ["interrupted", "interrupted"]
    assert statuses[done.id] == "done" and statuses[stopped.id] == "stopped"
    assert store.get_message(stuck[0].id).content == "half"  # type: ignore[union-attr]
    assert store.recover_interrupted() == 0


def test_every_status_is_storable(store: Store) -> None:
    chat = store.create_conversation()
    for status in MESSAGE_STATUSES:
        msg = store.add_message(chat.id, "assistant", status=status)
        assert store.get_message(msg.id).status == status  # type: ignore[union-attr]


def test_wal_and_pragmas_are_on(store: Store, db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    pragmas = {
        name: store._conn.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("foreign_keys", "synchronous", "busy_timeout")
    }
    assert pragmas == {"foreign_keys": 1, "synchronous": 1, "busy_timeout": 5000}


def test_second_store_sees_committed_writes(db_path: Path) -> None:
    with Store(db_path) as writer, Store(db_path) as reader:
        chat = writer.create_conversation("shared")
        msg = writer.add_message(chat.id, "assistant", "par", status="streaming")
        assert reader.messages(chat.id) == [msg]
        writer.update_message(msg.id, content="partial")
        assert reader.get_message(msg.id).content == "partial"  # type: ignore[union-attr]


def test_partial_survives_a_crash(db_path: Path) -> None:
    """A real process writes a partial answer and dies without closing anything."""
    desktop_dir = Path(store_module.__file__).resolve().parents[2]
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from deltadesk.core.store import Store
        store = Store(Path(sys.argv[1]))
        chat = store.create_conversation("crash")
        msg = store.add_message(chat.id, "assistant", status="streaming")
        store.update_message(msg.id, content="half an answ")
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
        assert reopened.get_message(partial.id).status == "interrupted"  # type: ignore[union-attr]


def test_close_without_final_update_keeps_partial(db_path: Path) -> None:
    writer = Store(db_path)
    chat = writer.create_conversation()
    msg = writer.add_message(chat.id, "assistant", status="streaming")
    writer.update_message(msg.id, content="so far")
    writer.close()
    with Store(db_path) as reopened:
        assert reopened.get_message(msg.id).content == "so far"  # type: ignore[union-attr]


def test_new_database_gets_current_schema(db_path: Path) -> None:
    Store(db_path).close()
    assert user_version(db_path) == len(store_module.MIGRATIONS)
    assert list(db_path.parent.glob("*.bak-v*")) == []


def test_migrates_hand_made_v0_database(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE leftovers (note TEXT)")
    conn.execute("INSERT INTO leftovers VALUES ('from before')")
    conn.commit()
    conn.close()
    assert user_version(db_path) == 0
    with Store(db_path) as opened:
        chat = opened.create_conversation()
        opened.add_message(chat.id, "user", "works")
    assert user_version(db_path) == len(store_module.MIGRATIONS)
    assert {"leftovers", "conversations", "messages"} <= table_names(db_path)
    # A v0 file has no schema of ours to lose, so no backup is made.
    assert list(db_path.parent.glob("*.bak-v*")) == []


def make_schema_1_file(path: Path, text: str) -> None:
    """A schema-1 history with one conversation and one message, as that schema's SQL makes
    it (today's Store writes columns a schema-1 file does not have)."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(store_module.MIGRATIONS[0])
        conn.execute("INSERT INTO conversations VALUES (1, 'before upgrade', 1.0, 1.0)")
        conn.execute(
            "INSERT INTO messages (conversation_id, role, content, created_at, updated_at)"
            " VALUES (1, 'user', ?, 1.0, 1.0)",
            (text,),
        )
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
    finally:
        conn.close()


def test_migration_backs_up_the_older_version(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = store_module.MIGRATIONS
    make_schema_1_file(db_path, "keep me")
    chat_id = 1

    monkeypatch.setattr(store_module, "MIGRATIONS", (*current, V_NEXT_ADD_ARCHIVED))
    with Store(db_path) as upgraded:
        assert [m.content for m in upgraded.messages(chat_id)] == ["keep me"]
    assert user_version(db_path) == len(current) + 1
    assert "archived" in table_columns(db_path, "conversations")

    backup = db_path.with_name("history.sqlite3.bak-v1")
    assert backup.exists()
    assert user_version(backup) == 1
    assert "archived" not in table_columns(backup, "conversations")
    conn = sqlite3.connect(backup)
    try:
        assert conn.execute("SELECT content FROM messages").fetchall() == [("keep me",)]
    finally:
        conn.close()


def test_failed_migration_rolls_back(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    v1_only = store_module.MIGRATIONS[:1]
    monkeypatch.setattr(store_module, "MIGRATIONS", v1_only)
    Store(db_path).close()
    broken = "CREATE TABLE half_done (x INTEGER);\nSELECT no_such_column FROM conversations;"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*v1_only, broken))
    with pytest.raises(StoreError, match="from schema 1 to 2"):
        Store(db_path)
    assert user_version(db_path) == 1
    assert "half_done" not in table_names(db_path)


def test_newer_schema_is_refused_and_untouched(db_path: Path) -> None:
    known = len(store_module.MIGRATIONS)
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {known + 7}")
    conn.commit()
    conn.close()
    before = db_path.read_bytes()
    files_before = sorted(p.name for p in db_path.parent.iterdir())

    with pytest.raises(StoreError) as caught:
        Store(db_path)
    message = str(caught.value)
    assert f"made by a newer Deltadesk (schema {known + 7})" in message
    assert f"this version understands up to {known}" in message

    assert db_path.read_bytes() == before
    assert sorted(p.name for p in db_path.parent.iterdir()) == files_before


def test_not_a_database_is_a_store_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not sqlite at all, just some text" * 50)
    with pytest.raises(StoreError, match="not a readable history database"):
        Store(db_path)
