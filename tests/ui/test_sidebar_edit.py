"""Rename in place, pin to top, and delete with an undo bar, on a real sidebar offscreen."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu

from deltadesk.ui.sidebar import ConversationItem, ConversationList
from deltadesk.ui.sidebar_items import MAX_RENAME_CHARS, clean_title
from tests.ui.signals import record
from tests.ui.test_sidebar import row_of, titles

NOW = datetime(2024, 3, 12, 15, 30).timestamp()

ITEMS = [
    ConversationItem(7, "Trip plan", NOW - 30),
    ConversationItem(3, "Reverse a list", NOW - 300),
    ConversationItem(1, "", NOW - 86400 * 3),
]


def make(qtbot, undo_ms: int = 60_000) -> ConversationList:
    widget = ConversationList(clock=lambda: NOW, undo_ms=undo_ms)
    qtbot.addWidget(widget)
    widget.resize(260, 400)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_conversations(ITEMS)
    return widget


@pytest.fixture
def sidebar(qtbot):
    return make(qtbot)


def focus_list(sidebar, qtbot, conversation_id: int):
    sidebar.select(conversation_id)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    return view


def choose_from_menu(qtbot, sidebar, conversation_id: int, entry: str) -> None:
    view = sidebar.list_widget()

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        [action] = [a for a in menu.actions() if a.text().replace("&", "") == entry]
        menu.setActiveAction(action)
        qtbot.keyClick(menu, Qt.Key.Key_Return)

    QTimer.singleShot(50, choose)
    rect = view.visualItemRect(view.item(row_of(sidebar, conversation_id)))
    view.customContextMenuRequested.emit(rect.center())


# --- rename ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  New  name \n", "New name"),
        ("a\tb\nc", "a b c"),
        ("   ", None),
        ("", None),
        ("x" * 500, "x" * MAX_RENAME_CHARS),
        ("bell\x07 <b>x</b>", "bell <b>x</b>"),
    ],
)
def test_clean_title(typed, kept):
    assert clean_title(typed) == kept


def editors(view) -> list[QLineEdit]:
    return [w for w in view.viewport().findChildren(QLineEdit) if w.isVisible()]


def editor_of(view) -> QLineEdit:
    found = editors(view)
    assert len(found) == 1
    return found[0]


def test_f2_renames_in_place(sidebar, qtbot):
    renames = record(sidebar.rename_requested)
    view = focus_list(sidebar, qtbot, 3)
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = editor_of(view)
    assert editor.text() == "Reverse a list" and editor.maxLength() == MAX_RENAME_CHARS
    editor.setText("  Lists, reversed  ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: renames == [(3, "Lists, reversed")], timeout=1000)  # Qt commits later
    assert "Lists, reversed" in titles(sidebar)  # shown at once
    assert sidebar.current_id() == 3


def test_an_empty_or_unchanged_title_is_refused_and_esc_cancels(sidebar, qtbot):
    renames = record(sidebar.rename_requested)
    view = focus_list(sidebar, qtbot, 7)
    for typed, key in (
        ("   ", Qt.Key.Key_Return),
        ("Trip plan", Qt.Key.Key_Return),
        ("Other", Qt.Key.Key_Escape),
    ):
        qtbot.keyClick(view, Qt.Key.Key_F2)
        editor = editor_of(view)
        editor.setText(typed)
        qtbot.keyClick(editor, key)
        qtbot.waitUntil(lambda: not editors(view), timeout=1000)
    qtbot.wait(50)  # a commit would come now (queued by Qt): none may come
    assert renames == []
    assert titles(sidebar)[0] == "Trip plan"


def test_double_click_renames(sidebar, qtbot):
    renames = record(sidebar.rename_requested)
    view = sidebar.list_widget()
    rect = view.visualItemRect(view.item(row_of(sidebar, 7)))
    # A real double-click starts with a press and release (QTest's alone has none).
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: bool(editors(view)), timeout=1000)
    editor = editor_of(view)
    editor.setText("Holiday")
    qtbot.keyClick(editor, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: renames == [(7, "Holiday")], timeout=1000)


def test_rename_from_the_context_menu(sidebar, qtbot):
    choose_from_menu(qtbot, sidebar, 1, "Rename")
    editor = editor_of(sidebar.list_widget())
    assert editor.text() == "Untitled"


# --- pin ------------------------------------------------------------------------------------


def test_pin_from_the_keyboard_and_the_menu(sidebar, qtbot):
    pins = record(sidebar.pin_requested)
    view = focus_list(sidebar, qtbot, 3)
    qtbot.keyClick(view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert pins == [(3, True)]
    sidebar.set_conversations(
        [ConversationItem(3, "Reverse a list", NOW - 300, pinned=True), ITEMS[0], ITEMS[2]]
    )
    assert sidebar.group_names()[0] == "Pinned"
    assert sidebar.visible_ids()[0] == 3
    choose_from_menu(qtbot, sidebar, 3, "Unpin")
    assert pins == [(3, True), (3, False)]


# --- delete with undo -----------------------------------------------------------------------


def test_delete_hides_at_once_and_undo_brings_it_back(sidebar, qtbot):
    deletions = record(sidebar.delete_requested)
    pending = record(sidebar.deletion_pending)
    picked = record(sidebar.selected)
    view = focus_list(sidebar, qtbot, 7)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    bar = sidebar.undo_bar()
    assert sidebar.visible_ids() == [3, 1] and pending == [(7,)]
    assert bar.isVisible() and bar.text() == "Deleted “Trip plan”"
    assert sidebar.current_id() is None
    sidebar.set_conversations(ITEMS)  # a reload meanwhile keeps it hidden
    assert sidebar.visible_ids() == [3, 1]
    qtbot.mouseClick(bar.undo_button(), Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert sidebar.visible_ids() == [7, 3, 1]
    assert deletions == []
    assert sidebar.current_id() == 7 and picked == [(7,)]  # it was open: open again


def test_ctrl_z_in_the_list_undoes(sidebar, qtbot):
    view = focus_list(sidebar, qtbot, 3)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sidebar.visible_ids() == [7, 1]
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert sidebar.visible_ids() == [7, 3, 1]


def test_the_deletion_happens_when_the_time_is_up(qtbot):
    sidebar = make(qtbot, undo_ms=100)
    deletions = record(sidebar.delete_requested)
    view = focus_list(sidebar, qtbot, 3)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert deletions == []
    with qtbot.waitSignal(sidebar.delete_requested, timeout=3000):
        pass
    assert deletions == [(3,)]
    assert not sidebar.undo_bar().isVisible()
    # The history refused (the shell reloads nothing): it is listed again, not lost from view.
    assert sidebar.visible_ids() == [7, 3, 1]


def test_a_second_delete_commits_the_first_and_quit_commits_the_last(sidebar, qtbot):
    deletions = record(sidebar.delete_requested)
    view = focus_list(sidebar, qtbot, 7)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    focus_list(sidebar, qtbot, 3)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert deletions == [(7,)]
    assert sidebar.undo_bar().text() == "Deleted “Reverse a list”"
    sidebar.commit_pending_delete()
    assert deletions == [(7,), (3,)]
    sidebar.commit_pending_delete()  # nothing pending: nothing more
    assert deletions == [(7,), (3,)]


def test_delete_from_the_context_menu_leaves_the_selection(sidebar, qtbot):
    deletions = record(sidebar.delete_requested)
    sidebar.select(7)
    choose_from_menu(qtbot, sidebar, 3, "Delete")
    assert sidebar.visible_ids() == [7, 1]
    assert sidebar.current_id() == 7
    sidebar.undo_bar().undo()
    assert sidebar.current_id() == 7 and deletions == []


def test_delete_without_a_selection_does_nothing(sidebar, qtbot):
    picked = record(sidebar.selected)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert not sidebar.undo_bar().isVisible()
    assert picked == []


def test_the_undo_bar_shows_a_hostile_title_as_text(qtbot):
    sidebar = make(qtbot)
    hostile = '<img src="/nonexistent/picture.png"> ' + "x" * 500
    sidebar.set_conversations([ConversationItem(9, hostile, NOW)])
    view = focus_list(sidebar, qtbot, 9)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    label = sidebar.undo_bar()._label
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert label.text().startswith("Deleted “<img src=")
    assert len(label.text()) < 100
