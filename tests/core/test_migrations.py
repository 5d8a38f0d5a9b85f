"""The upgrade to schema 3 (a tree) of files made by earlier releases, checked the strict way.

history-v1.sqlite3 was made by the schema-1 release, history-v2.sqlite3 by the schema-2 Store
(see make_history_v2.py). Every message must come through: same id, conversation, role, text
(a crashed answer's appended parts joined), reasoning, error, usage, figures and times; the
same order; the same status, except that an answer left 'streaming' by a crash is
'interrupted'. A list becomes a chain: each message's parent is the one before it in its
conversation, and the active leaf is the last message.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltadesk.core import migrations
from deltadesk.core.store import Message, Store, StoreError
from deltadesk.core.store_connection import open_database

DATA = Path(__file__).parent / "data"

# The columns every schema has had, in order: what must come through unchanged.
OLD_MESSAGE_COLUMNS = (
    "id, conversation_id, role, content, reasoning, status, error_kind, error_message,"
    " profile, model, prompt_tokens, completion_tokens, reasoning_tokens, ttft_ms,"
    " created_at, updated_at"
)
STATUS = 5  # index of status in OLD_MESSAGE_COLUMNS


def copy_of(name: str, tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(DATA / name, path)
    return path


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def user_version(path: Path) -> int:
    return int(str(query(path, "PRAGMA user_version")[0][0]))


def old_messages(path: Path) -> list[tuple[object, ...]]:
    """The messages of an old file as the old schema reads them: parts joined on."""
    rows = query(path, f"SELECT {OLD_MESSAGE_COLUMNS} FROM messages ORDER BY id")
    has_parts = bool(query(path, "SELECT 1 FROM sqlite_master WHERE name = 'message_parts'"))
    parts = (
        query(path, "SELECT message_id, text, reasoning FROM message_parts ORDER BY id")
        if has_parts
        else []
    )
    joined = []
    for row in rows:
        text = "".join(str(p[1]) for p in parts if p[0] == row[0])
        reasoning = "".join(str(p[2]) for p in parts if p[0] == row[0])
        joined.append((*row[:3], str(row[3]) + text, str(row[4]) + reasoning, *row[5:]))
    return joined


def old_conversations(path: Path) -> list[tuple[object, ...]]:
    return query(path, "SELECT id, title, created_at, updated_at FROM conversations ORDER BY id")


def as_old_row(message: Message) -> tuple[object, ...]:
    return (
        message.id,
        message.conversation_id,
        message.role,
        message.content,
        message.reasoning,
        message.status,
        message.error_kind,
        message.error_message,
        message.profile,
        message.model,
        message.prompt_tokens,
        message.completion_tokens,
        message.reasoning_tokens,
        message.ttft_ms,
        message.created_at,
        message.updated_at,
    )


def check_upgraded_strictly(
    store: Store, before: list[tuple[object, ...]], chats: list[tuple[object, ...]]
) -> None:
    # Conversations: all there, untouched.
    assert [(c.id, c.title, c.created_at, c.updated_at) for c in store.list_conversations()] == [
        row for row in sorted(chats, key=lambda r: (r[3], r[0]), reverse=True)
    ]
    expected = [
        (*row[:STATUS], "interrupted" if row[STATUS] == "streaming" else row[STATUS], *row[6:])
        for row in before
    ]
    upgraded: list[tuple[object, ...]] = []
    for chat_id, *_ in chats:
        assert isinstance(chat_id, int)
        listed = store.messages(chat_id)
        upgraded.extend(as_old_row(m) for m in listed)
        # Order kept, and the list became a chain in that order...
        assert [m.id for m in listed] == [row[0] for row in before if row[1] == chat_id]
        assert [m.parent_id for m in listed] == [None, *(m.id for m in listed)][: len(listed)]
        assert all(m.tokens_per_second is None and m.estimated_tokens is None for m in listed)
        # ... whose end is the active leaf: the whole conversation is the path shown.
        conversation = store.get_conversation(chat_id)
        assert conversation is not None
        assert conversation.active_leaf_id == (listed[-1].id if listed else None)
        assert (conversation.source, conversation.source_id) == (None, None)
        assert store.active_path(chat_id) == listed
    # Every message kept, with every column; only a crash's 'streaming' changed.
    assert sorted(upgraded, key=lambda row: int(str(row[0]))) == expected


def check_sound(path: Path) -> None:
    assert query(path, "PRAGMA integrity_check") == [("ok",)]
    assert query(path, "PRAGMA foreign_key_check") == []
    # The full-text indexes (schema 4) agree with the text they index (raises if not).
    for table in ("messages_fts", "titles_fts"):
        query(path, f"INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)")


def test_a_schema_1_file_of_the_last_release_becomes_a_tree(tmp_path: Path) -> None:
    path = copy_of("history-v1.sqlite3", tmp_path)
    assert user_version(path) == 1
    before, chats = old_messages(path), old_conversations(path)
    assert [row[STATUS] for row in before] == [
        "done", "done", "done", "done", "streaming", "done", "failed",
    ]  # fmt: skip
    with Store(path) as store:
        check_upgraded_strictly(store, before, chats)
        assert store.recover_interrupted() == 0  # the upgrade already did it
    assert user_version(path) == migrations.known_version()
    check_sound(path)
    backup = path.with_name("history.sqlite3.bak-v1")
    assert user_version(backup) == 1
    assert old_messages(backup) == before


def test_a_schema_2_file_with_a_crashed_answer_becomes_a_tree(tmp_path: Path) -> None:
    path = copy_of("history-v2.sqlite3", tmp_path)
    assert user_version(path) == 2
    before, chats = old_messages(path), old_conversations(path)
    # What the fixture must hold for this test to mean something.
    statuses = {str(row[STATUS]) for row in before}
    assert statuses == set(migrations.MESSAGE_STATUSES)
    assert query(path, "SELECT count(*) FROM message_parts") == [(2,)]
    assert "Once upon a time" in [row[3] for row in before]
    with Store(path) as store:
        check_upgraded_strictly(store, before, chats)
        crashed = next(m for c in store.list_conversations() for m in store.messages(c.id)
                       if m.content.startswith("Once"))  # fmt: skip
        assert (crashed.content, crashed.reasoning, crashed.status) == (
            "Once upon a time",
            "plot twist",
            "interrupted",
        )
        # Recovery at start-up folds its parts into the row; nothing changes on reading.
        assert store.recover_interrupted() == 0
        assert store.get_message(crashed.id) == crashed
    assert query(path, "SELECT count(*) FROM message_parts") == [(0,)]
    check_sound(path)
    backup = path.with_name("history.sqlite3.bak-v2")
    assert user_version(backup) == 2
    assert old_messages(backup) == before
    assert not path.with_name("history.sqlite3.bak-v1").exists()


def test_the_old_retry_order_stays_as_it_was_saved(tmp_path: Path) -> None:
    # An old Retry appended its new answer at the end: user, user, assistant, assistant. The
    # upgrade does not guess a better tree; it keeps the order the user saw.
    with Store(copy_of("history-v2.sqlite3", tmp_path)) as store:
        (retry,) = [c for c in store.list_conversations() if c.title == "Old retry order"]
        path = store.active_path(retry.id)
    assert [(m.role, m.status) for m in path] == [
        ("user", "done"),
        ("user", "done"),
        ("assistant", "stopped"),
        ("assistant", "failed"),
    ]


def test_step_by_step_1_to_2_to_3_keeps_a_backup_of_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_of("history-v1.sqlite3", tmp_path)
    before, chats = old_messages(path), old_conversations(path)
    every = migrations.MIGRATIONS
    monkeypatch.setattr(migrations, "MIGRATIONS", every[:2])  # the schema-2 release
    open_database(path, 1000).conn.close()
    assert user_version(path) == 2
    monkeypatch.setattr(migrations, "MIGRATIONS", every)
    with Store(path) as store:
        check_upgraded_strictly(store, before, chats)
    assert [user_version(path.with_name(f"history.sqlite3.bak-v{n}")) for n in (1, 2)] == [1, 2]


def test_the_upgraded_file_takes_branches(tmp_path: Path) -> None:
    path = copy_of("history-v2.sqlite3", tmp_path)
    with Store(path) as store:
        trip = next(c for c in store.list_conversations() if c.title.startswith("Trip"))
        old_path = store.active_path(trip.id)
        prompt = old_path[-2]
        again = store.add_message(trip.id, "assistant", "Bacalhau", parent_id=prompt.id)
        assert store.siblings(again.id) == [old_path[-1], again]
        assert store.active_path(trip.id) == [*old_path[:-1], again]
        empty = next(c for c in store.list_conversations() if c.title == "Empty")
        first = store.add_message(empty.id, "user", "Now something")
        assert first.parent_id is None and store.active_path(empty.id) == [first]
    with Store(path) as reopened:  # no second upgrade, no second backup
        assert reopened.active_path(trip.id) == [*old_path[:-1], again]
    assert sorted(p.name for p in tmp_path.glob("*.bak-*")) == ["history.sqlite3.bak-v2"]


def test_a_failed_upgrade_leaves_the_schema_2_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy_of("history-v2.sqlite3", tmp_path)
    before = old_messages(path)
    broken = "CREATE TABLE half_done (x INTEGER);\nSELECT no_such_column FROM messages;"
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    with pytest.raises(StoreError, match=f"from schema 2 to {len(migrations.MIGRATIONS)}"):
        Store(path)
    assert user_version(path) == 2
    assert old_messages(path) == before
    assert "parent_id" not in [row[1] for row in query(path, "PRAGMA table_info(messages)")]


def test_a_file_of_a_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = copy_of("history-v2.sqlite3", tmp_path)
    conn = sqlite3.connect(path)
    known = migrations.known_version()
    conn.execute(f"PRAGMA user_version = {known + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=rf"newer Deltadesk \(schema {known + 1}\).*up to {known}"):
        Store(path)
    assert path.read_bytes() == before
    assert list(tmp_path.glob("*.bak-*")) == []


def test_a_new_history_has_the_tree_columns_and_indexes(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    Store(path).close()
    assert user_version(path) == migrations.known_version()
    message_columns = [row[1] for row in query(path, "PRAGMA table_info(messages)")]
    assert message_columns[-4:-1] == ["parent_id", "tokens_per_second", "estimated_tokens"]
    conversation_columns = [row[1] for row in query(path, "PRAGMA table_info(conversations)")]
    assert conversation_columns[-5:-2] == ["active_leaf_id", "source", "source_id"]
    indexes = {str(row[0]) for row in query(path, "SELECT name FROM sqlite_master")}
    assert {"messages_by_parent", "conversations_by_source"} <= indexes


# -- any list-shaped history, not only the two files ---------------------------------------------

ROWS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=4),  # conversation
        st.sampled_from(migrations.ROLES),
        st.sampled_from(migrations.MESSAGE_STATUSES),
        st.text(max_size=8),
        st.lists(st.text(max_size=4), max_size=3),  # appended parts, never folded
    ),
    max_size=30,
)


def make_schema_2_file(path: Path, rows: list[tuple[int, str, str, str, list[str]]]) -> None:
    """A schema-2 history as the schema-2 scripts make it, with these messages in this order
    (conversations 1-4, some maybe empty)."""
    conn = sqlite3.connect(path)
    try:
        for script in migrations.MIGRATIONS[:2]:
            conn.executescript(script)
        for chat in range(1, 5):
            conn.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?)", (chat, f"c{chat}", 1.0, 2.0)
            )
        for number, (chat, role, status, text, parts) in enumerate(rows, start=1):
            conn.execute(
                "INSERT INTO messages (id, conversation_id, role, content, status, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (number, chat, role, text, status, float(number), float(number)),
            )
            for part in parts:
                conn.execute(
                    "INSERT INTO message_parts (message_id, text, reasoning) VALUES (?, ?, ?)",
                    (number, part, part[::-1]),
                )
        conn.execute("PRAGMA user_version = 2")
        conn.commit()
    finally:
        conn.close()


@settings(max_examples=25)  # each is a real file opened, upgraded and backed up
@given(ROWS)
def test_any_schema_2_history_comes_through_whole(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[int, str, str, str, list[str]]]
) -> None:
    path = tmp_path_factory.mktemp("v2") / "history.sqlite3"
    make_schema_2_file(path, rows)
    before, chats = old_messages(path), old_conversations(path)
    with Store(path) as store:
        check_upgraded_strictly(store, before, chats)
    check_sound(path)


def test_an_upgrade_is_logged_and_a_new_history_is_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="deltadesk.core.migrations")
    Store(copy_of("history-v2.sqlite3", tmp_path)).close()
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == [
        f"history: {tmp_path / 'history.sqlite3'} upgraded from schema 2 to "
        f"{migrations.known_version()}"
    ]
    caplog.clear()
    Store(tmp_path / "new.sqlite3").close()
    assert caplog.records == []
