"""The keyboard back in the prompt after any dialog closes, without touching the dialogs' code.

A widget is sent `ChildPolished` when a child dialog of it is polished, before the dialog
first shows (ChildAdded is too early: the child is still a bare QObject then); the dialog's
`finished` then gives the focus back, after Qt's own restore (which would pick the button
that opened it). Watched: the window and the widgets that open dialogs of their own.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QChildEvent, QEvent, QObject, QTimer
from PySide6.QtWidgets import QDialog

_WATCHED = "deltadeskFocusBack"  # set on a dialog once its closing is watched


class FocusBackAfterDialogs(QObject):
    def __init__(self, focus: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._focus = focus

    def watch(self, owner: QObject) -> None:
        owner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ChildPolished and isinstance(event, QChildEvent):
            child = event.child()
            if isinstance(child, QDialog) and not child.property(_WATCHED):
                child.setProperty(_WATCHED, True)
                child.finished.connect(self._closed)
        return False

    def _closed(self) -> None:
        QTimer.singleShot(0, self._focus)
