"""Schema 4's new columns through the Store: a conversation's pin and settings, a message's
reasoning time. Against real SQLite files, read back after reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.core.history_rows import Conversation, Message
from deltadesk.core.store import Store

SETTINGS = ConversationSettings(
    system="Answer in Portuguese.", temperature=0.3, max_tokens=512, reasoning_effort="low"
)


def test_a_pin_is_kept_and_is_not_chat_activity(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with Store(path) as store:
        older = store.create_conversation("Older")
        newer = store.create_conversation("Newer")
        store.set_pinned(older.id, True)
        assert store.get_conversation(older.id).pinned is True  # type: ignore[union-attr]
        assert store.get_conversation(older.id).updated_at == older.updated_at  # type: ignore[union-attr]
        assert [c.id for c in store.list_conversations()] == [newer.id, older.id]
    with Store(path) as store:
        assert [c.pinned for c in store.list_conversations()] == [False, True]
        store.set_pinned(older.id, False)
        assert store.get_conversation(older.id).pinned is False  # type: ignore[union-attr]


def test_settings_go_with_a_new_conversation_and_can_change(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with Store(path) as store:
        made = store.create_conversation("Preset", settings=SETTINGS)
        assert made.settings == SETTINGS
        plain = store.create_conversation("Plain")
        assert plain.settings == ConversationSettings()
    with Store(path) as store:
        assert store.get_conversation(made.id).settings == SETTINGS  # type: ignore[union-attr]
        changed = SETTINGS.with_changes(temperature=None, model="gpt-x")
        store.set_conversation_settings(made.id, changed)
        store.set_conversation_settings(plain.id, ConversationSettings())
        by_id = {c.id: c for c in store.list_conversations()}
        assert by_id[made.id].settings == changed
        assert by_id[plain.id].settings == ConversationSettings()
    conn = sqlite3.connect(path)
    try:
        stored = dict(conn.execute("SELECT id, settings FROM conversations").fetchall())
    finally:
        conn.close()
    assert stored[plain.id] is None  # the defaults are stored as nothing


def test_settings_are_checked_and_made_storable(tmp_path: Path) -> None:
    with Store(tmp_path / "history.sqlite3") as store:
        chat = store.create_conversation()
        # Built by hand, past the checks of from_mapping: the store checks them again.
        bad = ConversationSettings(system="half \ud83d emoji", temperature=99.0, max_tokens=-1)
        store.set_conversation_settings(chat.id, bad)
        read = store.get_conversation(chat.id).settings  # type: ignore[union-attr]
        assert read == ConversationSettings(system="half \ufffd emoji")


def test_a_hand_edited_settings_column_reads_as_far_as_it_makes_sense(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with Store(path) as store:
        broken = store.create_conversation("Broken")
        partly = store.create_conversation("Partly")
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE conversations SET settings = '{not json' WHERE id = ?", (broken.id,))
        conn.execute(
            "UPDATE conversations SET settings = ? WHERE id = ?",
            ('{"temperature": "hot", "model": "m", "max_tokens": 1e400}', partly.id),
        )
        conn.commit()
    finally:
        conn.close()
    with Store(path) as store:
        by_id = {c.id: c for c in store.list_conversations()}
    assert by_id[broken.id].settings == ConversationSettings()
    assert by_id[partly.id].settings == ConversationSettings(model="m")


def test_reasoning_time_is_updatable_and_saved_with_the_answer(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with Store(path) as store:
        chat = store.create_conversation()
        answer = store.add_message(chat.id, "assistant", status="streaming")
        assert answer.reasoning_ms is None
        store.finish_answer(
            answer.id, content="42", reasoning="hmm", status="done", reasoning_ms=3200.0
        )
        other = store.add_message(chat.id, "assistant", "x")
        store.update_message(other.id, reasoning_ms=15.5)
        store.finish_answer(other.id, content="y", reasoning="", status="done")
    with Store(path) as store:
        assert store.get_message(answer.id).reasoning_ms == 3200.0  # type: ignore[union-attr]
        # finish_answer without it: unknown (the answer did not think, or it was not measured).
        assert store.get_message(other.id).reasoning_ms is None  # type: ignore[union-attr]
        with pytest.raises(ValueError, match="reasoning_msx"):
            store.update_message(answer.id, reasoning_msx=1.0)


def test_old_constructors_still_work() -> None:
    chat = Conversation(id=1, title="t", created_at=1.0, updated_at=2.0)
    assert chat.pinned is False and chat.settings == ConversationSettings()
    message = Message(1, 1, "user", "c", "", "done", *([None] * 8), 1.0, 1.0)
    assert message.reasoning_ms is None
