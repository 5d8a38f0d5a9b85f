"""Run by test_small_screen.py in a child process on a virtual screen of a given size (the
offscreen platform's configfile): builds the window with long outside text everywhere, or
restores a saved geometry, and prints what it measured as JSON."""

from __future__ import annotations

import json
import sys

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

from deltadesk.core.preferences import Preferences
from deltadesk.ui.main_window import MainWindow
from deltadesk.window_state import restore_window, show_window

LONG = "a-very-long-model-name-from-a-provider-that-likes-long-names-" * 4


def on_screen(widget: QWidget, screen: QRect) -> bool:
    top_left = widget.mapToGlobal(QPoint(0, 0))
    return screen.contains(QRect(top_left, widget.size()))


def long_everything(app: QApplication, size: list[int] | None) -> dict[str, object]:
    window = MainWindow()
    window.set_profiles([f"profile {LONG}", "second"], f"profile {LONG}")
    picker = getattr(window, "model_picker", None)
    if picker is not None:
        picker.set_models([LONG, "small"])
        picker.set_model(LONG)
    window.set_title("Any tips for writing better prompts about server-sent events? " * 10)
    window.set_status("status " + LONG)
    window.show_notice("notice " + LONG)
    if size:
        window.resize(*size)
    window.show()
    app.processEvents()
    screen = window.screen().availableGeometry()
    header = {
        name: widget.minimumSizeHint().width()
        for name, widget in [
            ("title", window.conversation_title),
            ("profile", window.profile_box),
            ("model", picker),
            ("compare", window.compare_picker),
            ("settings", window.settings_button),
        ]
        if widget is not None
    }
    return {
        "screen": [screen.width(), screen.height()],
        "window": [window.frameGeometry().width(), window.frameGeometry().height()],
        "minimum": [window.minimumSizeHint().width(), window.minimumSizeHint().height()],
        "header": header,
        "send_on_screen": on_screen(window.composer.button(), screen),
        "settings_on_screen": on_screen(window.settings_button, screen),
        "title_ignored": window.conversation_title.sizePolicy().horizontalPolicy()
        == QSizePolicy.Policy.Ignored,
        "title_width": window.conversation_title.width(),
        "title_on_own_line": window._title_place.on_own_line(),
        "title_on_screen": on_screen(window.conversation_title, screen),
        "title_text_whole": window.conversation_title.text().startswith("Any tips"),
    }


def restored(app: QApplication, rect: list[int]) -> dict[str, object]:
    window = MainWindow()
    restore_window(window, Preferences(window_rect=tuple(rect), splitter_sizes=(300, 500)))
    show_window(window)
    app.processEvents()
    geometry = window.geometry()
    return {
        "screens": [
            [
                s.availableGeometry().x(),
                s.availableGeometry().y(),
                s.size().width(),
                s.size().height(),
            ]
            for s in app.screens()
        ],
        "primary": app.primaryScreen().availableGeometry().getRect(),
        "geometry": [geometry.x(), geometry.y(), geometry.width(), geometry.height()],
        "splitter": window.splitter.sizes(),
    }


def main() -> None:
    app = QApplication(sys.argv[:1])
    if sys.argv[1] == "long":
        result = long_everything(app, json.loads(sys.argv[2]) if len(sys.argv) > 2 else None)
    else:
        result = restored(app, json.loads(sys.argv[2]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
