"""Outside text never becomes rich text: every label, tooltip and message box of the window and
the settings dialog, after hostile text went through their public methods (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtGui import Qt as QtGuiNamespace
from PySide6.QtWidgets import QLabel, QListWidget, QWidget
from pytestqt.qtbot import QtBot

from deltadesk.core.profiles import Profile
from deltadesk.ui.chat_view import MessageView
from deltadesk.ui.main_window import MainWindow
from deltadesk.ui.plain_text import plain_tooltip
from deltadesk.ui.settings_dialog import SettingsDialog
from deltadesk.ui.sidebar import ConversationItem

# No "/dev/zero" here: should a label regress to rich text, it would eat all memory rather than
# fail. test_a_file_named_in_a_label_is_not_loaded sees the loading with a real picture.
HOSTILE = [
    '<img src="/nonexistent/deltadesk-test.png">',
    "<b>bold</b> and <i>it</i>",
    '<a href="file:///etc/passwd">click</a>',
    "<qt><h1>big</h1></qt>",
]


@pytest.fixture
def big_image(tmp_path: Path) -> str:
    """A 300×300 picture: a label that rendered `<img src=...>` would grow to its size."""
    path = tmp_path / "big.png"
    image = QImage(300, 300, QImage.Format.Format_RGB32)
    image.fill(QColor("red"))
    assert image.save(str(path))
    return str(path)


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    widget = MainWindow()
    qtbot.addWidget(widget)
    yield widget


def _assert_no_rich_labels(root: QWidget, expected: list[str]) -> None:
    labels = root.findChildren(QLabel)
    for label in labels:
        if label.textFormat() != Qt.TextFormat.PlainText:
            assert not QtGuiNamespace.mightBeRichText(label.text()), label.text()
    shown = " ".join(label.text() for label in labels)
    for text in expected:  # the feed really reached the labels, literally
        assert text in shown, text


def _assert_tooltips_escaped(root: QWidget) -> None:
    tooltips = [widget.toolTip() for widget in root.findChildren(QWidget)]
    for view in root.findChildren(QListWidget):
        tooltips += [view.item(row).toolTip() for row in range(view.count())]
    for tip in tooltips:
        for tag in ("<img", "<b>", "<a ", "<h1>", "<qt>"):
            assert tag not in tip, tip


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_window_shows_hostile_text_literally(window: MainWindow, hostile: str) -> None:
    window.set_title(hostile)
    window.set_status(f"Error: {hostile}")
    window.show_notice(f"notice {hostile}")
    window.show_banner(f"banner {hostile}")
    window.set_profiles([hostile, "plain"], hostile)
    window.sidebar.set_conversations([ConversationItem(1, hostile, 0.0)])
    window.chat_view.show_messages(
        [
            MessageView(1, "user", hostile),
            MessageView(2, "assistant", hostile, status="failed", error_message=hostile),
        ]
    )
    window.show()
    _assert_no_rich_labels(
        window, [hostile, f"Error: {hostile}", f"notice {hostile}", f"banner {hostile}"]
    )
    _assert_tooltips_escaped(window)
    assert window.windowTitle().startswith(hostile)  # a window title is never rich text
    assert hostile in window.chat_view.document().toPlainText()


def test_a_file_named_in_a_label_is_not_loaded(window: MainWindow, big_image: str) -> None:
    hostile = f'<img src="{big_image}">'
    window.set_status(hostile)
    window.set_title(hostile)
    window.show_banner(hostile)
    window.show()
    for label in (window.status_label, window.conversation_title, window.banner_label):
        assert label.text() == hostile
        assert label.sizeHint().height() < 100  # a line of text, not the 300 px picture


def test_the_undo_bar_after_a_delete_is_plain_text(window: MainWindow) -> None:
    bar = window.sidebar.undo_bar()
    bar.offer(1, '<img src="/nonexistent/picture.png">')
    assert bar._label.textFormat() == Qt.TextFormat.PlainText
    assert '<img src="/nonexistent/picture.png">' in bar.text()
    bar.undo()


def test_plain_tooltip_escapes_and_keeps_lines() -> None:
    tip = plain_tooltip("<b>x</b>\nnext")
    assert "<b>" not in tip and "&lt;b&gt;x&lt;/b&gt;" in tip and "<br>" in tip
    assert plain_tooltip("") == ""


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_settings_dialog_shows_hostile_text_literally(qtbot: QtBot, hostile: str) -> None:
    profiles = [
        Profile(hostile, "https://api.example.com/v1", hostile),
        Profile("second", "https://api.example.com/v1", "m"),
    ]
    dialog = SettingsDialog(
        profiles,
        hostile,
        has_key=lambda _name: False,
        fetch_models=_no_models,
        keyring_problem=f"keyring: {hostile}",
        usage_refusals=lambda _profile: [hostile],
        reset_usage_refusals=lambda _profile: None,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    dialog._form.show_fetch_status(f"fetch: {hostile}")  # what a failed fetch shows
    dialog._form.show_errors({"name": f"name: {hostile}", "model": f"model: {hostile}"})
    _assert_no_rich_labels(
        dialog,
        [
            f"keyring: {hostile}",
            f"Usage not reported by: {hostile}",
            f"fetch: {hostile}",
            f"name: {hostile}",
        ],
    )
    _assert_tooltips_escaped(dialog)


async def _no_models(_profile: Profile, _key: str | None) -> list[str]:
    return []
