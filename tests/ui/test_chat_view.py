"""The chat view with real widgets (offscreen): streaming, freezing, notes, links, scrolling."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import random
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QTextBlock,
    QTextCursor,
    QTextDocument,
)
from pytestqt.qtbot import QtBot

from deltadesk.ui import tail_renderer
from deltadesk.ui.chat_view import ChatView, MessageView

ANSWER = """# Reading CSV

Use the **csv** module, not *pandas*; `DictReader` gives dicts. Math: $x^2$.

```python
import csv
with open(path) as f:
    rows = list(csv.DictReader(f))
```

| Option | Default |
|:--|--:|
| newline | "" |
| encoding | utf-8 |

1. open the file
2. read it
   - lazily
   - or all at once

> A quote
> on two lines

---

Setext heading
--------------

    indented code

Closing words with a [link](https://example.org) and ![img](https://example.org/i.png).
"""

DOCUMENTS = [
    ANSWER,
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n| c |\n|---|\n| 3 |\n\n```\ncode\n```\n```js\nx\n```",
    "para\n- list\n  - nested\n\n      nested code\n> quote\n> ```\n> fenced in quote\n> ```\n",
    "```python\nunclosed fence\nstill code",
    "- a\n\n- b\n* c\n1) d\n\n   ```\n   in item\n   ```\ntext after",
]


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    yield widget


def _chunks(text: str, rng: random.Random) -> list[str]:
    chunks, position = [], 0
    while position < len(text):
        size = rng.choice([1, 2, 3, 5, 8, 13, 40])
        chunks.append(text[position : position + size])
        position += size
    return chunks


def _stream(view: ChatView, message_id: int, chunks: list[str], status: str = "done") -> None:
    view.begin_streaming(message_id)
    for chunk in chunks:
        view.append_text(message_id, chunk)
    view.end_streaming(message_id, status)


def _blocks(document: QTextDocument, start: int, end: int) -> Iterator[QTextBlock]:
    block = document.findBlock(start)
    while block.isValid() and block.position() <= end:
        yield block
        block = block.next()


def _structure(view: ChatView, message_id: int) -> list[tuple[object, ...]]:
    """What each block of an answer looks like: text, heading, code, list, table, margins."""
    document = view.document()
    start, end = view.answer_span(message_id)
    lists: dict[int, int] = {}
    rows = []
    for block in _blocks(document, start, end):
        fmt = block.blockFormat()
        list_index = fmt.objectIndex()
        rows.append(
            (
                block.text(),
                fmt.headingLevel(),
                fmt.nonBreakableLines(),
                fmt.topMargin(),
                fmt.bottomMargin(),
                fmt.leftMargin(),
                lists.setdefault(list_index, len(lists)) if list_index >= 0 else None,
                type(document.frameAt(block.position())).__name__,
            )
        )
    return rows


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


# --- streaming equals showing ------------------------------------------------------------------


@pytest.mark.parametrize("document_index", range(len(DOCUMENTS)))
def test_streaming_in_random_chunks_ends_like_showing_the_finished_message(
    view: ChatView, document_index: int
) -> None:
    text = DOCUMENTS[document_index]
    view.add_message(MessageView(1, "assistant", text))
    expected_text = view.message_plain_text(1)
    expected_structure = _structure(view, 1)
    rng = random.Random(document_index)
    for message_id in (2, 3, 4):
        _stream(view, message_id, _chunks(text, rng))
        assert view.message_plain_text(message_id) == expected_text
        assert _structure(view, message_id) == expected_structure
    assert "csv.DictReader" in view.message_plain_text(1) or document_index != 0


def test_one_character_at_a_time(view: ChatView) -> None:
    view.add_message(MessageView(1, "assistant", ANSWER))
    _stream(view, 2, list(ANSWER))
    assert view.message_plain_text(2) == view.message_plain_text(1)
    assert _structure(view, 2) == _structure(view, 1)


# --- frozen blocks stay untouched --------------------------------------------------------------


def test_edits_never_touch_the_frozen_part(view: ChatView, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every append must render at once here: no backoff on a busy machine.
    monkeypatch.setattr(tail_renderer, "SLOW_RENDER_SECONDS", 60.0)
    view.add_message(MessageView(1, "user", "Tell me a long story"))
    text = "".join(
        f"## Part {n}\n\nParagraph {n} with *some* words.\n\n- item {n}\n\n" for n in range(40)
    )
    changes: list[tuple[int, int, int]] = []
    view.document().contentsChange.connect(lambda pos, rem, add: changes.append((pos, rem, add)))
    view.begin_streaming(2)
    answer_start = view.answer_span(2)[0]
    rng = random.Random(7)
    tails = []
    for chunk in _chunks(text, rng):
        tail_before = view.tail_position(2)
        frozen_before = _text_between(view.document(), answer_start, tail_before)
        changes.clear()
        view.append_text(2, chunk)
        assert changes, "every append changes the document"
        assert all(position >= tail_before for position, _, _ in changes)
        assert _text_between(view.document(), answer_start, tail_before) == frozen_before
        tails.append(view.tail_position(2))
    assert tails == sorted(tails)  # the frozen part only grows
    assert tails[-1] - answer_start > 0.9 * len(view.message_plain_text(2))


def _text_between(document: QTextDocument, start: int, end: int) -> str:
    cursor = QTextCursor(document)
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    return cursor.selectedText()


def test_work_per_append_does_not_grow_with_the_answer(view: ChatView) -> None:
    changes: list[int] = []
    view.document().contentsChange.connect(lambda pos, rem, add: changes.append(rem + add))
    view.begin_streaming(1)
    per_append = []
    for n in range(150):
        changes.clear()
        view.append_text(1, f"Paragraph number {n} has a handful of words in it.\n\n")
        per_append.append(sum(changes))
    # Characters touched per flush: the tail only, the same at the end as at the start.
    assert max(per_append[100:]) <= 2 * max(per_append[1:50])


# --- notes: errors beside the answer -----------------------------------------------------------


def test_failed_answer_gets_an_error_note_with_retry_outside_the_text(
    view: ChatView, qtbot: QtBot
) -> None:
    view.begin_streaming(5)
    view.append_text(5, "Partial answer")
    view.end_streaming(5, "failed", "server", "The provider failed (502).")
    assert view.message_plain_text(5) == "Partial answer"
    assert "The provider failed (502)." in view.toPlainText()
    assert "retry:5" in _anchors(view.document())
    assert "continue:5" not in _anchors(view.document())
    with qtbot.waitSignal(view.retry_requested, timeout=1000) as blocker:
        view.anchorClicked.emit(QUrl("retry:5"))
    assert blocker.args == [5]


def test_interrupted_answer_offers_continue_and_regenerate(view: ChatView, qtbot: QtBot) -> None:
    view.add_message(
        MessageView(8, "assistant", "Cut", status="interrupted", error_message="Connection lost")
    )
    assert view.message_plain_text(8) == "Cut"
    assert {"continue:8", "regenerate:8"} <= set(_anchors(view.document()))
    assert "retry:8" not in _anchors(view.document())
    with qtbot.waitSignal(view.continue_requested, timeout=1000) as blocker:
        view.anchorClicked.emit(QUrl("continue:8"))
    assert blocker.args == [8]


def test_an_answer_stopped_by_the_size_cap_says_so(view: ChatView) -> None:
    view.begin_streaming(4)
    view.append_text(4, "A very long answer")
    view.end_streaming(4, "stopped", "too_long", "Stopped: the answer passed the 10 MB limit.")
    assert "Stopped: the answer passed the 10 MB limit." in view.toPlainText()
    assert view.message_plain_text(4) == "A very long answer"  # the note is beside it


def test_stopped_is_a_quiet_note_and_done_clears_it(view: ChatView) -> None:
    _stream(view, 3, ["Half an ans"], status="stopped")
    assert "Stopped" in view.toPlainText()
    assert view.message_plain_text(3) == "Half an ans"
    assert "continue:3" in _anchors(view.document())
    assert "retry:3" not in _anchors(view.document())
    view.set_message_error(3, "done")
    assert "continue:3" not in _anchors(view.document())
    assert "Stopped" not in view.toPlainText()
    assert view.message_plain_text(3) == "Half an ans"


# --- code copy ----------------------------------------------------------------------------------


def test_copy_link_puts_the_code_on_the_clipboard(view: ChatView) -> None:
    view.add_message(MessageView(1, "assistant", "```\nfirst()\n```\n"))
    view.begin_streaming(2)
    view.append_text(2, "Two blocks:\n\n```python\nprint('a < b')\n```\n\n```sh\necho strea")
    copy_links = [h for h in _anchors(view.document()) if h.startswith("copy:")]
    assert copy_links == ["copy:1.0", "copy:2.0", "copy:2.1"]
    clipboard = QGuiApplication.clipboard()
    view.anchorClicked.emit(QUrl("copy:2.0"))
    assert clipboard.text() == "print('a < b')"
    view.anchorClicked.emit(QUrl("copy:2.1"))  # the open tail's block, copied as it is now
    assert clipboard.text() == "echo strea"
    view.anchorClicked.emit(QUrl("copy:1.0"))
    assert clipboard.text() == "first()"


# --- reasoning ----------------------------------------------------------------------------------


def test_reasoning_streams_above_and_folds_when_the_answer_starts(view: ChatView) -> None:
    view.begin_streaming(4)
    view.append_reasoning(4, "First I consider")
    view.append_reasoning(4, "ation of the question.")
    assert "Thinking" in view.toPlainText()
    assert "First I consideration of the question." in view.toPlainText()
    view.append_text(4, "The answer.")
    assert "consideration" not in view.toPlainText()
    assert "▸ Thought\n" in view.toPlainText()  # how long is not known yet: no number
    assert "words" not in view.toPlainText()
    view.set_thought_for(4, 3240.0)  # from the stream's figures
    assert "▸ Thought for 3.2 s" in view.toPlainText()
    assert view.message_plain_text(4) == "The answer."
    view.anchorClicked.emit(QUrl("toggle-reasoning:4"))
    assert "First I consideration of the question." in view.toPlainText()
    view.anchorClicked.emit(QUrl("toggle-reasoning:4"))
    assert "consideration" not in view.toPlainText()
    assert view.message_plain_text(4) == "The answer."


def test_keep_reasoning_open(view: ChatView) -> None:
    view.keep_reasoning_open = True
    view.begin_streaming(4)
    view.append_reasoning(4, "Thinking hard.")
    view.append_text(4, "Answer.")
    view.end_streaming(4, "done")
    assert "Thinking hard." in view.toPlainText()


def test_stored_reasoning_is_folded(view: ChatView) -> None:
    view.show_messages([MessageView(1, "assistant", "Answer", reasoning="secret thoughts here")])
    assert "secret" not in view.toPlainText()
    assert "▸ Thought\n" in view.toPlainText()  # stored without its time: no number
    assert "toggle-reasoning:1" in _anchors(view.document())


def test_stored_reasoning_says_how_long_the_model_thought(view: ChatView) -> None:
    view.show_messages(
        [
            MessageView(1, "assistant", "A", reasoning="quick", reasoning_ms=3240.0),
            MessageView(2, "assistant", "B", reasoning="slow", reasoning_ms=65_000.0),
            MessageView(3, "assistant", "C", reasoning="slower", reasoning_ms=27_400.0),
        ]
    )
    text = view.toPlainText()
    assert "▸ Thought for 3.2 s" in text
    assert "▸ Thought for 1 min 5 s" in text
    assert "▸ Thought for 27 s" in text
    view.toggle_reasoning(1)  # opened: the time stays in its line
    assert "▾ Thought for 3.2 s" in view.toPlainText() and "quick" in view.toPlainText()


# --- scrolling ----------------------------------------------------------------------------------


def test_follows_the_stream_until_scrolled_up_and_the_jump_button_resumes(
    view: ChatView, qtbot: QtBot
) -> None:
    view.show()
    qtbot.waitExposed(view)
    bar = view.verticalScrollBar()
    view.begin_streaming(1)
    for n in range(60):
        view.append_text(1, f"Line {n} of a long answer.\n\n")
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=2000)
    assert view.following and not view.jump_button.isVisible()

    bar.setValue(0)  # the user scrolls up to read
    assert not view.following
    for n in range(20):
        view.append_text(1, f"More {n}.\n\n")
    qtbot.waitUntil(lambda: view.jump_button.isVisible(), timeout=2000)
    assert bar.value() == 0

    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert view.following and bar.value() == bar.maximum()
    assert not view.jump_button.isVisible()
    view.append_text(1, "And more.\n\n" * 10)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=2000)

    bar.setValue(0)
    view.end_streaming(1, "done")
    # The answer ended below while the user reads above: the button stays, and says so.
    assert view.jump_button.isVisible()
    assert "ended" in view.jump_button.text()
    bar.setValue(bar.maximum() // 2)  # still above the end: it stays
    assert view.jump_button.isVisible()
    bar.setValue(bar.maximum())  # scrolled down to the end: gone
    assert not view.jump_button.isVisible()
    bar.setValue(0)  # scrolling up again after that: nothing new below, no button
    assert not view.jump_button.isVisible()


def test_an_answer_that_ends_in_view_leaves_no_jump_button(view: ChatView) -> None:
    view.begin_streaming(1)
    view.append_text(1, "Short.")
    view.end_streaming(1, "done")
    assert view.following and not view.jump_button.isVisible()


# --- untrusted content -------------------------------------------------------------------------


class _UrlRecorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened_urls() -> Iterator[list[str]]:
    """Catches QDesktopServices.openUrl for these schemes instead of starting a browser."""
    recorder = _UrlRecorder()
    schemes = ["http", "https", "mailto", "file", "javascript", "data"]
    for scheme in schemes:
        QDesktopServices.setUrlHandler(scheme, recorder, "record")
    yield recorder.urls
    for scheme in schemes:
        QDesktopServices.unsetUrlHandler(scheme)


def test_only_web_and_mail_links_are_opened(view: ChatView, opened_urls: list[str]) -> None:
    for url in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,hi",
        "about:blank",
        "copy:99.0",
        "retry:abc",
        "toggle-reasoning:42",
        "https://example.org/a",
        "mailto:someone@example.org",
    ]:
        view.anchorClicked.emit(QUrl(url))
    assert opened_urls == ["https://example.org/a", "mailto:someone@example.org"]


def test_images_are_never_loaded(view: ChatView) -> None:
    view.add_message(
        MessageView(1, "assistant", "![cat](https://example.org/cat.png)\n\n<img src='x.png'>")
    )
    block = view.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            assert not iterator.fragment().charFormat().isImageFormat()
            iterator += 1
        block = block.next()
    assert "[image: cat]" in view.message_plain_text(1)
    resource = QTextDocument.ResourceType.ImageResource
    assert view.loadResource(resource, QUrl("https://example.org/cat.png")).isNull()
    assert view.loadResource(resource, QUrl("file:///etc/hostname")).isNull()


def test_long_lines_and_control_characters_are_harmless(view: ChatView) -> None:
    view.begin_streaming(1)
    line = "word\x00\x1b[0m " * 20_000
    for start in range(0, len(line), 4096):
        view.append_text(1, line[start : start + 4096])
    view.end_streaming(1, "done")
    text = view.message_plain_text(1)
    assert "\x00" not in text and "\x1b" not in text
    # 200,000 characters with 20,000 "[": a page ends on its markup budget; Show more
    # lays out one page after another until all of it is shown.
    assert 0 < text.count("word") < 20_000
    assert "Showing" in view.toPlainText()
    pages = 1
    while "Show more" in view.toPlainText():
        view.show_more(1)
        pages += 1
    assert pages > 2
    assert view.message_plain_text(1).count("word") == 20_000


# --- the conversation as a whole ----------------------------------------------------------------


def test_show_messages_replaces_and_user_text_stays_plain(view: ChatView) -> None:
    view.show_messages([MessageView(1, "assistant", "previous conversation")])
    view.show_messages(
        [
            MessageView(1, "user", "# not a heading\n*not emphasis*"),
            MessageView(2, "assistant", "**bold**"),
        ]
    )
    assert view.message_ids() == [1, 2]
    assert view.message_plain_text(1) == "# not a heading\n*not emphasis*"
    assert view.message_plain_text(2) == "bold"
    assert "previous conversation" not in view.toPlainText()
    assert "You" in view.toPlainText() and "Assistant" in view.toPlainText()
    view.clear_messages()
    assert view.message_ids() == []
    assert view.toPlainText().strip() == ""


def test_text_for_unknown_or_finished_messages_is_ignored(view: ChatView) -> None:
    view.append_text(404, "nobody")
    _stream(view, 1, ["done"])
    view.append_text(1, " more")
    assert view.message_plain_text(1) == "done"
    assert "nobody" not in view.toPlainText()


def test_begin_streaming_again_restarts_the_message(view: ChatView) -> None:
    _stream(view, 1, ["first try"], status="failed")
    view.begin_streaming(1)
    view.append_text(1, "second try")
    view.end_streaming(1, "done")
    assert view.message_ids() == [1]
    assert view.message_plain_text(1) == "second try"
    assert "retry:1" not in _anchors(view.document())


def test_a_huge_open_block_backs_off_and_then_catches_up(
    view: ChatView, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every render counts as slow here, so the backoff is exercised on any machine.
    monkeypatch.setattr(tail_renderer, "SLOW_RENDER_SECONDS", 0.0)
    renders = []
    view.document().contentsChange.connect(lambda *_: renders.append(1))
    view.begin_streaming(1)
    text = "one very long paragraph " * 2000
    appends = 0
    for start in range(0, len(text), 100):
        view.append_text(1, text[start : start + 100])
        appends += 1
    assert len(renders) < appends / 2  # most appends only queued their text
    expected = text.strip()
    qtbot.waitUntil(lambda: view.message_plain_text(1) == expected, timeout=5000)
    view.end_streaming(1, "done")
    assert view.message_plain_text(1) == expected
