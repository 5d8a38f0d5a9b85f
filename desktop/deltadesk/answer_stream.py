"""One answer being streamed: its task, its buffers, its figures and its own Stop.

Several of these run at once (one per conversation, or N for a compare) as tasks on the one
asyncio loop. None has a timer of its own: the controller's one frame clock calls flush() on
each, which hands what arrived to the view and saves about once a second. What they have to
tell the window goes through an outlet (the controller), which knows where it is shown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from deltadesk.answer_saving import FinalAnswer
from deltadesk.core.client import ChatClient, ChatMessage, RequestOptions
from deltadesk.core.errors import ChatError, ErrorKind
from deltadesk.core.events import Finished, ReasoningDelta, Retrying, StreamEvent, TextDelta, Usage
from deltadesk.core.profiles import Profile
from deltadesk.history_keeper import HistoryKeeper
from deltadesk.live_answer import LiveAnswer, StreamStats
from deltadesk.waiting_note import WaitingClock

log = logging.getLogger(__name__)

MAX_BUSY_S = 0.004  # the longest one stream may keep the GUI thread before letting Qt run
# Without the provider's count, tokens are estimated: one a delta (what most servers send),
# or about four characters a token for a delta longer than any one token (a server that
# sends text in batches, or a whole answer in one delta).
ONE_TOKEN_CHARS = 16
SAVE_INTERVAL_S = 1.0
BUSY_SAVE_INTERVAL_S = 3.0
CLOSED_DURING_ANSWER = "Interrupted: Deltadesk was closed during the answer"


class StreamOutlet(Protocol):
    """Where a stream's news goes (the controller turns it into signals)."""

    @property
    def take(self) -> Callable[[LiveAnswer, StreamEvent], None]: ...
    def handed_over(self, stream: AnswerStream, text: str, reasoning: str) -> None: ...
    def waiting_changed(self, stream: AnswerStream, note: str | None) -> None: ...
    def figures_moved(self, stream: AnswerStream) -> None: ...
    def ended(self, stream: AnswerStream, status: str, error: ChatError | None) -> None: ...


