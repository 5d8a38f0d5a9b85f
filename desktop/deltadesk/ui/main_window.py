"""The main window: sidebar, chat view (or compare view), composer, profile selector and
status line.

Widgets only. Everything the window wants done leaves it as a signal; the shell decides.
Compare: the Compare button (or Ctrl+Shift+Enter) emits `compare_requested(text)` with the
prompt typed, once 2 to 4 profiles are checked in its list (`compare_profiles()`); the shell
starts the answers and shows them with `show_compare()`, and `show_chat()` goes back.

The window's own behaviour: zoom (Ctrl+= / Ctrl+- / Ctrl+0, `set_zoom`, `zoom_changed`), light
or dark (View menu, `set_theme`, `theme_chosen`), F1 for the shortcuts, the welcome page of
an empty new chat (`set_welcome`), and the keyboard back in the prompt after every dialog.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QGuiApplication
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

from deltadesk.ui import theme
from deltadesk.ui.appearance import Appearance
from deltadesk.ui.chat_settings_panel import ChatSettingsButton
from deltadesk.ui.chat_view import ChatView
from deltadesk.ui.compare_picker import ComparePicker
from deltadesk.ui.compare_view import CompareView
from deltadesk.ui.composer import Composer
from deltadesk.ui.focus_back import FocusBackAfterDialogs
from deltadesk.ui.model_picker import ModelPicker
from deltadesk.ui.plain_text import clip, let_shrink, one_line, plain_label, plain_tooltip
from deltadesk.ui.sidebar import ConversationList
from deltadesk.ui.title_place import TitlePlace
from deltadesk.ui.welcome import Welcome
from deltadesk.ui.window_menus import build_menus
from deltadesk.ui.zoom import FontZoom, clamp, step_in, step_out

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
    zoom_changed = Signal(int)  # percent, 50-300
    theme_chosen = Signal(str)  # "system", "light" or "dark", from the View menu

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self._fit_to_screen(1180, 760)
        self.sidebar = ConversationList()
        self.chat_view = ChatView()
        self.compare_view = CompareView()
        self.compare_picker = ComparePicker()
        self.welcome = Welcome()
        self._welcome_wanted = False
        self._views = QStackedWidget()  # the chat (or the welcome), or a comparison
        self.composer = Composer()
        self.profile_box = QComboBox()
        self.profile_box.setToolTip("Provider profile used for the next answer")
        self.profile_box.setMinimumWidth(160)  # room for the title on an 800-pixel screen
        # A long profile name must not widen the box (and the window) past a small screen.
        self.profile_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.profile_box.setMinimumContentsLength(14)
        self.profile_box.setMaximumWidth(260)
        self.appearance = Appearance(self)
        self._zoom = 100
        self._zoomed = FontZoom()
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
        # A click on it (or Stop turning into a disabled Send) must not leave the keyboard
        # here, where a space would toggle it: it takes focus from Tab only.
        self.keep_reasoning_box.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._build_layout()
        self._build_actions()
        self._setup_zoom()
        self.appearance.changed.connect(self._restyle)
        self.welcome.prompt_chosen.connect(self.composer.send)
        self.welcome.settings_requested.connect(self.settings_requested)
        self.composer.submitted.connect(lambda _text: self.set_welcome(False))
        # Every dialog (settings, a question, help, a link's warning) gives the keyboard back
        # to the prompt when it closes, whichever of these widgets it belongs to.
        self._dialogs = FocusBackAfterDialogs(self.composer.focus_input, self)
        for owner in (self, self.chat_view, self.compare_view, self.sidebar):
            self._dialogs.watch(owner)
        self.composer.submitted.connect(self.prompt_submitted)
        self.composer.compare_pressed.connect(self.request_compare)
        self.compare_picker.compare_clicked.connect(self.request_compare)
        self.compare_view.chosen.connect(self.show_chat)
        self.compare_view.dismissed.connect(self.show_chat)
        self.composer.stop_requested.connect(self.stop_requested)
        self.sidebar.new_requested.connect(self.new_chat_requested)
        self.chat_view.link_hovered.connect(self._show_link_target)
        self.chat_view.zoom_requested.connect(self._wheel_zoom)  # Ctrl+wheel over the chat
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
        settings_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        settings_button.clicked.connect(self.settings_requested)
        self.settings_button = settings_button

        top_bar = QHBoxLayout()
        top_bar.setContentsMargins(12, 8, 12, 4)
        top_bar.addWidget(self.conversation_title, 1)
        top_bar.addSpacing(12)
        profile_label = QLabel("&Profile:")
        profile_label.setBuddy(self.profile_box)
        top_bar.addWidget(profile_label)
        top_bar.addWidget(self.profile_box)
        # The conversation's model and its settings (⋯): chat_settings_wiring.py fills them.
        self.model_picker, self.chat_settings_button = ModelPicker(), ChatSettingsButton()
        top_bar.addWidget(self.model_picker)
        top_bar.addWidget(self.chat_settings_button)
        top_bar.addWidget(self.compare_picker)
        top_bar.addWidget(settings_button)

        chat_column = QWidget()
        column = QVBoxLayout(chat_column)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        title_row = QHBoxLayout()  # the title on its own line when the bar has no room
        title_row.setContentsMargins(12, 8, 12, 0)
        column.addLayout(title_row)
        column.addLayout(top_bar)
        self._title_place = TitlePlace(self.conversation_title, top_bar, title_row, chat_column)
        column.addWidget(self.banner_label)
        column.addWidget(self.notice_label)
        self._views.addWidget(self.chat_view)
        self._views.addWidget(self.compare_view)
        self._views.addWidget(self.welcome)
        column.addWidget(self._views, 1)
        column.addWidget(self.composer)

        splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(chat_column)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 930])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.keep_reasoning_box)
        self.statusBar().setSizeGripEnabled(False)
        self._restyle()

    def _restyle(self) -> None:
        """The window's own colours from the theme's palette in use (again on a switch)."""
        self.setStyleSheet(
            f"#notice {{ background: {theme.WARNING_BACKGROUND}; color: {theme.WARNING_TEXT};"
            " padding: 6px 12px; }"
            f"#banner {{ background: {theme.ERROR_BACKGROUND}; color: {theme.ERROR_TEXT};"
            " padding: 6px 12px; }"
        )
        self.chat_view.apply_theme()
        self.compare_view.apply_theme()

    def _build_actions(self) -> None:
        self.theme_actions = build_menus(self)

    # -- zoom, theme, help, welcome, focus -------------------------------------------------

    def _setup_zoom(self) -> None:
        title_font = QFont(self.conversation_title.font())
        title_font.setWeight(QFont.Weight.DemiBold)
        title_font.setPointSizeF(max(title_font.pointSizeF(), 9.0) * 1.25)
        self._zoomed.add(self.conversation_title, title_font)
        heading_font = QFont(title_font)
        heading_font.setPointSizeF(title_font.pointSizeF() * 1.3)
        self._zoomed.add(self.welcome.heading, heading_font)
        for label in (self.status_label, self.notice_label, self.banner_label):
            self._zoomed.add(label)
        welcome = self.welcome
        for widget in [*welcome.labels[1:], *welcome.prompt_buttons, welcome.settings_button]:
            self._zoomed.add(widget)
        self._zoomed.apply(self._zoom)

    def zoom_percent(self) -> int:
        return self._zoom

    def set_zoom(self, percent: int) -> None:
        """The conversation, the prompt and the window's labels at ``percent`` (50-300)."""
        percent = clamp(percent)
        if percent == self._zoom:
            return
        self._zoom = percent
        self._zoomed.apply(percent)
        self.composer.set_zoom(percent)
        self.chat_view.set_zoom(percent)
        self.compare_view.set_zoom(percent)
        self.zoom_changed.emit(percent)

    def zoom_in(self) -> None:
        self.set_zoom(step_in(self._zoom))

    def zoom_out(self) -> None:
        self.set_zoom(step_out(self._zoom))

    def _wheel_zoom(self, step: int) -> None:
        if step > 0:
            self.zoom_in()
        elif step < 0:
            self.zoom_out()

    def zoom_reset(self) -> None:
        self.set_zoom(100)

    def set_theme(self, mode: str) -> None:
        """ "system" (follow the desktop), "light" or "dark"; the View menu shows it."""
        self.appearance.set_mode(mode)
        self.theme_actions[self.appearance.mode()].setChecked(True)

    def theme_mode(self) -> str:
        return self.appearance.mode()

    def choose_theme(self, mode: str) -> None:
        """The View menu's choice: applied, and said (theme_chosen) to be remembered."""
        self.set_theme(mode)
        self.theme_chosen.emit(mode)

    def show_help(self) -> None:
        from deltadesk.ui.help_dialog import HelpDialog, shortcut_rows

        HelpDialog(shortcut_rows(self), self).open()

    def set_welcome(self, wanted: bool) -> None:
        """The welcome page in place of the empty chat (a new chat with no message yet)."""
        self._welcome_wanted = wanted
        if not self.is_comparing():
            self.show_chat()

    def welcome_shown(self) -> bool:
        return self._views.currentWidget() is self.welcome

    def stop(self) -> None:
        """Esc or Chat > Stop: the answer in view stops, the keyboard goes to the prompt."""
        self.stop_requested.emit()
        self.composer.focus_input()

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
        self._views.setCurrentWidget(self.welcome if self._welcome_wanted else self.chat_view)

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
