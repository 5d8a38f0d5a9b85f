"""The sidebar's full-text mode: Ctrl+Shift+F, debounced queries, the results (title, place,
date, snippet with its hits), Enter or a click on a hit, Esc back to the title filter."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow

from deltadesk.core.search_hits import SearchHit
from deltadesk.ui.search_results import HIT_BACKGROUND, NO_MATCHES, SNIPPET_ROLE, safe_snippet
from deltadesk.ui.sidebar import SEARCH_DELAY_MS, ConversationItem, ConversationList
from tests.ui.signals import record

NOW = datetime(2024, 3, 12, 15, 30).timestamp()

ITEMS = [ConversationItem(1, "Trip plan", NOW - 60), ConversationItem(2, "Rust", NOW - 600)]


def hit(cid: int, mid: int | None, snippet: str, spans=(), title="Trip plan", role="user"):
    return SearchHit(cid, mid, title, snippet, tuple(spans), role if mid else None, NOW - 120)


@pytest.fixture
def window(qtbot):
    """The sidebar in a window beside a text box, as in the app: the shortcut is the
    window's, whichever widget has the focus."""
    window = QMainWindow()
    sidebar = ConversationList(clock=lambda: NOW)
    other = QLineEdit()
    holder = QApplication.instance()
    assert holder is not None
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    central = QWidget()
    layout = QHBoxLayout(central)
    layout.addWidget(sidebar)
    layout.addWidget(other)
    window.setCentralWidget(central)
    qtbot.addWidget(window)
    window.resize(600, 500)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    sidebar.set_conversations(ITEMS)
    window.sidebar, window.other = sidebar, other
    return window


def test_ctrl_shift_f_from_anywhere_switches_to_full_text(window, qtbot):
    sidebar = window.sidebar
    window.other.setFocus()
    qtbot.waitUntil(window.other.hasFocus, timeout=1000)
    qtbot.keyClick(
        window.other,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert sidebar.is_full_text()
    assert QApplication.focusWidget() is sidebar.filter_field()
    assert "all messages" in sidebar.filter_field().placeholderText()
    assert sidebar.search_results().isVisible() and not sidebar.list_widget().isVisible()


def test_queries_are_debounced_and_results_shown(window, qtbot):
    sidebar = window.sidebar
    queries = record(sidebar.search_requested)
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "lisbon tr")
    assert queries == []  # typing: no query per key
    with qtbot.waitSignal(sidebar.search_requested, timeout=SEARCH_DELAY_MS * 8):
        pass
    assert queries == [("lisbon tr",)]
    sidebar.set_search_results(
        [
            hit(1, 11, "a day in Lisbon by train", [(9, 15), (19, 24)]),
            hit(2, None, "Rust trains", [(5, 11)], title="Rust trains"),
        ]
    )
    results = sidebar.search_results()
    assert results.hits() == [(1, 11), (2, -1)]
    assert results.item(0).data(SNIPPET_ROLE) == "a day in Lisbon by train"
    assert "you" in results.item(0).data(Qt.ItemDataRole.AccessibleTextRole)
    assert "title" in results.item(1).data(Qt.ItemDataRole.AccessibleTextRole)


def test_enter_and_click_activate_a_hit(window, qtbot):
    sidebar = window.sidebar
    opened = record(sidebar.hit_activated)
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "train")
    sidebar.set_search_results(
        [
            hit(1, 11, "by train", [(3, 8)]),
            hit(2, None, "Rust trains", [(5, 11)], title="Rust trains"),
        ]
    )
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Down)  # into the results, first chosen
    results = sidebar.search_results()
    assert QApplication.focusWidget() is results and results.currentRow() == 0
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert opened == [(1, 11)]
    qtbot.keyClick(results, Qt.Key.Key_Up)  # Up on the first hit: back into the field
    assert QApplication.focusWidget() is sidebar.filter_field()
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Down)
    rect = results.visualItemRect(results.item(1))
    qtbot.mouseClick(results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == [(1, 11), (2, -1)]


def test_esc_goes_back_to_the_title_filter_and_is_not_stop(window, qtbot):
    sidebar = window.sidebar
    stops = []
    from PySide6.QtGui import QAction, QKeySequence

    stop = QAction("Stop", window)  # the window's Esc, as MainWindow has it
    stop.setShortcut(QKeySequence("Esc"))
    stop.triggered.connect(lambda: stops.append(1))
    window.addAction(stop)
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "train")
    sidebar.set_search_results([hit(1, 11, "by train", [(3, 8)])])
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Escape)
    assert not sidebar.is_full_text() and sidebar.filter_field().text() == ""
    assert sidebar.list_widget().isVisible() and sidebar.visible_ids() == [1, 2]
    # From the results list too.
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "train")
    sidebar.set_search_results([hit(1, 11, "by train", [(3, 8)])])
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Down)
    qtbot.keyClick(sidebar.search_results(), Qt.Key.Key_Escape)
    assert not sidebar.is_full_text()
    assert QApplication.focusWidget() is sidebar.filter_field()
    assert stops == []
    qtbot.keyClick(sidebar.filter_field(), Qt.Key.Key_Escape)  # nothing to leave: Stop
    assert stops == [1]


