import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from deltadesk.ui.sidebar import ConversationItem, ConversationList, relative_time
from deltadesk.ui.sidebar_items import HEADER_ROLE, ID_ROLE, tooltip_of
from tests.ui.signals import record

NOW = datetime(2024, 3, 12, 15, 30).timestamp()

ITEMS = [
    ConversationItem(7, "Trip plan", NOW - 30),
    ConversationItem(3, "Reverse a list", NOW - 300),
    ConversationItem(1, "", NOW - 86400 * 3),
]


@pytest.fixture
def sidebar(qtbot):
    widget = ConversationList(clock=lambda: NOW)
    qtbot.addWidget(widget)
    widget.resize(260, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def titles(sidebar: ConversationList) -> list[str]:
    """The conversations' titles in list order (the date headers left out)."""
    view = sidebar.list_widget()
    return [
        view.item(row).text() for row in range(view.count()) if not view.item(row).data(HEADER_ROLE)
    ]


def row_of(sidebar: ConversationList, conversation_id: int) -> int:
    view = sidebar.list_widget()
    [row] = [r for r in range(view.count()) if view.item(r).data(ID_ROLE) == conversation_id]
    return row


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        (datetime(2024, 3, 12, 15, 29, 30), "just now"),
        (datetime(2024, 3, 12, 15, 31), "just now"),  # a clock slightly ahead
        (datetime(2024, 3, 12, 15, 25), "5 min ago"),
        (datetime(2024, 3, 12, 12, 0), "3 h ago"),
        (datetime(2024, 3, 11, 23, 50), "yesterday"),
        (datetime(2024, 3, 1, 9, 0), "1 Mar"),
        (datetime(2023, 12, 24, 9, 0), "24 Dec 2023"),
    ],
)
def test_relative_time(then, expected):
    assert relative_time(then.timestamp(), NOW) == expected


def test_set_conversations_lists_titles_in_order(sidebar):
    sidebar.set_conversations(ITEMS)
    assert titles(sidebar) == ["Trip plan", "Reverse a list", "Untitled"]
    assert sidebar.current_id() is None


def test_select_highlights_without_emitting(sidebar):
    picked = record(sidebar.selected)
    sidebar.set_conversations(ITEMS)
    sidebar.select(3)
    assert sidebar.current_id() == 3
    sidebar.select(None)
    assert sidebar.current_id() is None
    sidebar.select(999)  # unknown: nothing selected, no error
    assert sidebar.current_id() is None
    assert picked == []


def test_reload_keeps_the_selection_when_it_is_still_there(sidebar):
    picked = record(sidebar.selected)
    sidebar.set_conversations(ITEMS)
    sidebar.select(3)
    renamed = [ConversationItem(3, "Reverse a list in Python", NOW), *ITEMS[:1]]
    sidebar.set_conversations(renamed)
    assert titles(sidebar) == ["Reverse a list in Python", "Trip plan"]
    assert sidebar.current_id() == 3
    sidebar.set_conversations(ITEMS[:1])
    assert sidebar.current_id() is None
    assert picked == []


