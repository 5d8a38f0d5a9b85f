"""The chat view's tree actions with real widgets (offscreen): the ◀ n/m ▶ switcher, Edit in
place, Regenerate and Continue for the right statuses, the figures line, foreign ids."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from deltadesk.ui.chat_view import ChatView, MessageView
from tests.ui.signals import record

HOSTILE = '<img src="/dev/zero"><b>bold</b> &amp; [x](https://evil.example) \x1b[31m'


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget


def _anchors(document: QTextDocument) -> list[str]:
    hrefs = []
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            char_format = iterator.fragment().charFormat()
            if char_format.isAnchor() and char_format.anchorHref():
                hrefs.append(char_format.anchorHref())
            iterator += 1
        block = block.next()
    return hrefs


def _has_image(document: QTextDocument) -> bool:
    block = document.begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            if iterator.fragment().charFormat().isImageFormat():
                return True
            iterator += 1
        block = block.next()
    return False


def _link_point(view: ChatView, href: str) -> QPoint:
    """Where the link is drawn in the viewport (the middle of its first character)."""
    block = view.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().anchorHref() == href:
                left, right = QTextCursor(view.document()), QTextCursor(view.document())
                left.setPosition(fragment.position())
                right.setPosition(fragment.position() + 1)
                a, b = view.cursorRect(left), view.cursorRect(right)
                return QPoint((a.left() + b.left()) // 2, a.center().y())
            iterator += 1
        block = block.next()
    raise AssertionError(f"no link {href}")


def _click(qtbot: QtBot, view: ChatView, href: str) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_link_point(view, href))


def _conversation(prompt_siblings: tuple[int, int], answer_siblings: tuple[int, int]) -> list:
    return [
        MessageView(1, "user", "Question", sibling_index=prompt_siblings[0],
                    sibling_count=prompt_siblings[1]),
        MessageView(2, "assistant", "Answer", sibling_index=answer_siblings[0],
                    sibling_count=answer_siblings[1]),
    ]  # fmt: skip


# --- the branch switcher -------------------------------------------------------------------------


def test_no_switcher_without_siblings(view: ChatView) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    assert not [h for h in _anchors(view.document()) if h.startswith("branch")]
    assert "/1" not in view.toPlainText()


def test_switcher_shows_the_place_and_disables_the_ends(view: ChatView) -> None:
    view.show_messages(_conversation((1, 2), (3, 3)))
    text = view.toPlainText()
    assert "◀ 1/2 ▶" in text and "◀ 3/3 ▶" in text
    anchors = _anchors(view.document())
    assert "branch-next:1" in anchors and "branch-prev:1" not in anchors  # the first prompt
    assert "branch-prev:2" in anchors and "branch-next:2" not in anchors  # the last answer


def test_middle_sibling_steps_both_ways_with_real_clicks(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation((1, 1), (2, 3)))
    steps = record(view.branch_requested)
    _click(qtbot, view, "branch-prev:2")
    _click(qtbot, view, "branch-next:2")
    assert steps == [(2, -1), (2, 1)]


def test_set_siblings_updates_the_header_in_place(view: ChatView) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    before = view.message_plain_text(2)
    view.set_siblings(2, 2, 2)
    assert "◀ 2/2 ▶" in view.toPlainText()
    assert "branch-prev:2" in _anchors(view.document())
    assert view.message_plain_text(2) == before
    view.set_siblings(2, 1, 1)
    assert "◀" not in view.toPlainText()


def test_a_restarted_answer_keeps_its_place_among_its_siblings(view: ChatView) -> None:
    view.show_messages(_conversation((1, 1), (2, 2)))
    view.begin_streaming(2)  # a continue streams into the same message
    view.append_text(2, "Answer, continued")
    assert "◀ 2/2 ▶" in view.toPlainText()
    view.end_streaming(2, "done")
    assert view.message_plain_text(2) == "Answer, continued"


def test_the_time_a_message_was_written_is_in_its_header(view: ChatView) -> None:
    written = datetime(2020, 5, 17, 14, 3).timestamp()
    view.show_messages([MessageView(1, "user", "Old question", created_at=written)])
    assert "2020-05-17 14:03" in view.toPlainText()
    assert view.message_plain_text(1) == "Old question"


def test_older_messages_rendered_later_get_their_switcher_and_figures(
    view: ChatView, qtbot: QtBot
) -> None:
    messages = [
        MessageView(i, "user" if i % 2 else "assistant", "x" * 3000, figures=f"figures {i}")
        for i in range(1, 61)
    ]
    messages[1] = MessageView(2, "assistant", "old answer", sibling_index=1, sibling_count=2)
    view.show_messages(messages)
    assert view.pending_message_count > 0  # message 2 is still waiting above
    view.set_message_figures(2, "set while it waited")
    qtbot.waitUntil(lambda: view.pending_message_count == 0, timeout=20_000)
    assert "branch-next:2" in _anchors(view.document())
    text = view.toPlainText()
    assert "set while it waited" in text and "figures 60" in text


# --- edit in place -------------------------------------------------------------------------------


def test_edit_opens_in_place_and_enter_sends_the_new_text(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    edits = record(view.edit_submitted)
    _click(qtbot, view, "edit:1")
    editor = view.editor
    assert editor.isVisible()
    assert editor.input.toPlainText() == "Question"
    # It lies over the prompt's box, not somewhere else in the view.
    assert abs(editor.geometry().top() - _link_point(view, "edit:1").y()) < 60
    qtbot.keyClicks(editor.input, " again")
    qtbot.keyClick(editor.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(editor.input, "two lines")
    assert edits == []  # Shift+Enter is a new line, not a send
    qtbot.keyClick(editor.input, Qt.Key.Key_Return)
    assert edits == [(1, "Question again\ntwo lines")]
    assert not editor.isVisible()
    assert view.message_plain_text(1) == "Question"  # the old prompt stays as it was


def test_the_editor_stays_on_its_message_when_scrolled_or_resized(
    view: ChatView, qtbot: QtBot
) -> None:
    view.show_messages(
        [MessageView(i, "user" if i % 2 else "assistant", "words " * 80) for i in range(1, 21)]
    )
    view.edit_message(11)

    def on_its_box() -> bool:
        # Where the prompt's box is drawn in the viewport (inside its frame's top margin);
        # layout positions are fractional, the editor's whole pixels.
        frame = view._chat.entries[11].frame
        top = view.document().documentLayout().frameBoundingRect(frame).top()
        drawn = top + frame.frameFormat().topMargin() - view.verticalScrollBar().value()
        return abs(view.editor.geometry().top() - drawn) <= 1

    assert on_its_box()
    bar = view.verticalScrollBar()
    bar.setValue(bar.value() + 57)
    qtbot.waitUntil(on_its_box)
    view.resize(450, 500)
    qtbot.waitUntil(on_its_box)
    assert view.editor.geometry().right() <= view.viewport().width()


def test_escape_cancels_the_edit(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    edits = record(view.edit_submitted)
    view.anchorClicked.emit(QUrl("edit:1"))
    qtbot.keyClicks(view.editor.input, "something else")
    qtbot.keyClick(view.editor.input, Qt.Key.Key_Escape)
    assert not view.editor.isVisible()
    assert edits == []
    view.anchorClicked.emit(QUrl("edit:1"))  # opened again: the stored text, not the draft
    assert view.editor.input.toPlainText() == "Question"


def test_an_empty_edit_is_not_sent(view: ChatView, qtbot: QtBot) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    edits = record(view.edit_submitted)
    view.edit_message(1)
    view.editor.input.clear()
    qtbot.keyClick(view.editor.input, Qt.Key.Key_Return)
    assert edits == [] and view.editor.isVisible()
    assert not view.editor.send_button.isEnabled()


def test_only_prompts_can_be_edited_and_a_new_conversation_closes_the_editor(
    view: ChatView,
) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    assert "edit:1" in _anchors(view.document())
    assert "edit:2" not in _anchors(view.document())
    view.edit_message(2)
    assert not view.editor.isVisible()
    view.edit_message(1)
    assert view.editor.isVisible()
    view.show_messages([MessageView(9, "user", "Elsewhere")])
    assert not view.editor.isVisible() and view.editor.message_id is None


# --- regenerate, continue, retry: the right links for the right statuses -------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("done", {"copy-answer", "regenerate"}),
        ("stopped", {"copy-answer", "regenerate", "continue"}),
        ("interrupted", {"copy-answer", "regenerate", "continue"}),
        ("failed", {"copy-answer", "retry"}),  # Retry is the regenerate of a failed answer
    ],
)
def test_actions_follow_the_status(view: ChatView, status: str, expected: set[str]) -> None:
    view.add_message(MessageView(4, "assistant", "Some text", status=status))
    actions = {h.split(":")[0] for h in _anchors(view.document()) if h.endswith(":4")}
    assert actions == expected


def test_a_streaming_answer_offers_nothing_until_it_ends(view: ChatView, qtbot: QtBot) -> None:
    view.begin_streaming(4)
    view.append_text(4, "Half")
    view.set_message_figures(4, "model · 12 tok/s")
    assert not [h for h in _anchors(view.document()) if h.endswith(":4")]
    view.end_streaming(4, "stopped")
    regenerated, continued = record(view.regenerate_requested), record(view.continue_requested)
    _click(qtbot, view, "regenerate:4")
    _click(qtbot, view, "continue:4")
    assert regenerated == [(4,)] and continued == [(4,)]


def test_a_status_change_moves_the_links(view: ChatView) -> None:
    view.add_message(MessageView(4, "assistant", "Text", status="failed"))
    view.set_message_error(4, "done")
    assert {h for h in _anchors(view.document()) if h.endswith(":4")} == {
        "copy-answer:4",
        "regenerate:4",
    }


def test_no_actions_where_nothing_acts_on_them(qtbot: QtBot) -> None:
    quiet = ChatView()
    qtbot.addWidget(quiet)
    quiet.show_actions = False
    quiet.show_messages(
        [
            MessageView(1, "user", "Q", sibling_count=2),
            MessageView(2, "assistant", "A", status="interrupted", figures="m · interrupted"),
        ]
    )
    assert _anchors(quiet.document()) == []
    assert "m · interrupted" in quiet.toPlainText()


# --- figures -------------------------------------------------------------------------------------


def test_figures_show_under_the_answer_as_plain_text(view: ChatView) -> None:
    view.show_messages([MessageView(2, "assistant", "Answer", figures=HOSTILE)])
    text = view.toPlainText()
    assert '<img src="/dev/zero"><b>bold</b> &amp; [x](https://evil.example)' in text
    assert "\x1b" not in text
    assert not _has_image(view.document())
    assert [h for h in _anchors(view.document()) if "evil" in h] == []
    assert view.message_plain_text(2) == "Answer"  # the figures are not part of the answer
    assert text.index("Answer") < text.index("/dev/zero")


def test_figures_update_live_while_streaming_without_touching_the_answer(
    view: ChatView, qtbot: QtBot
) -> None:
    view.begin_streaming(3)
    view.append_text(3, "Streaming **text**")
    view.set_message_figures(3, "gpt · first token 812 ms")
    assert "gpt · first token 812 ms" in view.toPlainText()  # the first one shows at once
    tail = view.tail_position(3)
    view.set_message_figures(3, "gpt · first token 812 ms · 41 tok/s · 230 tokens")
    qtbot.waitUntil(lambda: "41 tok/s · 230 tokens" in view.toPlainText())
    assert view.tail_position(3) == tail
    view.append_text(3, " and more")
    assert view.message_plain_text(3) == "Streaming text and more"
    assert view.toPlainText().count("first token") == 1
    view.set_message_figures(3, "")
    qtbot.waitUntil(lambda: "first token" not in view.toPlainText())


def test_streaming_figures_are_drawn_a_few_times_a_second_and_the_last_one_shows(
    view: ChatView, qtbot: QtBot
) -> None:
    view.begin_streaming(3)
    view.append_text(3, "Streaming")
    drawn: list[str] = []
    view.document().contentsChanged.connect(lambda: drawn.append(view.toPlainText()))
    for tokens in range(1, 101):  # a frame clock's worth of updates in a moment
        view.set_message_figures(3, f"gpt · {tokens} tokens")
    assert len(drawn) <= 2
    qtbot.waitUntil(lambda: "gpt · 100 tokens" in view.toPlainText())
    view.set_message_figures(3, "gpt · 101 tokens")
    view.end_streaming(3, "done")  # the end shows the latest figures at once
    assert "gpt · 101 tokens" in view.toPlainText()
    view.set_message_figures(3, "gpt · 101 tokens · done")  # and a finished one: at once
    assert "gpt · 101 tokens · done" in view.toPlainText()


def test_a_figures_update_costs_the_same_in_a_long_conversation(view: ChatView) -> None:
    def touched_by_updates() -> int:
        changes: list[int] = []

        def count(_at: int, removed: int, added: int) -> None:
            changes.append(removed + added)

        view.document().contentsChange.connect(count)
        for second in range(5):
            view.set_message_figures(99, f"gpt · first token 812 ms · {40 + second} tok/s")
        view.document().contentsChange.disconnect(count)
        return max(changes)

    view.add_message(MessageView(99, "assistant", "short", figures="gpt"))
    short = touched_by_updates()
    view.clear_messages()
    view.begin_streaming(99)
    view.append_text(99, "\n\n".join(f"Paragraph {n} with some words." for n in range(3000)))
    view.end_streaming(99, "done")  # a finished answer's line changes at once
    long = touched_by_updates()
    assert long == short < 200  # the line itself, not the answer above it


def test_figures_stay_below_a_note_added_later(view: ChatView) -> None:
    view.begin_streaming(3)
    view.append_text(3, "Partial")
    view.set_message_figures(3, "the figures")
    view.end_streaming(3, "interrupted", error_message="Connection lost")
    text = view.toPlainText()
    assert text.index("Partial") < text.index("Connection lost") < text.index("the figures")


# --- text for messages the view does not show ----------------------------------------------------


def test_appends_for_an_unknown_message_change_nothing(view: ChatView) -> None:
    view.show_messages(_conversation((1, 1), (1, 1)))
    view.begin_streaming(3)
    view.append_text(3, "mine")
    before = view.toPlainText()
    # Another conversation's stream: its ids are not shown here.
    view.append_text(77, "foreign text")
    view.append_reasoning(77, "foreign thoughts")
    view.set_waiting_note(77, "waiting for the first token · 9 s")
    view.set_message_figures(77, "foreign figures")
    view.set_siblings(77, 2, 2)
    view.end_streaming(77, "done")
    view.edit_message(77)
    assert view.toPlainText() == before
    assert view.is_streaming()
    view.append_text(3, " still mine")
    view.end_streaming(3, "done")
    assert view.message_plain_text(3) == "mine still mine"
    assert view.message_ids() == [1, 2, 3]
