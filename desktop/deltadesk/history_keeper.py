"""The window's writes to the history, and what it tells the user when they fail.

The store fails a write quickly (the window's short busy timeout) and says why. Here that
becomes: a prompt is tried again for a moment when the history is busy, then the failure is
said; an answer keeps streaming and is saved when it can be; an answer that ended but could
not be written (the disk full, the history locked) is kept in memory and tried again every
few seconds until it is in, and then that is said too. Nothing here waits on the GUI thread
longer than one short write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from deltadesk.answer_saving import AnswerSaver, FinalAnswer
from deltadesk.core.store import Store, StoreWriteError

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRY_INTERVAL_MS = 3000
# A write the answer cannot start without (the prompt) waits about 2 s for a busy history.
BUSY_WRITE_TRIES = 8
BUSY_WRITE_PAUSE_S = 0.25
SAVED_LATER = "Saved: the answer that could not be written before is in the history now."


class HistoryKeeper(QObject):
    notice = Signal(object)  # what the user must know about saving (str), or None: all is well
    saved_later = Signal(int)  # message id: an answer kept in memory is in the history now

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._pending: dict[int, AnswerSaver] = {}
        self._retry = QTimer(self)
        self._retry.setInterval(RETRY_INTERVAL_MS)
        self._retry.timeout.connect(self.retry_pending)

    @property
    def pending(self) -> int:
        """How many ended answers are not in the history yet."""
        return len(self._pending)

    async def write(self, write: Callable[[], T]) -> T | None:
        """One write the next step cannot go without; None (and said) if it failed."""
        for attempt in range(BUSY_WRITE_TRIES):
            try:
                return write()
            except StoreWriteError as exc:
                if exc.reason != "busy" or attempt == BUSY_WRITE_TRIES - 1:
                    log.warning("history write failed (%s): %s", exc.reason, exc)
                    self.notice.emit(str(exc))
                    return None
            await asyncio.sleep(BUSY_WRITE_PAUSE_S)
        return None

    def saver_for(self, message_id: int) -> AnswerSaver:
        return AnswerSaver(
            self._store,
            message_id,
            on_problem=self._say_problem,
            on_saved_again=lambda: self.notice.emit(None),
        )

    def starting_answer(self) -> None:
        """A new answer: an old notice (a prompt not kept, saved after all) has had its say."""
        if not self._pending:
            self.notice.emit(None)

    def end(self, saver: AnswerSaver, final: FinalAnswer) -> None:
        """Writes the whole answer, or keeps it to try again."""
        if saver.save_final(final) or saver.problem is None:
            return
        problem = saver.problem
        if problem.reason == "readonly":
            return  # it can never be written: the banner says answers are not saved
        self._pending[saver.message_id] = saver
        self._retry.start()
        self.notice.emit(
            f"{problem} The answer is kept in memory and saved as soon as it can be "
            "(Deltadesk tries again every few seconds)."
        )

    def unsaved_answer(self, message_id: int) -> FinalAnswer | None:
        saver = self._pending.get(message_id)
        return saver.final if saver is not None else None

    def forget(self, message_ids: Iterable[int]) -> None:
        """Their conversation was deleted: nothing of theirs is to be saved any more."""
        for message_id in message_ids:
            self._pending.pop(message_id, None)
        if not self._pending:
            self._retry.stop()

    def retry_pending(self) -> None:
        for message_id, saver in list(self._pending.items()):
            if saver.save_final():
                del self._pending[message_id]
                log.info("answer %d reached the history after all", message_id)
                self.saved_later.emit(message_id)
                if not self._pending:
                    self.notice.emit(SAVED_LATER)
        if not self._pending:
            self._retry.stop()

    def last_try(self) -> None:
        """Before the app quits: one more try; what still fails is lost, and logged."""
        if self._pending:
            self.retry_pending()
        if self._pending:
            log.error("%d answer(s) not saved before the app closed", len(self._pending))

    def _say_problem(self, problem: StoreWriteError) -> None:
        if problem.reason == "readonly":
            self.notice.emit(f"{problem} Answers are shown but not saved.")
        else:
            self.notice.emit(f"{problem} The answer goes on and is saved when it can be.")
