"""A conversation as a tree of messages: pure helpers over rows that know their parent.

Each message has a parent (None for a root). Regenerate, edit-and-resend and compare add
siblings; nothing is reordered. "Newest" means added last, which is the highest id: the
store gives every new message a higher id than any before it, so a child's id is always
higher than its parent's.

Works on anything with ``id`` and ``parent_id`` (store.Message, or a light row), so the
store and the view model use the same rules. Build a MessageTree once and ask it many
questions; the module functions are one-off shortcuts over a list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, Protocol, TypeVar

__all__ = [
    "MessageTree",
    "Node",
    "children_map",
    "newest_leaf",
    "path_to",
    "sibling_position",
]


class Node(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def parent_id(self) -> int | None: ...


N = TypeVar("N", bound=Node)


class MessageTree(Generic[N]):
    """The messages of one conversation, indexed by id and by parent.

    A message whose parent is not among them counts as a root of its own group: a partial
    list (a page, a damaged file) still gives an answer rather than an error.
    """

    def __init__(self, messages: Iterable[N]) -> None:
        self._by_id: dict[int, N] = {}
        for message in messages:
            self._by_id[message.id] = message
        self._children = children_map(self._by_id.values())

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, message_id: int) -> N:
        """The message with this id; KeyError if it is not in the tree."""
        return self._by_id[message_id]

    def roots(self) -> list[N]:
        return [m for m in self._by_id.values() if self._parent_key(m) is None]

    def children(self, message_id: int) -> list[N]:
        """The direct answers (or follow-ups) of a message, oldest first."""
        return list(self._children.get(message_id, ()))

    def siblings(self, message_id: int) -> list[N]:
        """The message and the others with the same parent, oldest first."""
        message = self._by_id[message_id]
        parent = self._parent_key(message)
        if parent is None:
            return self.roots()
        return list(self._children[parent])

    def sibling_position(self, message_id: int) -> tuple[int, int]:
        """(index, count), the index 1-based: the "2/3" of a branch switcher."""
        siblings = self.siblings(message_id)
        index = next(i for i, m in enumerate(siblings) if m.id == message_id)
        return index + 1, len(siblings)

    def path_to(self, leaf_id: int) -> list[N]:
        """Root -> ``leaf_id``; KeyError if the leaf is unknown, ValueError on a cycle
        (which the store never makes, but an imported file could describe)."""
        path: list[N] = []
        seen: set[int] = set()
        current: int | None = leaf_id
        while current is not None:
            if current in seen:
                raise ValueError(f"message {current} is its own ancestor")
            seen.add(current)
            message = self._by_id[current]
            path.append(message)
            current = self._parent_key(message)
        path.reverse()
        return path

    def newest_leaf(self, message_id: int) -> int:
        """The leaf reached from ``message_id`` by always taking the newest child."""
        if message_id not in self._by_id:
            raise KeyError(message_id)
        current = message_id
        seen = {current}
        while kids := self._children.get(current):
            current = kids[-1].id
            if current in seen:
                raise ValueError(f"message {current} is its own ancestor")
            seen.add(current)
        return current

    def _parent_key(self, message: N) -> int | None:
        parent = message.parent_id
        return parent if parent is not None and parent in self._by_id else None


def children_map(messages: Iterable[N]) -> dict[int | None, list[N]]:
    """Messages grouped by parent id (None: the roots), each group oldest first."""
    groups: dict[int | None, list[N]] = {}
    for message in sorted(messages, key=lambda m: m.id):
        groups.setdefault(message.parent_id, []).append(message)
    return groups


def path_to(messages: Iterable[N], leaf_id: int) -> list[N]:
    return MessageTree(messages).path_to(leaf_id)


def sibling_position(messages: Iterable[N], message_id: int) -> tuple[int, int]:
    return MessageTree(messages).sibling_position(message_id)


def newest_leaf(messages: Iterable[N], message_id: int) -> int:
    return MessageTree(messages).newest_leaf(message_id)
