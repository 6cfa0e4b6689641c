"""Marks the room controls put in the tables: a muted speaker and a red recording dot."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from console.models.status_style import ICON_SIZE, is_dark_palette

RECORDING_RED = ("#c5221f", "#ff6b6b")  # light palette, dark palette: both read on their base
MUTED_GREY = ("#5f6368", "#b4b9be")


def recording_icon() -> QIcon:
    """A filled red dot: the room is recording."""
    return _icon("recording", RECORDING_RED[is_dark_palette()])


def muted_icon() -> QIcon:
    """A speaker struck through: nobody else in the room hears this participant."""
    return _icon("muted", MUTED_GREY[is_dark_palette()])


@lru_cache(maxsize=8)
def _icon(kind: str, colour: str) -> QIcon:
    scale = 2  # drawn at twice the size, so it stays sharp on high-density screens
    pixmap = QPixmap(ICON_SIZE * scale, ICON_SIZE * scale)
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(colour), 1.6)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(QColor(colour))
    if kind == "recording":
        painter.drawEllipse(QRectF(3, 3, ICON_SIZE - 6, ICON_SIZE - 6))
    else:
        painter.drawPolygon(
            [QPointF(2, 5), QPointF(4.5, 5), QPointF(8, 2), QPointF(8, 12),
             QPointF(4.5, 9), QPointF(2, 9)]
        )  # fmt: skip
        painter.drawLine(QPointF(9.5, 5), QPointF(13, 9))
        painter.drawLine(QPointF(13, 5), QPointF(9.5, 9))
    painter.end()
    return QIcon(pixmap)