def test_the_toggle_switches_modes(window, qtbot):
    sidebar = window.sidebar
    queries = record(sidebar.search_requested)
    sidebar.filter_field().setText("trip")
    assert sidebar.visible_ids() == [1]
    qtbot.mouseClick(sidebar._search.toggle, Qt.MouseButton.LeftButton)
    assert sidebar.is_full_text() and sidebar.filter_field().text() == ""
    qtbot.mouseClick(sidebar._search.toggle, Qt.MouseButton.LeftButton)
    assert not sidebar.is_full_text() and sidebar.visible_ids() == [1, 2]
    assert queries == []


def test_no_matches_and_an_empty_query(window, qtbot):
    sidebar = window.sidebar
    results = sidebar.search_results()
    sidebar.start_full_text_search()
    assert results.empty_text() == "Type to search every message"
    qtbot.keyClicks(sidebar.filter_field(), "zebra")
    with qtbot.waitSignal(sidebar.search_requested, timeout=SEARCH_DELAY_MS * 8):
        pass
    plain = results.viewport().grab().toImage()
    sidebar.set_search_results([])
    assert results.empty_text() == NO_MATCHES
    qtbot.waitUntil(lambda: results.viewport().grab().toImage() != plain)
    sidebar.filter_field().clear()
    qtbot.waitUntil(
        lambda: results.empty_text() == "Type to search every message", timeout=SEARCH_DELAY_MS * 8
    )


def test_results_for_another_mode_are_ignored(window):
    sidebar = window.sidebar
    sidebar.set_search_results([hit(1, 11, "x", [(0, 1)])])  # title filter: not shown
    assert sidebar.search_results().count() == 0


@pytest.mark.parametrize(
    ("snippet", "spans", "text", "kept"),
    [
        ("plain", [(0, 5)], "plain", [(0, 5)]),
        ("a\nb\tc\x00d", [(6, 7)], "a b c\ufffdd", [(6, 7)]),  # same length: offsets hold
        ("abc", [(2, 9), (-1, 2), (3, 1), (5, 6)], "abc", [(2, 3)]),  # bad offsets dropped
        ("\u202eevil", [(1, 5)], "\ufffdevil", [(1, 5)]),
    ],
)
def test_safe_snippet(snippet, spans, text, kept):
    assert safe_snippet(snippet, spans) == (text, kept)


def test_a_late_hit_is_brought_to_the_start():
    words = " ".join(f"word{i}" for i in range(30))
    start = words.index("word25")
    text, [(s, e)] = safe_snippet(words, [(start, start + 6)])
    assert text.startswith("…") and text[s:e] == "word25"
    assert s < 40


def painted_colours(results) -> set[int]:
    image = results.viewport().grab().toImage()
    return {
        QColor(image.pixel(x, y)).rgb()
        for x in range(0, image.width(), 2)
        for y in range(0, min(image.height(), 80), 2)
    }


def test_markup_in_a_snippet_is_painted_as_text(window, qtbot):
    """The snippet goes through QTextLayout: `<b>` is four characters, an image tag loads
    nothing; the hit is painted on the highlight colour, and only the hit."""
    sidebar = window.sidebar
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "x")
    hostile = 'x <img src="/nonexistent/x.png"><b>bold</b>'
    results = sidebar.search_results()
    sidebar.set_search_results([hit(1, 11, hostile, [])])
    assert QColor(HIT_BACKGROUND).rgb() not in painted_colours(results)
    sidebar.set_search_results([hit(1, 11, hostile, [(0, 1)])])
    assert results.item(0).data(SNIPPET_ROLE) == hostile
    assert QColor(HIT_BACKGROUND).rgb() in painted_colours(results)


def test_switching_modes_empties_the_field_and_its_clear_button_goes(window, qtbot):
    """Seen in a real window: the field emptied with its signals blocked kept its ⊗."""
    from PySide6.QtWidgets import QToolButton

    sidebar = window.sidebar
    field = sidebar.filter_field()
    qtbot.keyClicks(field, "trip")
    [clear] = field.findChildren(QToolButton)
    qtbot.waitUntil(clear.isVisible, timeout=2000)
    sidebar.start_full_text_search()
    assert field.text() == ""
    qtbot.waitUntil(lambda: not clear.isVisible(), timeout=2000)


def test_a_chat_waiting_for_its_undo_is_not_found(window, qtbot):
    sidebar = window.sidebar
    sidebar.select(1)
    view = sidebar.list_widget()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=1000)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sidebar.undo_bar().pending() == 1
    sidebar.start_full_text_search()
    qtbot.keyClicks(sidebar.filter_field(), "t")
    sidebar.set_search_results([hit(1, 11, "trip", [(0, 4)]), hit(2, 21, "rust", [(0, 1)])])
    assert sidebar.search_results().hits() == [(2, 21)]
