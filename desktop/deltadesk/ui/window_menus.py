"""The main window's actions and menus (Chat, View, Help); each action's shortcut works in the
whole window, and the help dialog lists them from here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from deltadesk.ui.appearance import MODES

if TYPE_CHECKING:
    from deltadesk.ui.main_window import MainWindow

Shortcut = QKeySequence | QKeySequence.StandardKey | list[QKeySequence]


def add_action(window: MainWindow, text: str, shortcut: Shortcut, slot: object) -> QAction:
    action = QAction(text, window)
    if isinstance(shortcut, list):
        action.setShortcuts(shortcut)
    else:
        action.setShortcut(shortcut)
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    window.addAction(action)
    return action


def build_menus(w: MainWindow) -> dict[str, QAction]:
    """Every action of the window, in its menus; returns the theme choices by mode."""
    menus = w.menuBar()
    chat = menus.addMenu("&Chat")
    chat.addAction(
        add_action(w, "New chat", QKeySequence.StandardKey.New, w.new_chat_requested.emit)
    )
    chat.addAction(add_action(w, "Stop", QKeySequence("Esc"), w.stop))
    chat.addAction(add_action(w, "Compare", QKeySequence("Ctrl+Shift+Return"), w.request_compare))
    chat.addSeparator()
    chat.addAction(add_action(w, "Settings…", QKeySequence("Ctrl+,"), w.settings_requested.emit))
    chat.addSeparator()
    chat.addAction(add_action(w, "Quit", QKeySequence.StandardKey.Quit, w.close))
    add_action(w, "Focus prompt", QKeySequence("Ctrl+L"), w.composer.focus_input)
    add_action(w, "Filter conversations", QKeySequence("Ctrl+K"), w.sidebar.focus_filter)

    view = menus.addMenu("&View")
    zoom_in = [QKeySequence("Ctrl+="), QKeySequence("Ctrl++")]
    view.addAction(add_action(w, "Zoom in", zoom_in, w.zoom_in))
    view.addAction(add_action(w, "Zoom out", QKeySequence("Ctrl+-"), w.zoom_out))
    view.addAction(add_action(w, "Actual size", QKeySequence("Ctrl+0"), w.zoom_reset))
    view.addSeparator()
    themes = view.addMenu("&Theme")
    group = QActionGroup(w)
    theme_actions: dict[str, QAction] = {}
    for mode in MODES:
        action = QAction(mode.capitalize(), w, checkable=True)
        action.setChecked(mode == "system")
        action.triggered.connect(lambda _=False, m=mode: w.choose_theme(m))
        group.addAction(action)
        themes.addAction(action)
        theme_actions[mode] = action

    help_menu = menus.addMenu("&Help")
    help_key = QKeySequence.StandardKey.HelpContents  # F1
    help_menu.addAction(add_action(w, "Keyboard shortcuts", help_key, w.show_help))
    return theme_actions
