"""The conversation in view as the chat view shows it: the active path, each message with its
place among its siblings (the ◀ 2/3 ▶ switcher) and the figures under each answer. Widgets
never see the store: this turns its rows into MessageView."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from deltadesk.answer_saving import FinalAnswer
from deltadesk.core.store import Message, Store
from deltadesk.figures import message_figures
from deltadesk.ui.chat_document import MessageView


@dataclass(frozen=True)
class PathInView:
    """The active path: views of its stored messages, and the ids still streaming (shown
    live by the caller), each with its place among its siblings."""

    views: list[MessageView]
    streaming: list[int]
    positions: dict[int, tuple[int, int]]


def path_in_view(
    store: Store,
    conversation_id: int,
    *,
    is_streaming: Callable[[int], bool],
    unsaved: Callable[[int], FinalAnswer | None],
) -> PathInView:
    # The path alone (not every branch's text) and the sibling places from ids alone.
    path = store.active_path(conversation_id)
    places = store.sibling_positions(conversation_id)
    positions = {m.id: places.get(m.id, (1, 1)) for m in path}
    views = [
        to_message_view(m, unsaved(m.id), positions[m.id]) for m in path if not is_streaming(m.id)
    ]
    streaming = [m.id for m in path if is_streaming(m.id)]
    return PathInView(views, streaming, positions)


def to_message_view(
    message: Message, unsaved: FinalAnswer | None = None, position: tuple[int, int] = (1, 1)
) -> MessageView:
    """A stored message as the view shows it; an answer that ended but is not in the history
    yet (the disk full) is shown as it ended."""
    index, count = position
    if unsaved is not None:
        error = unsaved.error
        return MessageView(
            id=message.id,
            role=message.role,
            content=unsaved.content,
            reasoning=unsaved.reasoning,
            status=unsaved.status,
            error_kind=error.kind.value if error else None,
            error_message=error.message if error else None,
            sibling_index=index,
            sibling_count=count,
            created_at=message.created_at,
            reasoning_ms=unsaved.reasoning_ms or message.reasoning_ms,
        )
    return MessageView(
        id=message.id,
        role=message.role,
        content=message.content,
        reasoning=message.reasoning,
        status=message.status,
        error_kind=message.error_kind,
        error_message=message.error_message,
        sibling_index=index,
        sibling_count=count,
        figures=message_figures(message),
        created_at=message.created_at,
        reasoning_ms=message.reasoning_ms,
    )
