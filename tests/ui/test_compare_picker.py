"""The Compare list: a click on a profile's name ticks it, as a click on its box does."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from deltadesk.ui.compare_picker import ComparePicker

NAMES = ["openai", "groq", "local"]


@pytest.fixture
def picker(qtbot: QtBot) -> Iterator[ComparePicker]:
    widget = ComparePicker()
    qtbot.addWidget(widget)
    widget.set_profiles(NAMES, "openai")
    items = widget.list_widget()
    items.resize(260, items.height())
    items.show()
    qtbot.waitExposed(items)
    yield widget


def _click(qtbot: QtBot, picker: ComparePicker, row: int, on_box: bool) -> None:
    items = picker.list_widget()
    rect = items.visualItemRect(items.item(row))
    if on_box:
        option = QStyleOptionViewItem()
        option.initFrom(items)
        option.rect = rect
        option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
        box = items.style().subElementRect(
            QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, items
        )
        point = box.center()
    else:
        point = QPoint(rect.right() - 20, rect.center().y())
    qtbot.mouseClick(items.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_a_click_on_a_name_ticks_and_unticks_it(picker: ComparePicker, qtbot: QtBot) -> None:
    _click(qtbot, picker, 1, on_box=False)
    assert picker.checked() == ["openai", "groq"]
    assert picker.text() == "Compare (2)"
    _click(qtbot, picker, 0, on_box=False)
    assert picker.checked() == ["groq"]


def test_a_click_on_the_box_toggles_once(picker: ComparePicker, qtbot: QtBot) -> None:
    _click(qtbot, picker, 2, on_box=True)
    assert picker.checked() == ["openai", "local"]
    _click(qtbot, picker, 2, on_box=True)
    assert picker.checked() == ["openai"]
