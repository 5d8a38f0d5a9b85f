"""The upgrade to schema 4 (settings, pins, reasoning time, full-text search) of a file made
by the schema-3 release, checked the strict way: every row and column comes through, the new
columns hold their defaults, the index is built for what was there and kept in step after,
a backup is made, and a slow upgrade is told about as it runs and afterwards.

history-v3.sqlite3 was made by the schema-3 Store (see make_history_v3.py).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from deltadesk.core import migrations
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.store import Store, StoreError

DATA = Path(__file__).parent / "data"
V3_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, reasoning, status, error_kind, error_message,"
    " profile, model, prompt_tokens, completion_tokens, reasoning_tokens, ttft_ms,"
    " created_at, updated_at, parent_id, tokens_per_second, estimated_tokens"
)
V3_CONVERSATION_COLUMNS = (
    "id, title, created_at, updated_at, active_leaf_id, source, source_id"
)  # fmt: skip


def copy_of_v3(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(DATA / "history-v3.sqlite3", path)
    return path


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def version(path: Path) -> int:
    return int(str(query(path, "PRAGMA user_version")[0][0]))


def v3_state(path: Path) -> tuple[list[tuple[object, ...]], ...]:
    return (
        query(path, f"SELECT {V3_MESSAGE_COLUMNS} FROM messages ORDER BY id"),
        query(path, f"SELECT {V3_CONVERSATION_COLUMNS} FROM conversations ORDER BY id"),
        query(path, "SELECT id, message_id, text, reasoning FROM message_parts ORDER BY id"),
    )


def test_a_schema_3_file_comes_through_whole_with_its_index_built(tmp_path: Path) -> None:
    path = copy_of_v3(tmp_path)
    assert version(path) == 3
    before = v3_state(path)
    messages, _, parts = before
    # What the fixture must hold for this test to mean something.
    parents = [row[16] for row in messages if row[16] is not None]
    assert len(parts) == 2 and len(parents) > len(set(parents))  # branches
    assert {row[5] for row in messages} >= {"done", "failed", "stopped", "interrupted"}
    with Store(path) as store:
        assert store.upgrade is not None
        assert (store.upgrade.from_version, store.upgrade.to_version) == (3, 4)
        assert store.upgrade.messages == len(messages)
        # Every column of every row as it was; the parts left for recovery to fold.
        assert v3_state(path) == before
        for chat in store.list_conversations():
            assert chat.pinned is False and chat.settings == ConversationSettings()
            assert all(m.reasoning_ms is None for m in store.messages(chat.id))
        # The index holds what was there: every branch, imported chats, titles.
        trip = next(c for c in store.list_conversations() if c.title.startswith("Trip"))
        first_answer = next(m for m in store.messages(trip.id) if m.content.startswith("Belém"))
        assert first_answer not in store.active_path(trip.id)  # an older branch
        assert [h.message_id for h in store.search_hits("belem alfama")] == [first_answer.id]
        assert [h.title for h in store.search_hits("creme brulee")] == ["Café notes"]
        assert [(h.message_id, h.title) for h in store.search_hits("lisb")] == [
            (None, "Trip to Lisbon 🚋")
        ]
        jeronimos = store.search_hits("jeronimos")
        assert [h.snippet for h in jeronimos] == ["Sintra <b>palace</b>, Jerónimos monastery"]
        # ... and is kept in step after: new messages, recovery folding a crashed answer.
        assert store.search_hits("upon") == []  # its text is still in parts
        assert store.recover_interrupted() == 1
        assert [h.snippet for h in store.search_hits("once upon")] == ["Once upon a time"]
        added = store.add_message(trip.id, "user", "Any fado tonight?")
        assert [h.message_id for h in store.search_hits("fado")] == [added.id]
        # The new columns take values.
        store.set_pinned(trip.id, True)
        store.update_message(added.id, reasoning_ms=1234.5)
        assert store.get_conversation(trip.id).pinned is True  # type: ignore[union-attr]
        assert store.get_message(added.id).reasoning_ms == 1234.5  # type: ignore[union-attr]
    assert version(path) == 4
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []
    for table in ("messages_fts", "titles_fts"):
        query(path, f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")
    backup = path.with_name("history.sqlite3.bak-v3")
    assert version(backup) == 3
    assert v3_state(backup) == before


def test_the_index_is_built_in_the_same_transaction_as_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failure at the very end (after the index was built) leaves the file at schema 3.
    path = copy_of_v3(tmp_path)
    before = v3_state(path)
    broken = migrations.MIGRATIONS[3] + "\nSELECT no_such_column FROM messages;"
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS[:3], broken))
    with pytest.raises(StoreError, match=r"from schema 3 to 4.*left as it was"):
        Store(path)
    assert version(path) == 3 and v3_state(path) == before
    names = {str(row[0]) for row in query(path, "SELECT name FROM sqlite_master")}
    assert not {"messages_fts", "titles_fts", "messages_fts_insert"} & names


def test_a_slow_upgrade_is_told_as_it_goes_and_afterwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = copy_of_v3(tmp_path)
    # Every step "slow": the clock is looked at often and every look tells.
    monkeypatch.setattr(migrations, "SLOW_UPGRADE_SECONDS", 0.0)
    monkeypatch.setattr(migrations, "_PROGRESS_STEPS", 50)
    told: list[str] = []
    caplog.set_level(logging.INFO, logger="deltadesk.core.migrations")
    with Store(path, progress=told.append) as store:
        upgrade = store.upgrade
        assert store.search_hits("naive")  # upgraded all the same
    assert told and all("search index of 13 messages" in sentence for sentence in told)
    assert upgrade is not None and upgrade.slow
    assert upgrade.note().startswith("Deltadesk upgraded your history and built its search")
    assert any("so far" in record.getMessage() for record in caplog.records)


def test_a_failing_progress_callback_does_not_fail_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "SLOW_UPGRADE_SECONDS", 0.0)
    monkeypatch.setattr(migrations, "_PROGRESS_STEPS", 50)

    def broken(sentence: str) -> None:
        raise RuntimeError("the window went away")

    with Store(copy_of_v3(tmp_path), progress=broken) as store:
        assert store.search_hits("naive")


def test_a_quick_upgrade_is_not_slow_and_a_new_history_has_no_upgrade(tmp_path: Path) -> None:
    with Store(copy_of_v3(tmp_path)) as store:
        assert store.upgrade is not None and not store.upgrade.slow
    with Store(tmp_path / "new.sqlite3") as fresh:
        assert fresh.upgrade is None
    with Store(tmp_path / "new.sqlite3") as again:
        assert again.upgrade is None


def test_without_fts5_the_upgrade_says_so_and_changes_nothing(tmp_path: Path) -> None:
    path = copy_of_v3(tmp_path)
    before = path.read_bytes()

    class NoFts5:
        def execute(self, sql: str) -> None:
            raise sqlite3.OperationalError("no such module: fts5")

    with pytest.raises(StoreError, match=r"full-text search \(FTS5\).*left as it was"):
        migrations.check_fts5(NoFts5(), path)  # type: ignore[arg-type]
    assert path.read_bytes() == before


def test_this_python_has_fts5(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "probe.sqlite3")
    try:
        migrations.check_fts5(conn, tmp_path / "probe.sqlite3")
    finally:
        conn.close()


def test_a_new_history_has_the_schema_4_columns_index_and_triggers(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    Store(path).close()
    assert version(path) == 4
    conversation_columns = [row[1] for row in query(path, "PRAGMA table_info(conversations)")]
    assert conversation_columns[-2:] == ["pinned", "settings"]
    message_columns = [row[1] for row in query(path, "PRAGMA table_info(messages)")]
    assert message_columns[-1] == "reasoning_ms"
    names = {str(row[0]) for row in query(path, "SELECT name FROM sqlite_master")}
    triggers = {f"{t}_fts_{w}" for t in ("messages", "titles") for w in ("insert", "delete")}
    assert {"messages_fts", "titles_fts", *triggers} <= names
