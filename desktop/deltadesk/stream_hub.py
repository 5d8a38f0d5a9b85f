"""The streams' side of the controller: its signals, the ONE frame clock and waiting clock
that serve every running answer, and what the answers tell (the StreamOutlet of
answer_stream.py), routed by message id so nothing lands in the wrong chat.

ChatController (controller.py) builds on it with the sessions' actions. Qt and asyncio meet
here and there only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from deltadesk.answer_stream import AnswerStream
from deltadesk.core.client import ChatClient, ChatMessage, RequestOptions
from deltadesk.core.errors import ChatError
from deltadesk.core.events import StreamEvent
from deltadesk.core.profiles import Profile
from deltadesk.core.store import Message, Store
from deltadesk.core.text_safety import replace_lone_surrogates
from deltadesk.history_keeper import HistoryKeeper
from deltadesk.live_answer import LiveAnswer
from deltadesk.sessions import Session, Sessions
from deltadesk.waiting_note import TICK_MS

FRAME_INTERVAL_MS = 33  # ~30 Hz: as often as a person can see text change
FIGURES_INTERVAL_S = 1.0  # how often the figures under a streaming answer move
# How often the status line moves while an answer streams: a few times a second can be read,
# and each change repaints the status bar (with the window behind it) on every frame.
STATUS_INTERVAL_S = 0.25


class StreamHub(QObject):
    """Signals, clocks and running answers of every session."""

    conversation_changed = Signal(int)  # the new chat in view became this conversation
    # store.Message: a prompt, or an answer about to stream (a continued one, with its text)
    message_added = Signal(object)
    text_appended = Signal(int, str)  # message id, buffered text since the last frame
    reasoning_appended = Signal(int, str)
    finished = Signal(int, str)  # message id, status: done | stopped
    # message id, status (failed | interrupted | stopped by the size cap), kind, message
    failed = Signal(int, str, str, str)
    stats_changed = Signal(object)  # the status line's StreamStats (the chat in view), or None
    busy_changed = Signal(bool)  # whether the chat in view streams (its button is Stop)
    # conversation id, whether it streams, whether an answer ended unseen (sidebar marks)
    marks_changed = Signal(int, bool, bool)
    figures_changed = Signal(int, object)  # message id, its StreamStats, live and at the end
    branch_changed = Signal(int)  # conversation id: its active path changed (choose)
    # conversation id, the prompt (Message), its answers (list[Message]) streaming side by side
    compare_started = Signal(int, object, object)
    waiting_note = Signal(int, object)  # message id, the line in its place (str) or None
    history_notice = Signal(object)  # what the user must know about saving (str), or None

    def __init__(
        self,
        store: Store,
        client_for: Callable[[Profile], ChatClient],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._client_for = client_for
        self.sessions = Sessions()
        self._in_view = self.sessions.get(None)
        self.conversation_id: int | None = None  # the conversation in view
        self._closing = False
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_INTERVAL_MS)
        self._frame.timeout.connect(self._on_frame)
        self._wait_clock = QTimer(self)
        self._wait_clock.setInterval(TICK_MS)
        self._wait_clock.timeout.connect(self._on_wait_tick)
        self.history = HistoryKeeper(store, self)
        self.history.notice.connect(self.history_notice)

    # -- running answers -------------------------------------------------------------------

    def _start(
        self,
        session: Session,
        answer: Message,
        profile: Profile,
        request: list[ChatMessage],
        options: RequestOptions | None = None,
    ) -> AnswerStream:
        stream = AnswerStream(
            conversation_id=answer.conversation_id,
            message_id=answer.id,
            profile=profile,
            request=request,
            options=options,
            history=self.history,
            outlet=self,
            text_so_far=answer.content,
            reasoning_so_far=answer.reasoning,
        )
        was_streaming = session.streaming
        self.sessions.started(session, stream)
        if self._closing:
            stream.closing = True
        stream.start(self._client_for)
        if not self._frame.isActive():
            self._frame.start()
            self._wait_clock.start()
        if not was_streaming:
            self._say_streaming(session, True)
        if session is self._in_view:
            self.stats_changed.emit(session.figures)
        return stream

    async def _outcome(self, streams: Sequence[AnswerStream]) -> list[str]:
        tasks = [stream.task for stream in streams if stream.task is not None]
        # Shielded: whoever awaits send() going away must not cut the answers short.
        return list(await asyncio.shield(asyncio.gather(*tasks)))

    def _say_streaming(self, session: Session, streaming: bool) -> None:
        if session is self._in_view:
            self.busy_changed.emit(streaming)
        self._say_marks(session)

    def _say_marks(self, session: Session) -> None:
        if session.conversation_id is not None:
            self.marks_changed.emit(session.conversation_id, session.streaming, session.unseen)

    # -- the clocks: one for every stream --------------------------------------------------

    def _on_frame(self) -> None:
        for stream in self.sessions.streams():
            stream.flush()

    def _on_wait_tick(self) -> None:
        for stream in self.sessions.streams():
            stream.show_waiting()

    # -- what the streams tell (StreamOutlet) ----------------------------------------------

    @property
    def take(self) -> Callable[[LiveAnswer, StreamEvent], None]:
        # Looked up once per stream: the bench's probe puts its own _take on the instance.
        return self._take

    def _take(self, live: LiveAnswer, event: StreamEvent) -> None:
        stream = self.sessions.stream_of(live.id)
        if stream is not None:
            stream.take(event)

    def handed_over(self, stream: AnswerStream, text: str, reasoning: str) -> None:
        """What arrived since the last frame goes to the view in one piece per kind."""
        if reasoning:
            self.reasoning_appended.emit(stream.message_id, reasoning)
        if text:
            self.text_appended.emit(stream.message_id, text)
        self.figures_moved(stream)  # thinking counts too: the figures move

    def waiting_changed(self, stream: AnswerStream, note: str | None) -> None:
        self.waiting_note.emit(stream.message_id, note)

    def figures_moved(self, stream: AnswerStream) -> None:
        # The status line a few times a second; the line under the answer (a document edit
        # in the view) about once a second; both at once at the first token and the end.
        now = time.monotonic()
        ended = stream.stats.status != "streaming"
        if ended or now - stream.figures_sent_at >= FIGURES_INTERVAL_S:
            stream.figures_sent_at = now
            self.figures_changed.emit(stream.message_id, stream.stats)
        if self._in_view.figures is stream.stats and (
            ended or now - stream.status_sent_at >= STATUS_INTERVAL_S
        ):
            stream.status_sent_at = now
            self.stats_changed.emit(stream.stats)

    def ended(self, stream: AnswerStream, status: str, error: ChatError | None) -> None:
        session = self.sessions.ended(stream)
        if not self.sessions.streams():
            self._frame.stop()
            self._wait_clock.stop()
        self.figures_moved(stream)
        if error is None:
            self.finished.emit(stream.message_id, status)
        else:
            message = replace_lone_surrogates(error.message)
            self.failed.emit(stream.message_id, status, error.kind.value, message)
        if session is not None and not session.streaming:
            session.unseen = session is not self._in_view
            self._say_streaming(session, False)

    async def shutdown(self) -> None:
        """Ends every running answer (kept as interrupted) before the app quits, and makes a
        last try at saving what could not be saved."""
        self._closing = True
        streams = self.sessions.streams()
        for stream in streams:
            stream.close()
        tasks = [stream.task for stream in streams if stream.task is not None]
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        self.history.last_try()
