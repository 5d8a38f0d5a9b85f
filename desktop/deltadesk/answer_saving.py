"""Keeping a streaming answer in the history, whatever the disk and other processes do.

Saving appends only what arrived since the last save (Store.append_partial), so a save costs
what is new, not the whole answer. A save that fails (the history busy in another process, the
disk full) loses nothing: the text stays here and goes with the next save. Each kind of
problem is reported once per answer, and once saving works again, that is reported too.
Used by the window's controller and by `deltadesk ask`; no Qt here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deltadesk.core.errors import ChatError
from deltadesk.core.events import Usage
from deltadesk.core.store import StoreWriteError

if TYPE_CHECKING:
    from deltadesk.core.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FinalAnswer:
    """Everything finish_answer writes: kept until it is written."""

    content: str
    reasoning: str
    status: str
    error: ChatError | None
    usage: Usage | None
    ttft_ms: float | None
    tokens_per_second: float | None = None
    estimated_tokens: int | None = None  # deltas counted, when the provider sent no usage
    reasoning_ms: float | None = None  # first reasoning to the first text (or the end)


class AnswerSaver:
    """Saves one answer: appended partials while it streams, the whole of it at the end."""

    def __init__(
        self,
        store: Store,
        message_id: int,
        *,
        on_problem: Callable[[StoreWriteError], None] | None = None,
        on_saved_again: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.message_id = message_id
        self._unsaved_text: list[str] = []
        self._unsaved_reasoning: list[str] = []
        self._on_problem = on_problem
        self._on_saved_again = on_saved_again
        self._reported: set[str] = set()
        self.problem: StoreWriteError | None = None  # the last failure, until a save works
        self.final: FinalAnswer | None = None  # the end, once known and not yet written

    def add(self, text: str = "", reasoning: str = "") -> None:
        if text:
            self._unsaved_text.append(text)
        if reasoning:
            self._unsaved_reasoning.append(reasoning)

    def save_partial(self) -> bool:
        """Appends what is new; False if it could not be saved (it is kept for next time)."""
        if not (self._unsaved_text or self._unsaved_reasoning):
            return True
        text, reasoning = "".join(self._unsaved_text), "".join(self._unsaved_reasoning)
        if not self._write(lambda: self.store.append_partial(self.message_id, text, reasoning)):
            # One piece each, so the next try does not join them all again.
            self._unsaved_text[:] = [text] if text else []
            self._unsaved_reasoning[:] = [reasoning] if reasoning else []
            return False
        self._unsaved_text.clear()
        self._unsaved_reasoning.clear()
        return True

    def save_final(self, final: FinalAnswer | None = None) -> bool:
        """Writes the whole answer (given once, at its end; later calls try again)."""
        if final is not None:
            self.final = final
        answer = self.final
        if answer is None:
            return True
        written = self._write(
            lambda: self.store.finish_answer(
                self.message_id,
                content=answer.content,
                reasoning=answer.reasoning,
                status=answer.status,
                error=answer.error,
                usage=answer.usage,
                ttft_ms=answer.ttft_ms,
                tokens_per_second=answer.tokens_per_second,
                estimated_tokens=answer.estimated_tokens,
                reasoning_ms=answer.reasoning_ms,
            )
        )
        if written:
            self.final = None
            self._unsaved_text.clear()
            self._unsaved_reasoning.clear()
        return written

    def _write(self, write: Callable[[], None]) -> bool:
        try:
            write()
        except StoreWriteError as exc:
            log.warning("saving answer %d failed (%s): %s", self.message_id, exc.reason, exc)
            self.problem = exc
            if exc.reason not in self._reported:
                self._reported.add(exc.reason)
                if self._on_problem is not None:
                    self._on_problem(exc)
            return False
        if self.problem is not None:
            self.problem = None
            if self._on_saved_again is not None:
                self._on_saved_again()
        return True
