"""ChatController: the one place where asyncio (the stream) and Qt (signals, timers) meet.

It owns the streaming task. Tokens are gathered in a buffer and flushed to the view on a
frame timer, so rendering happens at most ~30 times a second however fast tokens arrive.
The partial answer is saved about once a second (appending what is new) and at every end;
what the history cannot take is kept and said (history_keeper.py). Until the first token,
a live line says how long it has waited or when it tries again (waiting_note.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable

from PySide6.QtCore import QObject, QTimer, Signal

from deltadesk.answer_saving import FinalAnswer
from deltadesk.core.client import ChatClient, ChatMessage
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import (
    Finished,
    ReasoningDelta,
    Retrying,
    StreamEvent,
    TextDelta,
    Usage,
)
from deltadesk.core.profiles import Profile
from deltadesk.core.store import Message, Store
from deltadesk.core.text_safety import replace_lone_surrogates
from deltadesk.history_keeper import HistoryKeeper
from deltadesk.live_answer import LiveAnswer, StreamStats
from deltadesk.waiting_note import TICK_MS, WaitingClock

log = logging.getLogger(__name__)

FRAME_INTERVAL_MS = 33  # ~30 Hz: as often as a person can see text change
MAX_BUSY_S = 0.004  # the longest the stream may keep the GUI thread before letting Qt run
SAVE_INTERVAL_S = 1.0
BUSY_SAVE_INTERVAL_S = 3.0
TITLE_LENGTH = 60
CLOSED_DURING_ANSWER = "Interrupted: Deltadesk was closed during the answer"
CONTINUE_PROMPT = "Continue exactly where you stopped, without repeating anything."

# What a previous answer contributes to the history sent with the next prompt.
SENDABLE_STATUSES = frozenset({"done", "stopped", "interrupted"})

__all__ = ["ChatController", "StreamStats"]


class ChatController(QObject):
    conversation_changed = Signal(int)  # the controller moved to (or created) this conversation
    message_added = Signal(object)  # store.Message: a prompt, or an empty answer about to stream
    message_removed = Signal(int)  # message id (a failed answer replaced by Retry)
    text_appended = Signal(int, str)  # message id, buffered text since the last frame
    reasoning_appended = Signal(int, str)
    finished = Signal(int, str)  # message id, status: done | stopped
    # message id, status (failed | interrupted | stopped by the size cap), kind, message
    failed = Signal(int, str, str, str)
    stats_changed = Signal(object)  # StreamStats
    busy_changed = Signal(bool)
    waiting_note = Signal(int, object)  # message id, the line in its place (str) or None
    history_notice = Signal(object)  # what the user must know about saving (str), or None

    def __init__(
        self,
        store: Store,
        client_for: Callable[[Profile], ChatClient],
        active_profile: Callable[[], Profile],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._client_for = client_for
        self._active_profile = active_profile
        self.conversation_id: int | None = None
        self._live: LiveAnswer | None = None
        self._task: asyncio.Task[str] | None = None
        self._busy = False
        self._stop_requested = False
        self._closing = False
        self.stats = StreamStats()
        self._frame = QTimer(self)
        self._frame.setInterval(FRAME_INTERVAL_MS)
        self._frame.timeout.connect(self._flush)
        self._wait_clock = QTimer(self)
        self._wait_clock.setInterval(TICK_MS)
        self._wait_clock.timeout.connect(self._show_waiting)
        self.history = HistoryKeeper(store, self)
        self.history.notice.connect(self.history_notice)

    # -- state -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def streaming_message_id(self) -> int | None:
        return self._live.id if self._live else None

    def live_text(self) -> tuple[str, str]:
        """(answer, reasoning) of the streaming message as far as the view has been given
        them; what is still buffered follows with the next frame."""
        return self._live.shown_so_far() if self._live is not None else ("", "")

    def unsaved_answer(self, message_id: int) -> FinalAnswer | None:
        """An answer that ended but is not in the history yet: the view shows this instead."""
        return self.history.unsaved_answer(message_id)

    def open_conversation(self, conversation_id: int | None) -> None:
        self.conversation_id = conversation_id

    # -- actions ---------------------------------------------------------------------------

    async def send(self, text: str) -> str | None:
        """Stores the prompt and streams the answer; returns its final status (None if ignored
        or if the history could not take the prompt, which is said)."""
        text = replace_lone_surrogates(text.strip())  # pasted text can hold a lone one
        if not text or self.busy:
            return None
        if self.conversation_id is None:
            title = " ".join(text.split())[:TITLE_LENGTH]
            conversation = await self.history.write(lambda: self._store.create_conversation(title))
            if conversation is None:
                return None
            self.conversation_id = conversation.id
            self.conversation_changed.emit(self.conversation_id)
        conversation_id = self.conversation_id
        prompt = await self.history.write(
            lambda: self._store.add_message(conversation_id, "user", text)
        )
        if prompt is None:
            return None
        self.message_added.emit(prompt)
        return await self._answer()

    async def retry(self, message_id: int) -> str | None:
        """Replaces a failed or interrupted answer with a new one."""
        message = self._store.get_message(message_id)
        if self.busy or message is None or message.role != "assistant":
            return None
        self.conversation_id = message.conversation_id
        if not await self.history.write(lambda: _deleted(self._store, message_id)):
            return None
        self.message_removed.emit(message_id)
        return await self._answer()

    async def continue_(self, message_id: int) -> str | None:
        """Asks the model to go on from an interrupted answer, kept as it is."""
        message = self._store.get_message(message_id)
        if self.busy or message is None:
            return None
        conversation_id = self.conversation_id = message.conversation_id
        prompt = await self.history.write(
            lambda: self._store.add_message(conversation_id, "user", CONTINUE_PROMPT)
        )
        if prompt is None:
            return None
        self.message_added.emit(prompt)
        return await self._answer()

    def stop(self) -> None:
        """Stop means closed: cancelling the task closes the HTTP stream (see ChatClient)."""
        if self._busy and self._task is not None and not self._task.done():
            self._stop_requested = True
            self._task.cancel()

    # -- streaming -------------------------------------------------------------------------

    def _history(self) -> list[ChatMessage]:
        assert self.conversation_id is not None
        return [
            {"role": m.role, "content": m.content}
            for m in self._store.messages(self.conversation_id)
            if m.role == "user" or (m.content and m.status in SENDABLE_STATUSES)
        ]

    async def _answer(self) -> str | None:
        conversation_id = self.conversation_id
        assert conversation_id is not None
        profile = self._active_profile()
        history = self._history()
        answer = await self.history.write(
            lambda: self._store.add_message(
                conversation_id,
                "assistant",
                status="streaming",
                profile=profile.name,
                model=profile.model,
            )
        )
        if answer is None:
            return None
        self.message_added.emit(answer)
        self.history.starting_answer()
        self._stop_requested = False
        self._set_busy(True)
        self._task = asyncio.ensure_future(self._stream(answer, profile, history))
        # Shielded: whoever awaits send() going away must not cut the answer short.
        return await asyncio.shield(self._task)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_changed.emit(busy)

    def _new_live(self, answer: Message) -> LiveAnswer:
        started = time.monotonic()
        return LiveAnswer(
            id=answer.id,
            started=started,
            saver=self.history.saver_for(answer.id),
            waiting=WaitingClock(started=started),
            last_saved=started,
        )

    async def _stream(self, answer: Message, profile: Profile, history: list[ChatMessage]) -> str:
        live = self._live = self._new_live(answer)
        self.stats = StreamStats(model=profile.model)
        self._frame.start()
        self._wait_clock.start()
        status, error = "done", None
        try:
            client = self._client_for(profile)
            events = client.stream(history)
            try:
                await self._consume(live, events)
            finally:
                await events.aclose()
        except asyncio.CancelledError:
            # A user stop ends as `stopped`; anything else cancelling us (the app closing)
            # leaves an honest `interrupted` with the partial kept.
            status = "stopped" if self._stop_requested else "interrupted"
            if not self._stop_requested:
                error = closed_during_answer()
        except ChatError as exc:
            status, error = _status_after(exc, live), exc
        except Exception as exc:  # a bug must not lose the answer: keep it and say so
            status = "interrupted" if live.text else "failed"
            if self._closing:  # whatever broke while the app quits, the user closed it
                log.info("the answer ended with %r while the app closed", exc)
                status, error = "interrupted", closed_during_answer()
            else:
                log.exception("streaming failed")
                error = ChatError(ErrorKind.OTHER, f"Unexpected error: {exc}")
        finally:
            self._finish(live, status, error)
        return status

    def _finish(self, live: LiveAnswer, status: str, error: ChatError | None) -> None:
        """However the answer ended, and whatever ending it raises, the window is not left
        busy: a stuck Stop button would be the only way out (by killing the app)."""
        try:
            self._frame.stop()
            self._wait_clock.stop()
            self._flush()
            self._end(live, status, error)
        except Exception:
            log.exception("ending the answer failed")
        finally:
            self._live = None
            self._set_busy(False)

    async def _consume(self, live: LiveAnswer, events: AsyncIterator[StreamEvent]) -> None:
        # One socket read can hold hundreds of chunks, which the SDK hands over without ever
        # suspending; without a pause now and then the GUI thread would not paint, run the
        # frame timer or see Stop until the whole burst is parsed.
        pause_at = time.monotonic() + MAX_BUSY_S
        async for event in events:
            self._take(live, event)
            now = time.monotonic()
            if now >= pause_at:
                await asyncio.sleep(0)
                pause_at = now + MAX_BUSY_S

    def _take(self, live: LiveAnswer, event: StreamEvent) -> None:
        """Buffers one event; the frame timer hands the buffer to the view."""
        if isinstance(event, TextDelta | ReasoningDelta):
            # The client already gives valid text; this keeps the view and the history
            # safe even if it did not (a lone surrogate cannot be encoded, so not stored).
            text = replace_lone_surrogates(event.text)
            first = self._first_token(live)
            if isinstance(event, TextDelta):
                live.text.append(text)
                live.unsent_text.append(text)
                live.saver.add(text=text)
            else:
                live.reasoning.append(text)
                live.unsent_reasoning.append(text)
                live.saver.add(reasoning=text)
            self.stats.tokens += 1
            if first:  # show the first words at once, not at the next frame tick
                self._flush()
        elif isinstance(event, Usage):
            live.usage = event
        elif isinstance(event, Retrying):
            live.waiting.retrying(event)
            self.stats.note = f"retrying in {event.delay:.1f} s ({event.reason})"
            self.stats_changed.emit(self.stats)
            self._show_waiting()
        elif isinstance(event, Finished) and event.reason == "length":
            self.stats.note = "the answer hit the model's length limit"

    def _first_token(self, live: LiveAnswer) -> bool:
        """Notes the time of the first token; True if this is it."""
        if live.first_token_at is not None:
            return False
        live.first_token_at = time.monotonic()
        live.waiting.got_token = True
        self._wait_clock.stop()
        self._show_waiting()
        self.stats.ttft_ms = (live.first_token_at - live.started) * 1000
        self.stats.note = ""
        return True

    def _show_waiting(self) -> None:
        """The live line in the answer's place until its first token (sent when it changes)."""
        live = self._live
        if live is None:
            return
        note = live.waiting.note()
        if note != live.waiting_note:
            live.waiting_note = note
            self.waiting_note.emit(live.id, note)

    def _flush(self) -> None:
        live = self._live
        if live is None:
            return
        if live.unsent_text or live.unsent_reasoning:
            self._hand_over(live)
        self._save_now_and_then(live)

    def _hand_over(self, live: LiveAnswer) -> None:
        """What arrived since the last frame goes to the view in one piece per kind."""
        if live.unsent_reasoning:
            self.reasoning_appended.emit(live.id, "".join(live.unsent_reasoning))
            live.unsent_reasoning.clear()
        if live.unsent_text:
            self.text_appended.emit(live.id, "".join(live.unsent_text))
            live.unsent_text.clear()
        self.stats.update_rate(live.first_token_at)
        self.stats_changed.emit(self.stats)  # thinking counts too: the status line moves

    def _save_now_and_then(self, live: LiveAnswer) -> None:
        """What arrived since the last save goes to disk about once a second, so a crash
        loses little; a save that fails keeps it for the next one."""
        now = time.monotonic()
        # While the history is locked, each try holds the GUI thread for the short busy
        # timeout: try less often until it is free again.
        interval = BUSY_SAVE_INTERVAL_S if live.saver.problem is not None else SAVE_INTERVAL_S
        if now - live.last_saved >= interval:
            live.last_saved = now
            live.saver.save_partial()

    def _end(self, live: LiveAnswer, status: str, error: ChatError | None) -> None:
        self.stats.update_rate(live.first_token_at, final=True)
        self.stats.ended(status, error, live.usage)
        usage = live.usage
        final = FinalAnswer(
            content="".join(live.text),
            reasoning="".join(live.reasoning),
            status=status,
            error=error,
            usage=usage,
            ttft_ms=self.stats.ttft_ms,
        )
        try:
            self.history.end(live.saver, final)
        finally:  # the view ends the answer even if the history could not take it
            self._live = None
            self.stats_changed.emit(self.stats)
            if error is None:
                self.finished.emit(live.id, status)
            else:
                message = replace_lone_surrogates(error.message)
                self.failed.emit(live.id, status, error.kind.value, message)

    async def shutdown(self) -> None:
        """Ends a running answer (kept as interrupted) before the app quits, and makes a
        last try at saving what could not be saved."""
        self._closing = True
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.history.last_try()


def _deleted(store: Store, message_id: int) -> bool:
    store.delete_message(message_id)
    return True


def _status_after(error: ChatError, live: LiveAnswer) -> str:
    if error.kind is ErrorKind.TOO_LONG:
        return "stopped"  # the size cap stopped it: the text so far is the answer
    return "interrupted" if live.text else "failed"


def closed_during_answer() -> ChatError:
    return ChatError(ErrorKind.OTHER, CLOSED_DURING_ANSWER)