def test_clicking_a_conversation_emits_selected(sidebar, qtbot):
    picked = record(sidebar.selected)
    sidebar.set_conversations(ITEMS)
    view = sidebar.list_widget()
    rect = view.visualItemRect(view.item(row_of(sidebar, 3)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert picked == [(3,)]
    assert sidebar.current_id() == 3


def test_new_chat_button(sidebar, qtbot):
    requests = record(sidebar.new_requested)
    assert sidebar.new_button().text().replace("&", "") == "New chat"
    qtbot.mouseClick(sidebar.new_button(), Qt.MouseButton.LeftButton)
    assert requests == [()]


def test_arrow_keys_pick_conversations(sidebar, qtbot):
    picked = record(sidebar.selected)
    sidebar.set_conversations(ITEMS)
    sidebar.select(7)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert picked == [(3,)]
    assert sidebar.current_id() == 3


def test_filter_shows_only_matching_titles_and_survives_a_refresh(sidebar, qtbot):
    items = [
        ConversationItem(1, "Rust lifetimes", NOW),
        ConversationItem(2, "Python asyncio", NOW),
        ConversationItem(3, "rusty bike repair", NOW),
    ]
    sidebar.set_conversations(items)
    sidebar.focus_filter()
    qtbot.keyClicks(QApplication.focusWidget(), "RUST")
    assert sidebar.visible_ids() == [1, 3]
    sidebar.set_conversations([*items, ConversationItem(4, "Trust me", NOW)])
    assert sidebar.visible_ids() == [1, 3, 4]
    QApplication.focusWidget().clear()
    assert sidebar.visible_ids() == [1, 2, 3, 4]


# --- marks: streaming, finished unseen ---------------------------------------------------------


def _spoken(sidebar: ConversationList, conversation_id: int) -> str:
    item = sidebar.list_widget().item(row_of(sidebar, conversation_id))
    return item.data(Qt.ItemDataRole.AccessibleTextRole)


def test_marks_are_set_without_rebuilding_the_list(sidebar, qtbot):
    sidebar.set_conversations(ITEMS)
    sidebar.select(3)
    sidebar._filter.setText("r")  # "Trip plan", "Reverse a list"
    model = sidebar.list_widget().model()
    rebuilt = record(model.modelReset) + record(model.rowsRemoved)
    picked = record(sidebar.selected)
    plain = sidebar.list_widget().viewport().grab().toImage()
    sidebar.set_marks(7, streaming=True, unseen=False)
    sidebar.set_marks(3, streaming=False, unseen=True)
    assert rebuilt == [] and picked == []
    assert sidebar.current_id() == 3
    assert sidebar.visible_ids() == [7, 3]
    assert sidebar.marks(7) == (True, False) and sidebar.marks(3) == (False, True)
    # The marks are painted beside the title, never put into its text.
    assert titles(sidebar) == ["Trip plan", "Reverse a list", "Untitled"]
    assert "streaming" in _spoken(sidebar, 7) and "new answer" in _spoken(sidebar, 3)
    assert "streaming" not in _spoken(sidebar, 3)
    qtbot.waitUntil(lambda: sidebar.list_widget().viewport().grab().toImage() != plain)


def test_marks_come_and_go_and_unknown_ids_are_ignored(sidebar):
    sidebar.set_conversations(ITEMS)
    sidebar.set_marks(1, streaming=True, unseen=True)
    sidebar.set_marks(1, streaming=False, unseen=False)
    assert sidebar.marks(1) == (False, False)
    assert _spoken(sidebar, 1) == "Untitled"
    sidebar.set_marks(404, streaming=True, unseen=True)
    assert sidebar.marks(404) is None


def test_marks_given_with_the_list(sidebar):
    sidebar.set_conversations([ConversationItem(5, "Busy <b>one</b>", NOW, streaming=True), *ITEMS])
    assert sidebar.marks(5) == (True, False)
    assert _spoken(sidebar, 5) == "Busy <b>one</b>, an answer is streaming"
    item = sidebar.list_widget().item(row_of(sidebar, 5))
    assert "an answer is streaming" in tooltip_of(item)
    assert "&lt;b&gt;one&lt;/b&gt;" in tooltip_of(item)  # markup in a title is shown as text


def test_the_tooltip_is_made_when_it_shows(sidebar, qtbot):
    sidebar.set_conversations(ITEMS)
    view = sidebar.list_widget()
    rect = view.visualItemRect(view.item(row_of(sidebar, 3)))
    event = QHelpEvent(
        QEvent.Type.ToolTip, rect.center(), view.viewport().mapToGlobal(rect.center())
    )
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(lambda: "Reverse a list" in QToolTip.text(), timeout=2000)
    assert "Last updated 2024-03-12 15:25" in QToolTip.text()
    QToolTip.hideText()


def test_a_refresh_that_keeps_the_order_rewrites_only_the_rows_that_changed(sidebar):
    """After an answer the list is set again: the chat at the top stays there, so its row is
    written in place (the others are left alone); a new order builds the list anew."""
    from dataclasses import replace

    sidebar.set_conversations(ITEMS)
    sidebar.select(3)
    view = sidebar.list_widget()
    rows = {item.id: view.item(row_of(sidebar, item.id)) for item in ITEMS}
    answered = [replace(ITEMS[0], title="Trip plan, day two", updated_at=NOW - 5), *ITEMS[1:]]
    sidebar.set_conversations(answered)
    assert all(view.item(row_of(sidebar, i)) is rows[i] for i in rows)  # the same rows
    assert titles(sidebar) == ["Trip plan, day two", "Reverse a list", "Untitled"]
    assert sidebar.current_id() == 3  # the selection stays
    moved = [replace(ITEMS[1], updated_at=NOW - 1), answered[0], ITEMS[2]]
    sidebar.set_conversations(moved)  # 3 answered last: now first
    assert titles(sidebar) == ["Reverse a list", "Trip plan, day two", "Untitled"]
    assert sidebar.current_id() == 3
