"""Zoom steps and scaled fonts: Ctrl+= / Ctrl+- walk the steps, Ctrl+0 is 100 %."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

ZOOM_MIN = 50  # the same bounds as core.preferences (which has no Qt)
ZOOM_MAX = 300
ZOOM_STEPS = (50, 67, 80, 90, 100, 110, 125, 150, 175, 200, 250, 300)


def clamp(percent: int) -> int:
    return max(ZOOM_MIN, min(ZOOM_MAX, int(percent)))


def step_in(percent: int) -> int:
    return next((step for step in ZOOM_STEPS if step > percent), ZOOM_MAX)


def step_out(percent: int) -> int:
    return next((step for step in reversed(ZOOM_STEPS) if step < percent), ZOOM_MIN)


def scaled_font(base: QFont, percent: int) -> QFont:
    """``base`` at ``percent`` of its size (point or pixel sized)."""
    font = QFont(base)
    if base.pointSizeF() > 0:
        font.setPointSizeF(base.pointSizeF() * percent / 100)
    elif base.pixelSize() > 0:
        font.setPixelSize(max(1, round(base.pixelSize() * percent / 100)))
    return font


class FontZoom:
    """Widgets whose fonts follow the zoom, each from the font it had when added."""

    def __init__(self) -> None:
        self._bases: list[tuple[QWidget, QFont]] = []

    def add(self, widget: QWidget, base: QFont | None = None) -> None:
        self._bases.append((widget, QFont(base if base is not None else widget.font())))

    def apply(self, percent: int) -> None:
        for widget, base in self._bases:
            widget.setFont(scaled_font(base, percent))
