"""The sidebar's date groups, its keyboard (filter -> list, headers skipped) and "No matches"."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from deltadesk.ui.sidebar import EMPTY_TEXT, ConversationItem, ConversationList
from deltadesk.ui.sidebar_groups import group_label, grouped
from deltadesk.ui.sidebar_items import HEADER_ROLE
from tests.ui.signals import record

NOW = datetime(2024, 3, 12, 15, 30).timestamp()
DAY = 86400.0


def at(*args: int) -> float:
    return datetime(*args).timestamp()


@pytest.fixture
def sidebar(qtbot):
    widget = ConversationList(clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.resize(260, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.mark.parametrize(
    ("then", "label"),
    [
        (at(2024, 3, 12, 0, 1), "Today"),
        (at(2024, 3, 12, 16, 0), "Today"),  # a clock a little ahead
        (at(2024, 3, 11, 23, 59), "Yesterday"),
        (at(2024, 3, 10, 9, 0), "Last 7 days"),
        (at(2024, 3, 5, 9, 0), "Last 7 days"),
        (at(2024, 3, 4, 9, 0), "Last 30 days"),
        (at(2024, 2, 11, 9, 0), "Last 30 days"),
        (at(2024, 2, 10, 9, 0), "February 2024"),
        (at(2023, 12, 24, 9, 0), "December 2023"),
    ],
)
def test_group_label_by_local_day(then, label):
    assert group_label(then, NOW) == label
    assert group_label(then, NOW, pinned=True) == "Pinned"


def test_grouped_puts_pinned_first_and_each_item_once():
    items = [
        ConversationItem(1, "old pinned", NOW - 90 * DAY, pinned=True),
        ConversationItem(2, "today", NOW - 60),
        ConversationItem(3, "older", NOW - 100 * DAY),
        ConversationItem(4, "yesterday", NOW - DAY),
        ConversationItem(5, "today too", NOW - 120),
    ]
    groups = grouped(items, NOW)
    assert [(label, [i.id for i in members]) for label, members in groups] == [
        ("Pinned", [1]),
        ("Today", [2, 5]),
        ("Yesterday", [4]),
        ("December 2023", [3]),
    ]


ITEMS = [
    ConversationItem(1, "Pinned plan", NOW - 40 * DAY, pinned=True),
    ConversationItem(2, "Rust lifetimes", NOW - 60),
    ConversationItem(3, "Python asyncio", NOW - 3600),
    ConversationItem(4, "Rust macros", NOW - 3 * DAY),
    ConversationItem(5, "Bread recipe", NOW - 200 * DAY),
]


def test_headers_are_shown_not_selectable_and_empty_groups_hide(sidebar, qtbot):
    sidebar.set_conversations(ITEMS)
    assert sidebar.group_names() == ["Pinned", "Today", "Last 7 days", "August 2023"]
    assert sidebar.visible_ids() == [1, 2, 3, 4, 5]
    view = sidebar.list_widget()
    header = view.item(0)
    assert header.data(HEADER_ROLE) and not header.flags() & Qt.ItemFlag.ItemIsSelectable
    picked = record(sidebar.selected)
    rect = view.visualItemRect(header)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picked == [] and sidebar.current_id() is None
    sidebar.filter_field().setText("rust")
    assert sidebar.visible_ids() == [2, 4]
    assert sidebar.group_names() == ["Today", "Last 7 days"]
    sidebar.filter_field().clear()
    assert sidebar.group_names() == ["Pinned", "Today", "Last 7 days", "August 2023"]


def test_cursor_keys_step_over_headers(sidebar, qtbot):
    sidebar.set_conversations(ITEMS)
    picked = record(sidebar.selected)
    sidebar.select(1)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    for _ in range(4):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert picked == [(2,), (3,), (4,), (5,)]
    qtbot.keyClick(view, Qt.Key.Key_Down)  # the end: it stays
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert picked[-2:] == [(4,), (3,)]
    qtbot.keyClick(view, Qt.Key.Key_Home)  # row 0 is the "Pinned" header
    assert sidebar.current_id() == 1
    assert not view.currentItem().data(HEADER_ROLE)
    qtbot.keyClick(view, Qt.Key.Key_Up)  # nothing above but a header: up into the field
    assert sidebar.current_id() == 1
    assert QApplication.focusWidget() is sidebar.filter_field()


@pytest.mark.parametrize("key", [Qt.Key.Key_Down, Qt.Key.Key_Return])
def test_down_or_enter_in_the_filter_moves_into_the_list(sidebar, qtbot, key):
    sidebar.set_conversations(ITEMS)
    picked = record(sidebar.selected)
    sidebar.focus_filter()
    qtbot.keyClicks(sidebar.filter_field(), "rust")
    qtbot.keyClick(sidebar.filter_field(), key)
    view = sidebar.list_widget()
    assert QApplication.focusWidget() is view
    assert sidebar.current_id() == 2  # the first match, not the header above it
    assert picked == [(2,)]
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert picked == [(2,), (4,)]
    qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter on a conversation opens it (again)
    assert picked == [(2,), (4,), (4,)]


def test_no_matches_is_said_for_the_title_filter(sidebar, qtbot):
    sidebar.set_conversations([])
    assert sidebar._empty_text() == EMPTY_TEXT
    sidebar.set_conversations(ITEMS)
    plain = sidebar.list_widget().viewport().grab().toImage()
    sidebar.filter_field().setText("zebra")
    assert sidebar.visible_ids() == [] and sidebar.group_names() == []
    assert sidebar._empty_text() == "No matches"
    qtbot.waitUntil(lambda: sidebar.list_widget().viewport().grab().toImage() != plain)


def test_esc_in_the_title_filter_clears_it_before_it_means_stop(sidebar, qtbot):
    sidebar.set_conversations(ITEMS)
    sidebar.focus_filter()
    qtbot.keyClicks(sidebar.filter_field(), "rust")
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Escape)
    assert sidebar.filter_field().text() == ""
    assert sidebar.visible_ids() == [1, 2, 3, 4, 5]


def test_past_midnight_the_groups_move_on(qtbot):
    now = [NOW]
    widget = ConversationList(clock=lambda: now[0])
    qtbot.addWidget(widget)
    widget.set_conversations([ConversationItem(1, "a", NOW - 60)])
    assert widget.group_names() == ["Today"]
    now[0] = NOW + DAY
    widget._on_minute()
    assert widget.group_names() == ["Yesterday"]


def test_marks_survive_the_regrouping_at_midnight(qtbot):
    now = [NOW]
    widget = ConversationList(clock=lambda: now[0])
    qtbot.addWidget(widget)
    widget.set_conversations([ConversationItem(1, "a", NOW - 60)])
    widget.set_marks(1, streaming=True, unseen=False)
    now[0] = NOW + DAY
    widget._on_minute()
    assert widget.group_names() == ["Yesterday"]
    assert widget.marks(1) == (True, False)
