"""The chat settings panel: the system prompt, temperature, max tokens and reasoning effort
of the conversation in view, in a dock beside the chat that Ctrl+Shift+S (or the ⋯ button
beside the model picker) shows and hides. The button's menu starts a new chat from a preset,
saves the chat's settings as one, and opens the presets dialog.

Widgets only: the panel shows a ConversationSettings and says `edited(settings)` with the
user's changes (typing in the system prompt is gathered for a moment, or until `commit()`);
the wiring (chat_settings_wiring.py) keeps them with the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QMoveEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from deltadesk.core.conversation_settings import (
    MAX_SYSTEM_CHARS,
    MAX_TEMPERATURE,
    MAX_TOKENS_LIMIT,
    REASONING_EFFORTS,
    ConversationSettings,
)
from deltadesk.ui.plain_text import let_shrink, one_line, plain_label, plain_tooltip

DEFAULT_TEXT = "Default"
NO_TEMPERATURE = -0.1  # the spin box's minimum, shown as "Default": nothing is sent
SYSTEM_DELAY_MS = 500  # typing in the system prompt is gathered this long before it is kept
PANEL_SHORTCUT = "Ctrl+Shift+S"
MAX_MENU_PRESETS = 50
DOCK_MARGIN = 16  # the dock's separator and frame
FLOATING_WIDTH = 280
FLOATING_INSET = 48  # a floating panel sits below the window's top bar


class ChatSettingsPanel(QWidget):
    """The settings of the conversation in view. `show_settings` fills it (saying nothing);
    each change by the user comes out as `edited(ConversationSettings)`."""

    edited = Signal(object)  # ConversationSettings as the user left them
    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = ConversationSettings()
        self._loading = False
        self._system_timer = QTimer(self)
        self._system_timer.setSingleShot(True)
        self._system_timer.setInterval(SYSTEM_DELAY_MS)
        self._system_timer.timeout.connect(self.commit)
        self._create_widgets()
        self._build_layout()
        self.system_edit.textChanged.connect(self._on_system_typed)
        self.temperature_spin.valueChanged.connect(lambda _v: self._changed())
        self.max_tokens_spin.valueChanged.connect(lambda _v: self._changed())
        self.effort_combo.activated.connect(lambda _i: self._changed())
        self.reset_button.clicked.connect(self.reset_requested)

    def _create_widgets(self) -> None:
        self.answering_label = let_shrink(plain_label())
        self.answering_label.setObjectName("chatSettingsAnswering")
        self.system_edit = QPlainTextEdit()
        self.system_edit.setPlaceholderText("System prompt for this chat (none by default)")
        self.system_edit.setTabChangesFocus(True)
        self.system_edit.setMinimumHeight(60)
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(NO_TEMPERATURE, MAX_TEMPERATURE)
        self.temperature_spin.setDecimals(2)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setSpecialValueText(DEFAULT_TEXT)
        self.temperature_spin.setToolTip("0 = focused, 2 = loose; Default sends none")
        self.max_tokens_spin = QSpinBox()
        self.max_tokens_spin.setRange(0, MAX_TOKENS_LIMIT)
        self.max_tokens_spin.setSingleStep(256)
        self.max_tokens_spin.setSpecialValueText(DEFAULT_TEXT)
        self.max_tokens_spin.setToolTip("The longest answer in tokens; Default sends none")
        self.effort_combo = QComboBox()
        self.effort_combo.addItem(DEFAULT_TEXT, None)
        for effort in REASONING_EFFORTS:
            self.effort_combo.addItem(effort.capitalize(), effort)
        self.effort_combo.setToolTip("How long a reasoning model thinks before it answers")
        self.effort_label = QLabel("&Reasoning:")
        self.effort_label.setBuddy(self.effort_combo)
        self.effort_note = plain_label("Reasoning effort: not offered by this profile")
        self.effort_note.setWordWrap(True)
        self.effort_note.setEnabled(False)
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setAutoDefault(False)
        for spin in (self.temperature_spin, self.max_tokens_spin):
            spin.setAlignment(Qt.AlignmentFlag.AlignRight)
            spin.setKeyboardTracking(False)  # a number typed is one change, not one per digit

    def _build_layout(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 8, 8)
        column.setSpacing(6)
        column.addWidget(self.answering_label)
        system_label = QLabel("S&ystem prompt:")
        system_label.setBuddy(self.system_edit)
        column.addWidget(system_label)
        column.addWidget(self.system_edit, 1)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        temperature_label = QLabel("&Temperature:")
        temperature_label.setBuddy(self.temperature_spin)
        form.addRow(temperature_label, self.temperature_spin)
        tokens_label = QLabel("&Max tokens:")
        tokens_label.setBuddy(self.max_tokens_spin)
        form.addRow(tokens_label, self.max_tokens_spin)
        form.addRow(self.effort_label, self.effort_combo)
        column.addLayout(form)
        column.addWidget(self.effort_note)
        column.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignRight)
        self.setMinimumWidth(200)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

    # -- what the wiring tells it ----------------------------------------------------------

    def show_settings(
        self,
        settings: ConversationSettings,
        *,
        reasoning_effort: bool,
        answering: str = "",
    ) -> None:
        """Shows a conversation's settings; reasoning effort only where the profile takes it.
        ``answering``: who answers (profile · model), outside text shown plain."""
        self._system_timer.stop()
        self._settings = settings
        self._loading = True
        try:
            # Kept trimmed: a space or new line just typed at the end is not taken away.
            if self.system_edit.toPlainText().strip() != (settings.system or ""):
                self.system_edit.setPlainText(settings.system or "")
            temperature = settings.temperature
            self.temperature_spin.setValue(NO_TEMPERATURE if temperature is None else temperature)
            self.max_tokens_spin.setValue(settings.max_tokens or 0)
            self.effort_combo.setCurrentIndex(
                max(0, self.effort_combo.findData(settings.reasoning_effort))
            )
        finally:
            self._loading = False
        for widget in (self.effort_label, self.effort_combo):
            widget.setVisible(reasoning_effort)
        self.effort_note.setVisible(not reasoning_effort)
        line = one_line(answering, 300)
        self.answering_label.setText(f"Answers: {line}" if line else "")
        self.answering_label.setToolTip(plain_tooltip(line))

    def settings(self) -> ConversationSettings:
        """The settings as the panel shows them (what `edited` says)."""
        temperature = self.temperature_spin.value()
        return self._settings.with_changes(
            system=self.system_edit.toPlainText()[:MAX_SYSTEM_CHARS],
            temperature=None if temperature <= NO_TEMPERATURE + 1e-9 else round(temperature, 2),
            max_tokens=self.max_tokens_spin.value() or None,
            reasoning_effort=self.effort_combo.currentData(),
        )

    def commit(self) -> None:
        """Says a system prompt still being typed now (before a prompt is sent, say)."""
        self._system_timer.stop()
        self._changed()

    def _on_system_typed(self) -> None:
        if not self._loading:
            self._system_timer.start()

    def _changed(self) -> None:
        if self._loading:
            return
        settings = self.settings()
        if settings != self._settings:
            self._settings = settings
            self.edited.emit(settings)


def fit_dock(dock: QDockWidget, window: QMainWindow) -> None:
    """Docks the panel beside the chat when the window can take it within its screen, else
    floats it over the window's right side: showing it must never push the window (and its
    Send button) past a small screen."""
    screen = window.screen().availableGeometry()
    central = window.centralWidget()
    central_width = central.minimumSizeHint().width() if central is not None else 0
    needed = central_width + dock.minimumSizeHint().width() + DOCK_MARGIN
    floating = needed > screen.width()
    if floating != dock.isFloating():
        dock.setFloating(floating)
    if floating:
        frame = window.geometry()
        width = min(FLOATING_WIDTH, frame.width())
        height = max(dock.minimumSizeHint().height(), frame.height() - FLOATING_INSET * 2)
        dock.setGeometry(frame.right() - width, frame.top() + FLOATING_INSET, width, height)


class FloatingFollower(QObject):
    """A floating panel goes with its window when the window is moved (it was left behind,
    over whatever was there), keeping its place relative to the window."""

    def __init__(self, dock: QDockWidget, window: QMainWindow) -> None:
        super().__init__(dock)
        self._dock = dock
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        dock = self._dock
        if event.type() == QEvent.Type.Move and dock.isFloating() and dock.isVisible():
            assert isinstance(event, QMoveEvent)
            dock.move(dock.pos() + event.pos() - event.oldPos())
        return False


def settings_dock(panel: ChatSettingsPanel, parent: QWidget | None = None) -> QDockWidget:
    """The panel in a dock (hidden at first; the wiring shows it with `fit_dock`)."""
    dock = QDockWidget("Chat settings", parent)
    dock.setObjectName("chatSettingsDock")
    dock.setWidget(panel)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetClosable
        | QDockWidget.DockWidgetFeature.DockWidgetMovable
    )
    dock.hide()
    return dock


class ChatSettingsButton(QToolButton):
    """⋯ beside the model picker: a click shows or hides the chat settings; its menu holds
    the presets (new chat from one, save the chat's settings as one, manage them)."""

    preset_chosen = Signal(str)  # a new chat from this preset
    save_preset_requested = Signal()
    manage_presets_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText("⋯")
        self.setCheckable(True)
        self.setToolTip(
            f"Chat settings: system prompt, temperature, max tokens ({PANEL_SHORTCUT}); "
            "the arrow: presets"
        )
        self.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self._menu = QMenu(self)
        self._from_preset = QMenu("New chat from pre&set", self._menu)
        self._menu.addMenu(self._from_preset)
        self.save_action = QAction("Save chat settings as preset…", self._menu)
        self.save_action.triggered.connect(self.save_preset_requested)
        self.manage_action = QAction("Manage presets…", self._menu)
        self.manage_action.triggered.connect(self.manage_presets_requested)
        self._menu.addAction(self.save_action)
        self._menu.addAction(self.manage_action)
        self.setMenu(self._menu)
        self.set_presets([])

    def set_presets(self, names: Sequence[str]) -> None:
        self._from_preset.clear()
        for name in list(names)[:MAX_MENU_PRESETS]:
            action = self._from_preset.addAction(one_line(name, 80).replace("&", "&&"))
            action.triggered.connect(lambda _checked=False, n=name: self.preset_chosen.emit(n))
        self._from_preset.setEnabled(bool(names))

    @property
    def presets_menu(self) -> QMenu:
        """ "New chat from preset": also offered in the window's Chat menu."""
        return self._from_preset

    def preset_names(self) -> list[str]:
        """The presets the menu offers, as shown (tests)."""
        return [a.text().replace("&&", "&") for a in self._from_preset.actions()]


__all__ = [
    "PANEL_SHORTCUT",
    "ChatSettingsButton",
    "ChatSettingsPanel",
    "FloatingFollower",
    "fit_dock",
    "settings_dock",
]
