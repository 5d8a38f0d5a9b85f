"""Where the window was: its geometry, splitter and zoom saved at quit, restored at start on a
screen they fit (a geometry off every screen now connected is centred on the primary one, at
a size that fits it).

Read before the first paint (app.show_window_first): only the preferences file and Qt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication

from deltadesk.core.preferences import Preferences, PreferenceStore

if TYPE_CHECKING:
    from deltadesk.ui.main_window import MainWindow

# Of a saved geometry this much must be on a screen for it to count as there: enough to grab
# the title bar and move the window.
MIN_VISIBLE_WIDTH = 120
MIN_VISIBLE_HEIGHT = 60
# A window placed afresh takes at most this share of the screen.
FRESH_WIDTH_SHARE = 0.95
FRESH_HEIGHT_SHARE = 0.92


def _fit_inside(rect: QRect, area: QRect) -> QRect:
    """``rect`` no larger than ``area`` and moved (not resized further) to lie inside it."""
    width = min(rect.width(), area.width())
    height = min(rect.height(), area.height())
    x = min(max(rect.x(), area.x()), area.x() + area.width() - width)
    y = min(max(rect.y(), area.y()), area.y() + area.height() - height)
    return QRect(x, y, width, height)


def centred(size_wanted: tuple[int, int], area: QRect) -> QRect:
    width = min(size_wanted[0], int(area.width() * FRESH_WIDTH_SHARE))
    height = min(size_wanted[1], int(area.height() * FRESH_HEIGHT_SHARE))
    x = area.x() + (area.width() - width) // 2
    y = area.y() + (area.height() - height) // 2
    return QRect(x, y, width, height)


def fitting_rect(saved: QRect, screens: Sequence[QRect], primary: QRect) -> QRect:
    """Where a window saved at ``saved`` goes now, given the screens' available areas: on the
    screen holding most of it, moved and shrunk to lie inside; centred on ``primary`` when no
    screen holds enough of it to grab."""
    best: QRect | None = None
    best_area = 0
    for screen in screens:
        overlap = saved.intersected(screen)
        visible = overlap.width() >= MIN_VISIBLE_WIDTH and overlap.height() >= MIN_VISIBLE_HEIGHT
        if visible and overlap.width() * overlap.height() > best_area:
            best, best_area = screen, overlap.width() * overlap.height()
    if best is None:
        return centred((saved.width(), saved.height()), primary)
    return _fit_inside(saved, best)


def _screen_areas() -> tuple[list[QRect], QRect | None]:
    screens = [screen.availableGeometry() for screen in QGuiApplication.screens()]
    primary = QGuiApplication.primaryScreen()
    return screens, (primary.availableGeometry() if primary is not None else None)


def restore_window(window: MainWindow, prefs: Preferences) -> None:
    """Geometry, maximised state, splitter and zoom from ``prefs`` (before the window shows;
    show it with show_window)."""
    window.set_zoom(prefs.zoom_percent)
    screens, primary = _screen_areas()
    if len(prefs.window_rect) == 4 and primary is not None:
        x, y, width, height = prefs.window_rect
        window.setGeometry(fitting_rect(QRect(x, y, width, height), screens, primary))
    if len(prefs.splitter_sizes) == 2:
        window.splitter.setSizes(list(prefs.splitter_sizes))
    window.setProperty("deltadeskMaximized", prefs.window_maximized)


def show_window(window: MainWindow) -> None:
    if window.property("deltadeskMaximized"):
        window.showMaximized()
    else:
        window.show()


def saved_state(window: MainWindow) -> dict[str, object]:
    """The preferences' fields for the window as it is now."""
    maximized = window.isMaximized() or window.isFullScreen()
    rect = window.normalGeometry() if maximized else window.geometry()
    sizes = window.splitter.sizes()
    state: dict[str, object] = {
        "window_maximized": maximized,
        "zoom_percent": window.zoom_percent(),
    }
    if rect.width() > 0 and rect.height() > 0:
        state["window_rect"] = (rect.x(), rect.y(), rect.width(), rect.height())
    if len(sizes) == 2 and min(sizes) > 0:
        state["splitter_sizes"] = (sizes[0], sizes[1])
    return state


def save_window(window: MainWindow, store: PreferenceStore, conversation_id: int | None) -> None:
    """One write at quit: the window and the conversation in view (0 for a new chat)."""
    store.update(**saved_state(window), last_conversation_id=conversation_id or 0)
