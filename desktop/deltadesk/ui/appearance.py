"""Light or dark: the system's choice (QStyleHints.colorScheme, followed live) or the user's.

`Appearance.set_mode("system" | "light" | "dark")` makes the matching palette of theme.py
current and gives the application the same colours (QApplication.setPalette), so the window's
own widgets and the chat document agree; `changed(name)` then tells the window which palette
is in use ("light" or "dark") so it can re-style what was built with the old one.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from deltadesk.ui import theme

MODES = ("system", "light", "dark")

# The theme is the application's (theme.CURRENT is one palette for every widget), so the
# choice is too: with two windows alive, a desktop switch must not undo an explicit choice
# made in the other one.
_mode = "system"


def system_is_dark() -> bool:
    """What the desktop asks for; unknown (no platform theme) reads as light."""
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def palette_for(mode: str) -> theme.Palette:
    if mode == "system":
        return theme.DARK if system_is_dark() else theme.LIGHT
    return theme.DARK if mode == "dark" else theme.LIGHT


def use_early(mode: str) -> None:
    """Before any widget exists (app.py, ahead of the first paint): the theme's constants
    only, so style sheets built at import time already have the right colours."""
    theme.use(palette_for(mode if mode in MODES else "system"))


class Appearance(QObject):
    changed = Signal(str)  # the palette now in use: "light" or "dark"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._applied: str | None = None
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._on_system_scheme)

    def mode(self) -> str:
        return _mode

    def applied(self) -> str | None:
        """The palette in use ("light"/"dark"), None before the first set_mode."""
        return self._applied

    def set_mode(self, mode: str) -> None:
        global _mode
        _mode = mode if mode in MODES else "system"
        self._ask_platform()
        self._apply()

    def _ask_platform(self) -> None:
        """Qt 6.8+: native parts (title bars, file dialogs on Windows and macOS) follow an
        explicit choice too; "system" gives the choice back to the desktop."""
        hints = QGuiApplication.styleHints()
        if hints is None or not hasattr(hints, "setColorScheme"):
            return
        if _mode == "system":
            hints.unsetColorScheme()
        else:
            scheme = Qt.ColorScheme.Dark if _mode == "dark" else Qt.ColorScheme.Light
            hints.setColorScheme(scheme)

    def _on_system_scheme(self, _scheme: Qt.ColorScheme) -> None:
        if _mode == "system":
            self._apply()

    def _apply(self) -> None:
        palette = palette_for(_mode)
        theme.use(palette)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(theme.qt_palette(palette))
        if palette.name != self._applied:
            self._applied = palette.name
            self.changed.emit(palette.name)
