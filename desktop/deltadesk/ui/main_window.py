"""The main window: sidebar, chat view (or compare view), composer, profile selector and
status line.

Widgets only. Everything the window wants done leaves it as a signal; the shell decides.
Compare: the Compare button (or Ctrl+Shift+Enter) emits `compare_requested(text)` with the
prompt typed, once 2 to 4 profiles are checked in its list (`compare_profiles()`); the shell
starts the answers and shows them with `show_compare()`, and `show_chat()` goes back.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.ui.chat_view import ChatView
from deltadesk.ui.compare_picker import ComparePicker
from deltadesk.ui.compare_view import CompareView
from deltadesk.ui.composer import Composer
from deltadesk.ui.plain_text import clip, let_shrink, one_line, plain_label, plain_tooltip
from deltadesk.ui.sidebar import ConversationList

APP_TITLE = "Deltadesk"


def _show_line(label: QLabel, text: str | None) -> None:
    label.setText(clip(text or ""))
    label.setVisible(bool(text))


class MainWindow(QMainWindow):
    prompt_submitted = Signal(str)
    compare_requested = Signal(str)  # the prompt; the profiles are compare_profiles()
    stop_requested = Signal()
    profile_selected = Signal(str)
    settings_requested = Signal()
    new_chat_requested = Signal()
    keep_reasoning_toggled = Signal(bool)
    closing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self._fit_to_screen(1180, 760)
        self.sidebar = ConversationList()
        self.chat_view = ChatView()
        self.compare_view = CompareView()
        self.compare_picker = ComparePicker()
        self._views = QStackedWidget()  # the chat, or the answers of a comparison
        self.composer = Composer()
        self.profile_box = QComboBox()
        self.profile_box.setToolTip("Provider profile used for the next answer")
        self.profile_box.setMinimumWidth(160)  # room for the title on an 800-pixel screen
        # Titles, status and notices carry outside text (prompts, model names, provider
        # errors): plain text only, or "<img src=...>" would make Qt load that file.
        self.conversation_title = let_shrink(plain_label())
        self.conversation_title.setObjectName("conversationTitle")
        self.status_label = plain_label()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice_label = plain_label()
        self.notice_label.setObjectName("notice")
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()
        self.banner_label = plain_label()
        self.banner_label.setObjectName("banner")
        self.banner_label.setWordWrap(True)
        self.banner_label.hide()
        self.keep_reasoning_box = QCheckBox("Keep thinking open")
        self.keep_reasoning_box.setToolTip(
            "Leave a reasoning model's thinking unfolded when its answer starts"
        )
        self.keep_reasoning_box.toggled.connect(self.keep_reasoning_toggled)
        self._build_layout()
        self._build_actions()
        self.composer.submitted.connect(self.prompt_submitted)
        self.composer.compare_pressed.connect(self.request_compare)
        self.compare_picker.compare_clicked.connect(self.request_compare)
        self.compare_view.chosen.connect(self.show_chat)
        self.compare_view.dismissed.connect(self.show_chat)
        self.composer.stop_requested.connect(self.stop_requested)
        self.sidebar.new_requested.connect(self.new_chat_requested)
        self.chat_view.link_hovered.connect(self._show_link_target)
        self.profile_box.activated.connect(
            lambda index: self.profile_selected.emit(self.profile_box.itemText(index))
        )

    def _fit_to_screen(self, width: int, height: int) -> None:
        """The preferred size, or less on a small screen."""
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry()
            width = min(width, int(available.width() * 0.95))
            height = min(height, int(available.height() * 0.92))
        self.resize(width, height)

    def _build_layout(self) -> None:
        settings_button = QToolButton()
        settings_button.setText("⚙ Settings")
        settings_button.setToolTip("Profiles, API keys and timeouts (Ctrl+,)")
        settings_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        settings_button.clicked.connect(self.settings_requested)

        top_bar = QHBoxLayout()
        top_bar.setContentsMargins(12, 8, 12, 4)
        top_bar.addWidget(self.conversation_title, 1)
        top_bar.addSpacing(12)
        profile_label = QLabel("&Profile:")
        profile_label.setBuddy(self.profile_box)
        top_bar.addWidget(profile_label)
        top_bar.addWidget(self.profile_box)
        top_bar.addWidget(self.compare_picker)
        top_bar.addWidget(settings_button)

        chat_column = QWidget()
        column = QVBoxLayout(chat_column)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addLayout(top_bar)
        column.addWidget(self.banner_label)
        column.addWidget(self.notice_label)
        self._views.addWidget(self.chat_view)
        self._views.addWidget(self.compare_view)
        column.addWidget(self._views, 1)
        column.addWidget(self.composer)

        splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(chat_column)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 930])
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.keep_reasoning_box)
        self.statusBar().setSizeGripEnabled(False)
        self.setStyleSheet(
            "#conversationTitle { font-size: 15px; font-weight: 600; }"
            "#notice { background: #fff4d6; color: #5c4400; padding: 6px 12px; }"
            "#banner { background: #fef3f2; color: #b42318; padding: 6px 12px; }"
        )

    def _build_actions(self) -> None:
        self._add_action("New chat", QKeySequence.StandardKey.New, self.new_chat_requested.emit)
        self._add_action("Settings", QKeySequence("Ctrl+,"), self.settings_requested.emit)
        self._add_action("Stop", QKeySequence("Esc"), self.stop_requested.emit)
        self._add_action("Compare", QKeySequence("Ctrl+Shift+Return"), self.request_compare)
        self._add_action("Focus prompt", QKeySequence("Ctrl+L"), self.composer.focus_input)
        self._add_action("Filter conversations", QKeySequence("Ctrl+K"), self.sidebar.focus_filter)
        self._add_action("Quit", QKeySequence.StandardKey.Quit, self.close)

    def _add_action(
        self, text: str, shortcut: QKeySequence | QKeySequence.StandardKey, slot: object
    ) -> None:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.addAction(action)

    # -- what app.py tells the window ------------------------------------------------------

    def set_profiles(self, names: Sequence[str], active: str) -> None:
        self.profile_box.blockSignals(True)
        self.profile_box.clear()
        self.profile_box.addItems(list(names))
        self.profile_box.setCurrentText(active)
        self.profile_box.blockSignals(False)
        self.compare_picker.set_profiles(names, active)

    def compare_profiles(self) -> list[str]:
        """The profiles checked for a comparison, in list order."""
        return self.compare_picker.checked()

    def request_compare(self) -> None:
        """Emits compare_requested with the prompt typed (and empties the box), or says what
        is missing: a prompt, or 2 to 4 checked profiles."""
        composer = self.composer
        if composer.is_streaming():
            return
        text = composer.text().strip()
        if not text:
            self.statusBar().showMessage("Type a prompt to compare the answers to.", 5000)
            composer.focus_input()
            return
        if not self.compare_picker.ready():
            count = len(self.compare_profiles())
            self.statusBar().showMessage(
                f"Check 2 to 4 profiles in the Compare list ({count} checked).", 5000
            )
            return
        composer.clear()
        self.compare_requested.emit(text)

    def show_compare(self) -> None:
        """Shows the compare view in place of the chat (its columns set by the shell)."""
        self._views.setCurrentWidget(self.compare_view)

    def show_chat(self) -> None:
        self._views.setCurrentWidget(self.chat_view)

    def is_comparing(self) -> bool:
        return self._views.currentWidget() is self.compare_view

    def set_streaming(self, streaming: bool) -> None:
        self.composer.set_streaming(streaming)
        self.profile_box.setEnabled(not streaming)
        self.compare_picker.setEnabled(not streaming)

    def set_title(self, title: str) -> None:
        title = one_line(title, 300)
        self.conversation_title.setText(title)
        self.conversation_title.setToolTip(plain_tooltip(title))
        self.setWindowTitle(f"{title} — {APP_TITLE}" if title else APP_TITLE)

    def set_status(self, text: str) -> None:
        self.status_label.setText(one_line(text))

    def show_notice(self, text: str | None) -> None:
        """A lasting message above the chat (e.g. no keyring); None hides it."""
        _show_line(self.notice_label, text)

    def show_banner(self, text: str | None) -> None:
        """A lasting warning about the history above the chat, apart from the notice (e.g.
        "history is read-only", "not saved: the disk is full"); None hides it."""
        _show_line(self.banner_label, text)

    def _show_link_target(self, target: str) -> None:
        """Where the link under the pointer goes (the status bar draws plain text)."""
        if target:
            self.statusBar().showMessage(target)
        else:
            self.statusBar().clearMessage()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)
