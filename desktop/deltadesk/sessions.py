"""A session per conversation: its draft, its running answer(s), its figures, its marks.

The controller keeps them in a `Sessions` map; the one in view is whatever the window shows.
A new chat has a session too (no conversation yet, so no id): when its first prompt makes the
conversation, that session takes the new id, and the next new chat gets a fresh one. No Qt,
no timers here: the controller's one frame clock serves the streams of every session.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from deltadesk.answer_stream import AnswerStream
from deltadesk.core.conversation_settings import ConversationSettings
from deltadesk.live_answer import StreamStats


@dataclass(eq=False)
class Session:
    """One conversation as the window works on it, shown or not."""

    conversation_id: int | None
    draft: str = ""
    streams: dict[int, AnswerStream] = field(default_factory=dict)  # by message id
    # A prompt being written (before its answer streams): a second Enter must not send twice.
    preparing: bool = False
    figures: StreamStats | None = None  # the latest answer's, for the status line
    unseen: bool = False  # an answer ended while another conversation was in view
    # Its settings as set in this run (a new chat's wait here for its conversation); None:
    # as the history keeps them (see ChatController.settings_of).
    settings: ConversationSettings | None = None
    settings_unsaved: bool = False  # the history could not take them: kept here for the run

    @property
    def busy(self) -> bool:
        return self.preparing or bool(self.streams)

    @property
    def streaming(self) -> bool:
        return bool(self.streams)

    def lead(self) -> AnswerStream | None:
        """The answer the chat view streams: the first started of the running ones."""
        return next(iter(self.streams.values()), None)

    def is_idle(self) -> bool:
        """Nothing to keep: no draft, nothing running, nothing unseen, no unsaved settings."""
        return not (self.busy or self.draft or self.unseen or self.settings_unsaved)


class Sessions:
    """conversation id -> Session, and the session of the new chat (not saved yet)."""

    def __init__(self) -> None:
        self._by_id: dict[int, Session] = {}
        self._new_chat = Session(None)
        self._running: dict[int, tuple[Session, AnswerStream]] = {}  # by message id

    def get(self, conversation_id: int | None) -> Session:
        if conversation_id is None:
            return self._new_chat
        session = self._by_id.get(conversation_id)
        if session is None:
            session = self._by_id[conversation_id] = Session(conversation_id)
        return session

    def find(self, conversation_id: int) -> Session | None:
        return self._by_id.get(conversation_id)

    def adopt(self, session: Session, conversation_id: int) -> None:
        """The new chat's first prompt made its conversation: the session is that one's now."""
        session.conversation_id = conversation_id
        self._by_id[conversation_id] = session
        if session is self._new_chat:
            self._new_chat = Session(None)

    def forget(self, conversation_id: int) -> None:
        """The conversation was deleted."""
        self._by_id.pop(conversation_id, None)

    def drop_if_idle(self, conversation_id: int | None) -> None:
        """Keeps the map as small as the conversations that have something going on."""
        if conversation_id is None:
            return
        session = self._by_id.get(conversation_id)
        if session is not None and session.is_idle():
            del self._by_id[conversation_id]

    def started(self, session: Session, stream: AnswerStream) -> None:
        session.streams[stream.message_id] = stream
        session.figures = stream.stats if len(session.streams) == 1 else session.figures
        self._running[stream.message_id] = (session, stream)

    def ended(self, stream: AnswerStream) -> Session | None:
        """The session the answer belonged to (None if it was not running)."""
        session, _stream = self._running.pop(stream.message_id, (None, None))
        if session is not None:
            session.streams.pop(stream.message_id, None)
        return session

    def streams(self) -> list[AnswerStream]:
        """Every running answer of every session."""
        return [stream for _session, stream in self._running.values()]

    def stream_of(self, message_id: int) -> AnswerStream | None:
        running = self._running.get(message_id)
        return running[1] if running is not None else None

    def session_of(self, stream: AnswerStream) -> Session | None:
        running = self._running.get(stream.message_id)
        return running[0] if running is not None else None

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))
