"""Links in answers (real widgets, offscreen): which open, hover shows the target, a link whose
text names another host asks first; and the view never loads a resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QImage, QTextCursor, QTextDocument
from pytestqt.qtbot import QtBot

from deltadesk.ui import chat_links
from deltadesk.ui.chat_view import ChatView, MessageView
from tests.ui.signals import record


class _UrlRecorder(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def record(self, url: QUrl) -> None:
        self.urls.append(url.toString())


@pytest.fixture
def opened() -> Iterator[list[str]]:
    recorder = _UrlRecorder()
    for scheme in ("http", "https", "mailto"):
        QDesktopServices.setUrlHandler(scheme, recorder, "record")
    yield recorder.urls
    for scheme in ("http", "https", "mailto"):
        QDesktopServices.unsetUrlHandler(scheme)


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[ChatView]:
    widget = ChatView()
    qtbot.addWidget(widget)
    widget.resize(700, 500)
    widget.show()
    yield widget


def _link_point(view: ChatView, href: str) -> QPoint:
    """Viewport coordinates of the middle of the first link to `href`."""
    block = view.document().begin()
    while block.isValid():
        iterator = block.begin()
        while not iterator.atEnd():
            fragment = iterator.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(view.document())
                cursor.setPosition(fragment.position() + fragment.length() // 2)
                return view.cursorRect(cursor).center()
            iterator += 1
        block = block.next()
    raise LookupError(href)


def _click(qtbot: QtBot, view: ChatView, href: str) -> None:
    point = _link_point(view, href)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.org/a", True),
        ("http://example.org", True),
        ("https:///nohost", False),
        ("mailto:someone@example.org", True),
        ("mailto:?attach=/etc/passwd", False),
        ("mailto:someone@example.org?attach=~/.ssh/id_rsa", False),
        ("mailto:someone@example.org?subject=hello", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
    ],
)
def test_may_open(url: str, allowed: bool) -> None:
    assert chat_links.may_open(QUrl(url)) is allowed


@pytest.mark.parametrize(
    ("text", "url", "named"),
    [
        ("https://bank.example/login", "https://evil.example/login", "bank.example"),
        ("bank.example", "https://bank.example.evil.example", "bank.example"),
        ("www.example.org", "https://example.org/x", None),
        ("example.org", "https://docs.example.org/x", None),  # a subdomain of what it says
        ("the docs", "https://evil.example", None),  # names no host: nothing to compare
        ("version 1.2", "https://evil.example", None),
        ("EXAMPLE.ORG", "https://example.org", None),
        ("bücher.example", "https://xn--bcher-kva.example", None),
        ("mail me", "mailto:a@example.org", None),
        ("bank\u200b.exa\u202emple", "https://evil.example", "bank.example"),
    ],
)
def test_mismatched_host(text: str, url: str, named: str | None) -> None:
    assert chat_links.mismatched_host(text, QUrl(url)) == named


def test_a_link_whose_text_names_another_host_asks_first(
    view: ChatView, qtbot: QtBot, opened: list[str]
) -> None:
    asked: list[tuple[str, str]] = []
    answer = {"open": False}

    def confirm(named: str, url: QUrl) -> bool:
        asked.append((named, url.toString()))
        return answer["open"]

    view.confirm_open = confirm
    view.add_message(
        MessageView(1, "assistant", "Log in at [https://bank.example](https://evil.example/x).")
    )
    _click(qtbot, view, "https://evil.example/x")
    assert asked == [("bank.example", "https://evil.example/x")]
    assert opened == []  # refused
    answer["open"] = True
    _click(qtbot, view, "https://evil.example/x")
    assert opened == ["https://evil.example/x"]


def test_a_link_whose_text_matches_opens_without_asking(
    view: ChatView, qtbot: QtBot, opened: list[str]
) -> None:
    view.confirm_open = lambda named, url: pytest.fail("asked for a matching link")
    view.add_message(
        MessageView(1, "assistant", "See [docs.example.org](https://docs.example.org/)")
    )
    _click(qtbot, view, "https://docs.example.org/")
    assert opened == ["https://docs.example.org/"]


def test_a_mailto_with_a_query_is_neither_a_link_nor_opened(
    view: ChatView, opened: list[str]
) -> None:
    view.add_message(MessageView(1, "assistant", "[write](mailto:?attach=/etc/passwd)"))
    assert "mailto:" in view.message_plain_text(1)  # shown as its source text, not a link
    view.anchorClicked.emit(QUrl("mailto:?attach=/etc/passwd"))
    view.anchorClicked.emit(QUrl("mailto:a@example.org?attach=/etc/passwd"))
    assert opened == []


def test_hovering_a_link_shows_its_target(view: ChatView, qtbot: QtBot) -> None:
    hovered = record(view.link_hovered)
    view.add_message(MessageView(1, "assistant", "[click here](https://evil.example/<b>x</b>)"))
    view.highlighted.emit(QUrl("https://evil.example/x"))
    view.highlighted.emit(QUrl())
    view.highlighted.emit(QUrl("copy:1.0"))  # the view's own links say nothing
    assert hovered == [("https://evil.example/x",), ("",), ("",)]


def test_the_window_shows_the_hovered_target_in_its_status_bar(qtbot: QtBot) -> None:
    from deltadesk.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    window.chat_view.highlighted.emit(QUrl("https://evil.example/path"))
    assert window.statusBar().currentMessage() == "https://evil.example/path"
    window.chat_view.highlighted.emit(QUrl())
    assert window.statusBar().currentMessage() == ""


def test_the_confirmation_is_plain_text(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[tuple[Qt.TextFormat, str]] = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append((box.textFormat(), box.text()))
        box.reject()

    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, answer)
    opened = chat_links.ask_before_opening(None, "<b>bank</b>", QUrl("https://evil.example/"))
    assert opened is False
    assert seen and seen[0][0] == Qt.TextFormat.PlainText and "<b>bank</b>" in seen[0][1]


def test_no_resource_is_ever_loaded(view: ChatView, tmp_path: Path) -> None:
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    path = tmp_path / "big.png"
    assert image.save(str(path))
    url = QUrl.fromLocalFile(str(path))
    # Whatever ends up in the document, the view answers no resource request.
    cursor = QTextCursor(view.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.insertHtml(f'<img src="{url.toString()}"><img src="{path}">')
    view.viewport().repaint()  # layout and painting ask for the images
    assert view.document().size().height() < 200  # no 300 px picture was laid out
    assert view.loadResource(QTextDocument.ResourceType.ImageResource.value, url).isNull()