class AnswerStream:
    """One answer from one profile into one message of one conversation."""

    def __init__(
        self,
        *,
        conversation_id: int,
        message_id: int,
        profile: Profile,
        request: Sequence[ChatMessage],
        history: HistoryKeeper,
        options: RequestOptions | None = None,
        outlet: StreamOutlet,
        text_so_far: str = "",
        reasoning_so_far: str = "",
    ) -> None:
        started = time.monotonic()
        self.conversation_id = conversation_id
        self.message_id = message_id
        self.profile = profile
        self.request = list(request)
        self.options = options  # the conversation's system prompt and sampling settings
        self._history = history
        self._outlet = outlet
        self.live = LiveAnswer(
            id=message_id,
            started=started,
            saver=history.saver_for(message_id),
            waiting=WaitingClock(started=started),
            last_saved=started,
        )
        # Continue: the text already stored is the start of the answer, shown and kept; only
        # what comes now is saved as new parts.
        if text_so_far:
            self.live.text.append(text_so_far)
        if reasoning_so_far:
            self.live.reasoning.append(reasoning_so_far)
        self.stats = StreamStats(model=profile.model)
        self.status = "streaming"
        self.figures_sent_at = -1e9  # when figures_changed last went out (the first: at once)
        self.status_sent_at = -1e9  # when the status line last moved (stats_changed)
        self.stop_requested = False
        self.closing = False  # the app quits: whatever ends the answer, it is `interrupted`
        self.task: asyncio.Task[str] | None = None
        # A task cancelled before its first step never runs _run, so nothing would end the
        # answer (the window stays busy, send() raises): until _run starts, Stop only asks.
        self._started = False

    # -- control ---------------------------------------------------------------------------

    def start(self, client_for: Callable[[Profile], ChatClient]) -> asyncio.Task[str]:
        self.task = asyncio.ensure_future(self._run(client_for))
        return self.task

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def stop(self) -> None:
        """Stop means closed: cancelling the task closes the HTTP stream (see ChatClient)."""
        if self.running:
            assert self.task is not None
            self.stop_requested = True
            if self._started:
                self.task.cancel()

    def close(self) -> None:
        """The app is closing: the answer ends as interrupted, its text kept."""
        self.closing = True
        if self.running and self._started:
            assert self.task is not None
            self.task.cancel()

    def shown_so_far(self) -> tuple[str, str]:
        return self.live.shown_so_far()

    # -- the stream ------------------------------------------------------------------------

    async def _run(self, client_for: Callable[[Profile], ChatClient]) -> str:
        status, error = "done", None
        self._started = True
        try:
            if self.stop_requested or self.closing:  # asked before this task first ran
                raise asyncio.CancelledError
            events = client_for(self.profile).stream(self.request, self.options)
            try:
                await self._consume(events)
            finally:
                await events.aclose()
        except asyncio.CancelledError:
            # A user stop ends as `stopped`; anything else cancelling us (the app closing)
            # leaves an honest `interrupted` with the partial kept.
            status = "stopped" if self.stop_requested else "interrupted"
            if not self.stop_requested:
                error = closed_during_answer()
        except ChatError as exc:
            status, error = _status_after(exc, self.live), exc
        except Exception as exc:  # a bug must not lose the answer: keep it and say so
            status = "interrupted" if self.live.text else "failed"
            if self.closing:  # whatever broke while the app quits, the user closed it
                log.info("the answer ended with %r while the app closed", exc)
                status, error = "interrupted", closed_during_answer()
            else:
                log.exception("streaming failed")
                error = ChatError(ErrorKind.OTHER, f"Unexpected error: {exc}")
        finally:
            self._finish(status, error)
        return status

    async def _consume(self, events: AsyncIterator[StreamEvent]) -> None:
        # One socket read can hold hundreds of chunks, which the SDK hands over without ever
        # suspending; without a pause now and then the GUI thread would not paint, run the
        # frame clock, serve the other streams or see Stop until the whole burst is parsed.
        take = self._outlet.take
        live = self.live
        pause_at = time.monotonic() + MAX_BUSY_S
        async for event in events:
            take(live, event)
            now = time.monotonic()
            if now >= pause_at:
                await asyncio.sleep(0)
                pause_at = now + MAX_BUSY_S

    def take(self, event: StreamEvent) -> None:
        """Buffers one event; the frame clock hands the buffer to the view (and the saver).

        Called for every token of every running answer: the text kinds come first and do
        no more than keep the text. Valid text already: the client rejoins split surrogate
        pairs and replaces lone ones, and the store repairs what it is given."""
        if type(event) is TextDelta:
            live = self.live
            text = event.text
            live.text.append(text)
            live.unsent_text.append(text)
            self.stats.tokens += _tokens_in(text)
            if live.first_text_at is None:
                self._first_text()
        elif type(event) is ReasoningDelta:
            live = self.live
            text = event.text
            live.reasoning.append(text)
            live.unsent_reasoning.append(text)
            self.stats.tokens += _tokens_in(text)
            if live.first_reasoning_at is None:
                live.first_reasoning_at = time.monotonic()
                self._first_token()
        else:
            self._take_news(event)

    def _take_news(self, event: StreamEvent) -> None:
        live = self.live
        if isinstance(event, Usage):
            live.usage = event
        elif isinstance(event, Retrying):
            live.waiting.retrying(event)
            self.stats.note = f"retrying in {event.delay:.1f} s ({event.reason})"
            self.status_sent_at = -1e9  # said at once
            self._outlet.figures_moved(self)
            self.show_waiting()
        elif isinstance(event, Finished) and event.reason == "length":
            self.stats.note = "the answer hit the model's length limit"

    def _first_text(self) -> None:
        """The first words of the answer: the thinking before them is over."""
        live = self.live
        live.first_text_at = now = time.monotonic()
        if live.first_reasoning_at is not None:
            self.stats.reasoning_ms = (now - live.first_reasoning_at) * 1000
        self._first_token()

    def _first_token(self) -> None:
        """The first token of either kind: noted and shown at once, not at the next frame."""
        live = self.live
        if live.first_token_at is not None:
            return
        live.first_token_at = time.monotonic()
        live.waiting.got_token = True
        self.show_waiting()
        self.stats.ttft_ms = (live.first_token_at - live.started) * 1000
        self.stats.note = ""
        self.flush()

    # -- what the frame clock and the waiting clock ask -------------------------------------

    def show_waiting(self) -> None:
        """The live line in the answer's place until its first token (sent when it changes)."""
        live = self.live
        note = live.waiting.note()
        if note != live.waiting_note:
            live.waiting_note = note
            self._outlet.waiting_changed(self, note)

    def flush(self) -> None:
        live = self.live
        if live.unsent_text or live.unsent_reasoning:
            reasoning = "".join(live.unsent_reasoning)
            text = "".join(live.unsent_text)
            live.unsent_reasoning.clear()
            live.unsent_text.clear()
            live.saver.add(text=text, reasoning=reasoning)  # saved with the next save
            self.stats.update_rate(live.first_token_at)
            self._outlet.handed_over(self, text, reasoning)
        self._save_now_and_then()

    def _save_now_and_then(self) -> None:
        """What arrived since the last save goes to disk about once a second, so a crash
        loses little; a save that fails keeps it for the next one."""
        live = self.live
        now = time.monotonic()
        # While the history is locked, each try holds the GUI thread for the short busy
        # timeout: try less often until it is free again.
        interval = BUSY_SAVE_INTERVAL_S if live.saver.problem is not None else SAVE_INTERVAL_S
        if now - live.last_saved >= interval:
            live.last_saved = now
            live.saver.save_partial()

    # -- the end ---------------------------------------------------------------------------

    def _finish(self, status: str, error: ChatError | None) -> None:
        """However the answer ended, and whatever ending it raises, the window is told: a
        stuck Stop button would be the only way out (by killing the app)."""
        self.status = status
        try:
            self.flush()
            self._save_end(status, error)
        except Exception:
            log.exception("ending the answer failed")
        finally:
            self._outlet.ended(self, status, error)

    def _save_end(self, status: str, error: ChatError | None) -> None:
        live, stats = self.live, self.stats
        if live.first_reasoning_at is not None and live.first_text_at is None:
            stats.reasoning_ms = (time.monotonic() - live.first_reasoning_at) * 1000
        stats.ended(status, error, live.usage)
        stats.update_rate(live.first_token_at, final=True)
        final = FinalAnswer(
            content="".join(live.text),
            reasoning="".join(live.reasoning),
            status=status,
            error=error,
            usage=live.usage,
            ttft_ms=stats.ttft_ms,
            tokens_per_second=stats.tokens_per_second,
            estimated_tokens=stats.tokens if live.usage is None and stats.tokens else None,
            reasoning_ms=stats.reasoning_ms,
        )
        self._history.end(live.saver, final)


def _tokens_in(text: str) -> int:
    """The tokens estimated in one delta (see ONE_TOKEN_CHARS)."""
    chars = len(text)
    return 1 if chars <= ONE_TOKEN_CHARS else chars // 4


def _status_after(error: ChatError, live: LiveAnswer) -> str:
    if error.kind is ErrorKind.TOO_LONG:
        return "stopped"  # the size cap stopped it: the text so far is the answer
    # A continued answer has text from before: a failure before new words keeps it
    # `interrupted`, still to be continued.
    return "interrupted" if live.text else "failed"


def closed_during_answer() -> ChatError:
    return ChatError(ErrorKind.OTHER, CLOSED_DURING_ANSWER)
