"""A label that may shrink (let_shrink) draws a text too long for it cut with "…", while its
text() stays whole."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from deltadesk.ui.plain_text import let_shrink, plain_label

TITLE = "Any tips for writing better prompts about server-sent events?"


def _shown(qtbot: QtBot, text: str, shrinking: bool, width: int = 120) -> tuple[QLabel, QImage]:
    label = plain_label(text)
    if shrinking:
        let_shrink(label)
    qtbot.addWidget(label)
    label.setFixedWidth(width)
    label.show()
    qtbot.waitExposed(label)
    return label, label.grab().toImage()


def test_a_long_text_is_drawn_elided_and_kept_whole(qtbot: QtBot) -> None:
    label, image = _shown(qtbot, TITLE, shrinking=True)
    assert label.text() == TITLE
    rect = label.contentsRect()
    elided = label.fontMetrics().elidedText(TITLE, Qt.TextElideMode.ElideRight, rect.width())
    assert elided.endswith("…") and elided != TITLE
    _plain, expected = _shown(qtbot, elided, shrinking=False)
    assert image == expected


def test_a_text_that_fits_is_drawn_as_it_is(qtbot: QtBot) -> None:
    _label, image = _shown(qtbot, "Short", shrinking=True)
    _plain, expected = _shown(qtbot, "Short", shrinking=False)
    assert image == expected
