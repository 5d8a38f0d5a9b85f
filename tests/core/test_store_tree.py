"""Conversations as trees in the store (schema 3), against real SQLite files in tmp_path."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltadesk.core.store import CURRENT_LEAF, Message, Store, StoreError
from deltadesk.core.tree import MessageTree


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "history.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path) as opened:
        yield opened


def ids(messages: list[Message]) -> list[int]:
    return [m.id for m in messages]


def leaf_of(store: Store, conversation_id: int) -> int | None:
    conversation = store.get_conversation(conversation_id)
    assert conversation is not None
    return conversation.active_leaf_id


def test_a_plain_add_continues_the_active_path(store: Store) -> None:
    chat = store.create_conversation()
    assert leaf_of(store, chat.id) is None and store.active_path(chat.id) == []
    first = store.add_message(chat.id, "user", "one")
    second = store.add_message(chat.id, "assistant", "two")
    third = store.add_message(chat.id, "user", "three", parent_id=CURRENT_LEAF)
    assert (first.parent_id, second.parent_id, third.parent_id) == (None, first.id, second.id)
    assert store.active_path(chat.id) == store.messages(chat.id) == [first, second, third]
    assert leaf_of(store, chat.id) == third.id
    assert store.get_message(third.id) == third


def test_an_explicit_parent_makes_a_sibling_and_the_new_active_branch(store: Store) -> None:
    chat = store.create_conversation()
    prompt = store.add_message(chat.id, "user", "Name a colour")
    red = store.add_message(chat.id, "assistant", "Red")
    follow_up = store.add_message(chat.id, "user", "Why?")
    blue = store.add_message(chat.id, "assistant", "Blue", parent_id=prompt.id)  # regenerate
    assert blue.parent_id == prompt.id
    assert store.active_path(chat.id) == [prompt, blue]
    assert store.siblings(red.id) == store.siblings(blue.id) == [red, blue]
    assert store.children(prompt.id) == [red, blue]
    assert store.children(red.id) == [follow_up]
    assert store.children(blue.id) == []
    # Nothing was deleted or reordered: every branch is still there, in id order.
    assert store.messages(chat.id) == [prompt, red, follow_up, blue]
    # The next plain add goes on from the new branch.
    again = store.add_message(chat.id, "user", "And another?")
    assert again.parent_id == blue.id


def test_parent_none_makes_a_root_beside_the_others(store: Store) -> None:
    chat = store.create_conversation()
    first = store.add_message(chat.id, "user", "hello")
    store.add_message(chat.id, "assistant", "hi")
    edited = store.add_message(chat.id, "user", "hello, edited", parent_id=None)
    assert edited.parent_id is None
    assert store.siblings(first.id) == [first, edited]
    assert store.active_path(chat.id) == [edited]


def test_roots_of_other_conversations_are_not_siblings(store: Store) -> None:
    chat, other = store.create_conversation(), store.create_conversation()
    mine = store.add_message(chat.id, "user", "mine")
    store.add_message(other.id, "user", "theirs")
    assert store.siblings(mine.id) == [mine]
    assert store.siblings(999) == [] and store.children(999) == []


def test_a_parent_from_another_conversation_or_none_at_all_is_refused(store: Store) -> None:
    chat, other = store.create_conversation(), store.create_conversation()
    elsewhere = store.add_message(other.id, "user", "elsewhere")
    before = store.messages(chat.id)
    with pytest.raises(StoreError, match=f"No message {elsewhere.id} in conversation {chat.id}"):
        store.add_message(chat.id, "assistant", "lost", parent_id=elsewhere.id)
    with pytest.raises(StoreError, match="No message 999"):
        store.add_message(chat.id, "assistant", "lost", parent_id=999)
    with pytest.raises(StoreError, match="No conversation 999"):
        store.add_message(999, "user", "nowhere", parent_id=None)
    assert store.messages(chat.id) == before == []
    assert leaf_of(store, other.id) == elsewhere.id


def branched(store: Store) -> dict[str, Message]:
    """u1 ─┬─ a1 ── u2 ─┬─ b1
    │              └─ b2
    └─ a1b   (the active leaf, added last)"""
    chat = store.create_conversation("branched")
    made: dict[str, Message] = {}
    made["u1"] = store.add_message(chat.id, "user", "u1")
    made["a1"] = store.add_message(chat.id, "assistant", "a1")
    made["u2"] = store.add_message(chat.id, "user", "u2")
    made["b1"] = store.add_message(chat.id, "assistant", "b1")
    made["b2"] = store.add_message(chat.id, "assistant", "b2", parent_id=made["u2"].id)
    made["a1b"] = store.add_message(chat.id, "assistant", "a1b", parent_id=made["u1"].id)
    return made


def test_switch_branch_follows_the_newest_child_down_to_a_leaf(store: Store) -> None:
    made = branched(store)
    chat_id = made["u1"].conversation_id
    assert ids(store.active_path(chat_id)) == [made["u1"].id, made["a1b"].id]

    leaf = store.switch_branch(made["a1"].id)
    assert leaf == made["b2"].id  # a1 -> u2 -> b2, the newer of u2's two answers
    assert leaf_of(store, chat_id) == leaf
    assert [m.content for m in store.active_path(chat_id)] == ["u1", "a1", "u2", "b2"]

    assert store.switch_branch(made["b1"].id) == made["b1"].id  # a leaf is its own end
    assert [m.content for m in store.active_path(chat_id)] == ["u1", "a1", "u2", "b1"]

    assert store.switch_branch(made["u1"].id) == made["a1b"].id  # the root: its newest child
    with pytest.raises(StoreError, match="No message 999"):
        store.switch_branch(999)
    assert leaf_of(store, chat_id) == made["a1b"].id


def test_switching_is_not_activity_and_does_not_move_the_conversation(store: Store) -> None:
    made = branched(store)
    chat_id = made["u1"].conversation_id
    newer = store.create_conversation("newer")
    before = store.get_conversation(chat_id)
    store.switch_branch(made["b1"].id)
    store.set_active_leaf(chat_id, made["a1"].id)
    after = store.get_conversation(chat_id)
    assert after is not None and before is not None
    assert after.updated_at == before.updated_at
    assert [c.id for c in store.list_conversations()] == [newer.id, chat_id]


def test_set_active_leaf_may_end_the_path_inside_the_tree(store: Store) -> None:
    made = branched(store)
    chat_id = made["u1"].conversation_id
    store.set_active_leaf(chat_id, made["u2"].id)
    assert [m.content for m in store.active_path(chat_id)] == ["u1", "a1", "u2"]
    # The next answer then hangs under u2: a third sibling of b1 and b2.
    b3 = store.add_message(chat_id, "assistant", "b3")
    assert ids(store.siblings(b3.id)) == [made["b1"].id, made["b2"].id, b3.id]


def test_set_active_leaf_refuses_a_message_of_another_conversation(store: Store) -> None:
    made = branched(store)
    chat_id = made["u1"].conversation_id
    other = store.create_conversation()
    stranger = store.add_message(other.id, "user", "stranger")
    with pytest.raises(StoreError, match="No message"):
        store.set_active_leaf(chat_id, stranger.id)
    with pytest.raises(StoreError, match="No message"):
        store.set_active_leaf(chat_id, 999)
    assert leaf_of(store, chat_id) == made["a1b"].id


def test_the_active_path_joins_the_parts_of_a_streaming_answer(store: Store) -> None:
    chat = store.create_conversation()
    prompt = store.add_message(chat.id, "user", "Tell me")
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.append_partial(answer.id, "Once", "hmm")
    store.append_partial(answer.id, " upon", "")
    path = store.active_path(chat.id)
    assert ids(path) == [prompt.id, answer.id]
    assert (path[-1].content, path[-1].reasoning) == ("Once upon", "hmm")
    assert store.children(prompt.id)[0].content == "Once upon"
    assert store.siblings(answer.id)[0].content == "Once upon"


def test_a_missing_leaf_falls_back_to_the_last_message(store: Store, db_path: Path) -> None:
    # A raw deletion (or an older tool) leaves active_leaf_id NULL: the path ends at the last
    # message, as the upgrade from a list does, and a plain add goes on from there.
    chat = store.create_conversation()
    store.add_message(chat.id, "user", "one")
    two = store.add_message(chat.id, "assistant", "two")
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE conversations SET active_leaf_id = NULL")
    conn.close()
    assert store.active_path(chat.id)[-1] == two
    assert store.add_message(chat.id, "user", "three").parent_id == two.id
    assert store.active_path(999) == []


def test_deleting_a_message_keeps_its_children_and_moves_the_leaf_up(store: Store) -> None:
    made = branched(store)
    chat_id = made["u1"].conversation_id
    store.delete_message(made["a1"].id)  # u2 moves up under u1
    assert store.get_message(made["u2"].id).parent_id == made["u1"].id  # type: ignore[union-attr]
    assert ids(store.children(made["u1"].id)) == [made["u2"].id, made["a1b"].id]
    store.delete_message(made["a1b"].id)  # the active leaf: the path now ends at u1
    assert ids(store.active_path(chat_id)) == [made["u1"].id]
    assert store.switch_branch(made["u1"].id) == made["b2"].id


def test_deleting_a_conversation_with_a_long_chain_takes_every_message(
    store: Store, db_path: Path
) -> None:
    # A cascade down parent_id would be one trigger level per message and fail past 1,000.
    long_chat = store.create_conversation("long")
    kept = store.create_conversation("kept")
    survivor = store.add_message(kept.id, "user", "stay")
    with store.transaction():
        for i in range(2500):
            store.add_message(long_chat.id, "user" if i % 2 == 0 else "assistant", f"m{i}")
    assert len(store.active_path(long_chat.id)) == 2500
    store.delete_conversation(long_chat.id)
    assert store.get_conversation(long_chat.id) is None
    assert store.messages(long_chat.id) == [] and store.active_path(long_chat.id) == []
    assert store.active_path(kept.id) == [survivor]
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def test_search_finds_every_branch(store: Store) -> None:
    chat = store.create_conversation()
    prompt = store.add_message(chat.id, "user", "colour?")
    red = store.add_message(chat.id, "assistant", "the colour red")
    blue = store.add_message(chat.id, "assistant", "the colour blue", parent_id=prompt.id)
    assert store.active_path(chat.id) == [prompt, blue]
    found = store.search_hits("the colour")
    assert {hit.message_id for hit in found} == {blue.id, red.id}


def test_the_tree_of_a_conversation_gives_sibling_positions(store: Store) -> None:
    made = branched(store)
    tree = store.tree(made["u1"].conversation_id)
    assert tree.sibling_position(made["a1"].id) == (1, 2)
    assert tree.sibling_position(made["a1b"].id) == (2, 2)
    assert tree.sibling_position(made["b2"].id) == (2, 2)
    assert tree.sibling_position(made["u1"].id) == (1, 1)
    positions = store.sibling_positions(made["u1"].conversation_id)
    assert positions == {m.id: tree.sibling_position(m.id) for m in made.values()}
    assert store.sibling_positions(999) == {}


def test_message_counts_count_every_branch(store: Store) -> None:
    made = branched(store)
    empty = store.create_conversation("empty")
    other = store.create_conversation("other")
    store.add_message(other.id, "user", "one")
    counts = store.message_counts()
    assert counts == {made["u1"].conversation_id: len(made), other.id: 1}
    assert counts.get(empty.id, 0) == 0


def test_figures_are_stored_on_the_message(store: Store) -> None:
    chat = store.create_conversation()
    answer = store.add_message(chat.id, "assistant", status="streaming")
    store.finish_answer(
        answer.id,
        content="Done.",
        reasoning="",
        status="done",
        ttft_ms=812.0,
        tokens_per_second=41.5,
        estimated_tokens=230,
    )
    stored = store.get_message(answer.id)
    assert stored is not None
    assert (stored.ttft_ms, stored.tokens_per_second, stored.estimated_tokens) == (812.0, 41.5, 230)
    store.update_message(answer.id, tokens_per_second=None, estimated_tokens=7)
    again = store.get_message(answer.id)
    assert again is not None and (again.tokens_per_second, again.estimated_tokens) == (None, 7)
    with pytest.raises(ValueError, match="cannot update"):
        store.update_message(answer.id, parent_id=None)  # a message never moves in the tree


# -- many operations at random, checked against the pure tree ----------------------------------

OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["add", "add_under", "add_root", "switch", "leaf"]), st.integers()),
    min_size=8,
    max_size=40,
)


@settings(max_examples=40)
@given(OPERATIONS)
def test_random_operations_keep_a_sound_tree(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int]]
) -> None:
    with Store(tmp_path_factory.mktemp("tree") / "history.sqlite3") as store:
        chat = store.create_conversation()
        expected_leaf: int | None = None
        for name, pick in ops:
            existing = [m.id for m in store.messages(chat.id)]
            chosen = existing[pick % len(existing)] if existing else None
            if name == "add" or chosen is None:
                expected_leaf = store.add_message(chat.id, "user", "x").id
            elif name == "add_under":
                expected_leaf = store.add_message(chat.id, "user", "x", parent_id=chosen).id
            elif name == "add_root":
                expected_leaf = store.add_message(chat.id, "user", "x", parent_id=None).id
            elif name == "switch":
                expected_leaf = store.switch_branch(chosen)
                assert expected_leaf == MessageTree(store.messages(chat.id)).newest_leaf(chosen)
            else:
                store.set_active_leaf(chat.id, chosen)
                expected_leaf = chosen
            everything = store.messages(chat.id)
            assert all(m.parent_id is None or m.parent_id < m.id for m in everything)
            assert leaf_of(store, chat.id) == expected_leaf
            tree = MessageTree(everything)
            assert store.active_path(chat.id) == tree.path_to(expected_leaf)
            assert store.sibling_positions(chat.id) == {
                m.id: tree.sibling_position(m.id) for m in everything
            }


def test_add_message_returns_what_is_stored(store: Store) -> None:
    chat = store.create_conversation()
    prompt = store.add_message(chat.id, "user", "hi")
    answer = store.add_message(
        chat.id, "assistant", status="streaming", profile="Groq", model="llama"
    )
    assert store.get_message(answer.id) == answer == replace(answer, parent_id=prompt.id)


# -- two instances adding to one conversation -----------------------------------------------------

ADDS_PER_PROCESS = 150


def add_under_the_leaf(path: str, name: str, meet: multiprocessing.synchronize.Barrier) -> None:
    """One instance's work in a child process: plain adds to conversation 1, as fast as it can
    while the other does the same. They meet at the start and halfway, so however they are
    scheduled, each one's first half comes before the other's second half: they interleave."""
    with Store(Path(path)) as store:
        for i in range(ADDS_PER_PROCESS):
            if i in (0, ADDS_PER_PROCESS // 2):
                meet.wait(timeout=60)
            store.add_message(1, "user", f"{name}{i}")


def test_two_instances_adding_at_once_make_one_chain(db_path: Path) -> None:
    # The leaf is read under the write lock: two adds can never both hang under the same leaf
    # (which would make an accidental branch and hide one of them from the path).
    with Store(db_path) as store:
        chat = store.create_conversation("shared")
        first = store.add_message(chat.id, "user", "start")
    context = multiprocessing.get_context("spawn")
    meet = context.Barrier(2)
    workers = [
        context.Process(target=add_under_the_leaf, args=(str(db_path), name, meet)) for name in "AB"
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with Store(db_path) as store:
        everything = store.messages(chat.id)
        assert len(everything) == 1 + 2 * ADDS_PER_PROCESS
        assert [m.parent_id for m in everything] == [None, *(m.id for m in everything[:-1])]
        assert store.active_path(chat.id) == everything
        assert everything[0] == first
        contents = [m.content for m in everything]
        for name in "AB":  # each instance's own adds in its own order
            mine = [c for c in contents if c.startswith(name)]
            assert mine == [f"{name}{i}" for i in range(ADDS_PER_PROCESS)]
        assert any(a[0] != b[0] for a, b in pairwise(contents[1:]))  # they did interleave
