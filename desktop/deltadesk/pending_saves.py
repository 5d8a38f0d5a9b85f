"""Answers that ended but could not be written (the disk full, the history busy): kept in
memory and tried again every few seconds until they are in the history."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from deltadesk.answer_saving import AnswerSaver, FinalAnswer

log = logging.getLogger(__name__)

RETRY_INTERVAL_MS = 3000


class PendingSaves(QObject):
    saved = Signal(int)  # message id: that answer is in the history now

    def __init__(self, parent: QObject | None = None, interval_ms: int = RETRY_INTERVAL_MS):
        super().__init__(parent)
        self._savers: dict[int, AnswerSaver] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.retry_all)

    def __len__(self) -> int:
        return len(self._savers)

    def add(self, saver: AnswerSaver) -> None:
        self._savers[saver.message_id] = saver
        self._timer.start()

    def final_of(self, message_id: int) -> FinalAnswer | None:
        """The end of an answer not yet in the history (what the view should show)."""
        saver = self._savers.get(message_id)
        return saver.final if saver is not None else None

    def forget(self, message_id: int) -> None:
        """The answer's conversation was deleted: nothing to save any more."""
        self._savers.pop(message_id, None)

    def retry_all(self) -> None:
        for message_id, saver in list(self._savers.items()):
            if saver.save_final():
                del self._savers[message_id]
                log.info("answer %d is saved now", message_id)
                self.saved.emit(message_id)
        if not self._savers:
            self._timer.stop()
