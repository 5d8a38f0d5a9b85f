"""The pure rules of the message tree (core/tree.py), on hand-made rows."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deltadesk.core.history_rows import Message
from deltadesk.core.tree import (
    MessageTree,
    children_map,
    newest_leaf,
    path_to,
    sibling_position,
)


@dataclass(frozen=True)
class Row:
    id: int
    parent_id: int | None


# 1 ─┬─ 2 ─┬─ 4 ── 7
#    │     └─ 6
#    └─ 3 ── 5
# 8 (a second root)
ROWS = [
    Row(1, None),
    Row(2, 1),
    Row(3, 1),
    Row(4, 2),
    Row(5, 3),
    Row(6, 2),
    Row(7, 4),
    Row(8, None),
]


def ids(rows: list[Row]) -> list[int]:
    return [row.id for row in rows]


def test_children_map_groups_by_parent_oldest_first() -> None:
    groups = children_map(reversed(ROWS))  # the input order does not matter
    assert {parent: ids(kids) for parent, kids in groups.items()} == {
        None: [1, 8],
        1: [2, 3],
        2: [4, 6],
        3: [5],
        4: [7],
    }


def test_path_to_runs_from_the_root_to_the_leaf() -> None:
    assert ids(path_to(ROWS, 7)) == [1, 2, 4, 7]
    assert ids(path_to(ROWS, 5)) == [1, 3, 5]
    assert ids(path_to(ROWS, 1)) == [1]
    assert ids(path_to(ROWS, 8)) == [8]
    with pytest.raises(KeyError):
        path_to(ROWS, 99)


def test_sibling_position_is_one_based_among_the_same_parent() -> None:
    assert sibling_position(ROWS, 2) == (1, 2)
    assert sibling_position(ROWS, 3) == (2, 2)
    assert sibling_position(ROWS, 6) == (2, 2)
    assert sibling_position(ROWS, 7) == (1, 1)  # an only child: no switcher
    assert sibling_position(ROWS, 8) == (2, 2)  # roots are siblings of each other


def test_newest_leaf_follows_the_newest_child_each_time() -> None:
    assert newest_leaf(ROWS, 1) == 5  # 1 -> 3 (newer than 2) -> 5
    assert newest_leaf(ROWS, 2) == 6  # 2 -> 6 (newer than 4), not the deeper 7
    assert newest_leaf(ROWS, 7) == 7
    with pytest.raises(KeyError):
        newest_leaf(ROWS, 99)


def test_tree_answers_children_and_siblings() -> None:
    tree = MessageTree(ROWS)
    assert ids(tree.children(2)) == [4, 6]
    assert tree.children(7) == []
    assert ids(tree.siblings(4)) == [4, 6]
    assert ids(tree.roots()) == [1, 8]
    assert 4 in tree and 99 not in tree and len(tree) == len(ROWS)


def test_a_message_whose_parent_is_missing_counts_as_a_root() -> None:
    # A page of a conversation, or a damaged file: an answer, not an exception.
    rows = [Row(5, 3), Row(6, 3), Row(9, None)]
    tree = MessageTree(rows)
    assert ids(tree.path_to(5)) == [5]
    assert sibling_position(rows, 9) == (3, 3)
    assert ids(tree.roots()) == [5, 6, 9]


def test_a_cycle_is_refused_not_looped_over() -> None:
    rows = [Row(1, 3), Row(2, 1), Row(3, 2)]
    with pytest.raises(ValueError, match="own ancestor"):
        path_to(rows, 3)


def test_store_messages_are_tree_nodes() -> None:
    def message(message_id: int, parent_id: int | None) -> Message:
        return Message(
            message_id, 1, "user", "", "", "done", None, None, None, None, None, None, None,
            None, 0.0, 0.0, parent_id=parent_id,
        )  # fmt: skip

    messages = [message(1, None), message(2, 1), message(3, 1)]
    assert [m.id for m in path_to(messages, 3)] == [1, 3]
    assert sibling_position(messages, 2) == (1, 2)


@st.composite
def trees(draw: st.DrawFn) -> list[Row]:
    """Random trees as the store makes them: each new row's parent is an older row or none."""
    count = draw(st.integers(min_value=1, max_value=40))
    rows: list[Row] = []
    for new_id in range(1, count + 1):
        parent = draw(st.none() | st.sampled_from([r.id for r in rows])) if rows else None
        rows.append(Row(new_id, parent))
    return rows


@given(trees())
def test_every_path_is_a_chain_of_parents_and_positions_add_up(rows: list[Row]) -> None:
    tree = MessageTree(rows)
    for row in rows:
        path = tree.path_to(row.id)
        assert path[0].parent_id is None and path[-1] == row
        assert all(child.parent_id == parent.id for parent, child in pairwise(path))
        index, count = tree.sibling_position(row.id)
        assert 1 <= index <= count == len(tree.siblings(row.id))
        leaf = tree.newest_leaf(row.id)
        assert tree.children(leaf) == [] and row in tree.path_to(leaf)
    assert sum(len(kids) for kids in children_map(rows).values()) == len(rows)
