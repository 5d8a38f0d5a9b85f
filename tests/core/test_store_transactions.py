"""Several writes as one (Store.transaction), and what an import needs: where a conversation
came from, and its own times. Real SQLite files in tmp_path."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from deltadesk.core.store import Store, StoreError, StoreWriteError


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


class Refused(Exception):
    pass


def test_a_transaction_is_all_or_nothing(store: Store, db_path: Path) -> None:
    with pytest.raises(Refused), store.transaction():
        chat = store.create_conversation("half an import")
        store.add_message(chat.id, "user", "one")
        store.add_message(chat.id, "assistant", "two")
        raise Refused
    assert store.list_conversations() == []
    assert count(db_path, "messages") == 0
    # The store is usable afterwards, and a block that ends well keeps everything.
    with store.transaction():
        chat = store.create_conversation("whole")
        store.add_message(chat.id, "user", "one")
    assert [m.content for m in store.active_path(chat.id)] == ["one"]


def test_others_see_a_transaction_only_when_it_ends(db_path: Path) -> None:
    with Store(db_path) as writer, Store(db_path) as reader:
        with writer.transaction():
            chat = writer.create_conversation("import")
            writer.add_message(chat.id, "user", "hello")
            assert reader.list_conversations() == []
        assert [c.title for c in reader.list_conversations()] == ["import"]
        assert [m.content for m in reader.active_path(chat.id)] == ["hello"]


def test_a_failed_write_inside_undoes_only_itself(store: Store, db_path: Path) -> None:
    # The trigger refuses the conversation's touch, which add_message does after its INSERT:
    # that INSERT must go too (a savepoint per write), and the rest of the block stays.
    kept = store.create_conversation("kept")
    locked = store.create_conversation("locked")
    conn = sqlite3.connect(db_path)
    conn.execute(
        "CREATE TRIGGER refuse_touch BEFORE UPDATE OF updated_at ON conversations"
        " WHEN OLD.title = 'locked' BEGIN SELECT RAISE(ABORT, 'locked'); END"
    )
    conn.commit()
    conn.close()
    with store.transaction():
        store.add_message(kept.id, "user", "before")
        with pytest.raises(sqlite3.IntegrityError, match="locked"):
            store.add_message(locked.id, "user", "refused")
        with pytest.raises(StoreError, match="No message 999"):
            store.add_message(kept.id, "user", "orphan", parent_id=999)
        store.add_message(kept.id, "assistant", "after")
    assert [m.content for m in store.messages(kept.id)] == ["before", "after"]
    assert store.messages(locked.id) == []
    locked_now = store.get_conversation(locked.id)
    assert locked_now is not None and locked_now.active_leaf_id is None


def test_a_nested_transaction_that_fails_leaves_the_outer_one(store: Store) -> None:
    with store.transaction():
        outer = store.create_conversation("outer")
        with pytest.raises(Refused), store.transaction():
            store.create_conversation("inner")
            store.add_message(outer.id, "user", "inner message")
            raise Refused
        store.add_message(outer.id, "user", "outer message")
    assert [c.title for c in store.list_conversations()] == ["outer"]
    assert [m.content for m in store.messages(outer.id)] == ["outer message"]


def test_a_busy_history_refuses_the_transaction_at_once(db_path: Path) -> None:
    with Store(db_path, busy_timeout_ms=50) as store:
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreWriteError) as caught, store.transaction():
                store.create_conversation("never")
            assert caught.value.reason == "busy"
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert store.list_conversations() == []
        with store.transaction():  # and works once the other writer is gone
            store.create_conversation("now")
        assert [c.title for c in store.list_conversations()] == ["now"]


# A read-only history refuses transaction() like every write: see test_store_faults.py.


# -- where a conversation came from ---------------------------------------------------------------


def test_a_conversation_is_found_by_its_source(store: Store) -> None:
    plain = store.create_conversation("mine")
    imported = store.create_conversation("theirs", source="chatgpt", source_id="abc-123")
    assert (imported.source, imported.source_id) == ("chatgpt", "abc-123")
    assert store.get_conversation(imported.id) == imported
    assert store.find_conversation_by_source("chatgpt", "abc-123") == imported
    assert store.find_conversation_by_source("chatgpt", "other") is None
    assert store.find_conversation_by_source("deltadesk", "abc-123") is None
    assert (plain.source, plain.source_id) == (None, None)


def test_the_same_source_twice_is_refused_and_adds_nothing(store: Store) -> None:
    first = store.create_conversation("first", source="chatgpt", source_id="abc")
    with pytest.raises(StoreError, match="already in the history"):
        store.create_conversation("again", source="chatgpt", source_id="abc")
    store.create_conversation("same id, other source", source="deltadesk", source_id="abc")
    for _ in range(3):  # conversations of no source never collide
        store.create_conversation("plain")
    assert [c.id for c in store.list_conversations() if c.source == "chatgpt"] == [first.id]
    assert len(store.list_conversations()) == 5


def test_a_source_needs_its_id(store: Store) -> None:
    with pytest.raises(ValueError, match="together"):
        store.create_conversation("half", source="chatgpt")
    with pytest.raises(ValueError, match="together"):
        store.create_conversation("half", source_id="abc")
    assert store.list_conversations() == []


def test_an_import_keeps_its_own_times(store: Store) -> None:
    today = store.create_conversation("today")
    store.add_message(today.id, "user", "now")
    old = store.create_conversation("2023", source="chatgpt", source_id="x", created_at=1000.0)
    question = store.add_message(old.id, "user", "old question", created_at=1010.0)
    answer = store.add_message(old.id, "assistant", "old answer", created_at=1020.0)
    store.update_message(answer.id, reasoning="thought", prompt_tokens=5, updated_at=1030.0)
    assert (question.created_at, question.updated_at) == (1010.0, 1010.0)
    stored = store.get_message(answer.id)
    assert stored is not None
    assert (stored.created_at, stored.updated_at, stored.reasoning) == (1020.0, 1030.0, "thought")
    imported = store.get_conversation(old.id)
    assert imported is not None
    assert (imported.created_at, imported.updated_at) == (1000.0, 1030.0)
    # Its own times place it in the list: below today's chat, not on top of it.
    assert [c.title for c in store.list_conversations()] == ["today", "2023"]
    # A message given an older time does not move the conversation back.
    store.add_message(old.id, "user", "older still", created_at=5.0)
    store.update_message(question.id, content="old question, edited", updated_at=1015.0)
    again = store.get_conversation(old.id)
    assert again is not None and again.updated_at == 1030.0


def test_updated_at_must_be_a_number(store: Store) -> None:
    chat = store.create_conversation()
    message = store.add_message(chat.id, "user", "hi")
    with pytest.raises(ValueError, match="number"):
        store.update_message(message.id, updated_at="yesterday")
    assert store.get_message(message.id) == message
