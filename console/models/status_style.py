"""How a status looks in a table: a colour that reads on light and dark palettes, and a shape.

The shape carries the meaning on its own (for colour-blind eyes and grey-scale screens): a filled
dot is live, a ring is ringing or queued, a diamond is waiting, a square is busy, a triangle is
unanswered, a cross is failed, a tick is done and a bar is canceled. Arrows say a call came in
(down-left) or went out (up-right).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPalette

if TYPE_CHECKING:
    from PySide6.QtGui import QPainter

ICON_SIZE = 14

# kind: (light palette colour, dark palette colour); both pass 4.5:1 against their base.
_COLOURS = {
    "live": ("#17702f", "#6fdc8c"),
    "ringing": ("#1a5fb4", "#8cb8ff"),
    "waiting": ("#8a5a00", "#f5c35b"),
    "trouble": ("#b04600", "#ffa066"),
    "failed": ("#b3261e", "#ff8a80"),
    "done": ("#5f6368", "#b4b9be"),
}
_KINDS = {
    "in-progress": "live",
    "answered": "live",
    "connected": "live",
    "ringing": "ringing",
    "queued": "ringing",
    "initiated": "ringing",
    "connecting": "ringing",
    "waiting": "waiting",
    "busy": "trouble",
    "no-answer": "trouble",
    "failed": "failed",
    "error": "failed",
    "completed": "done",
    "disconnected": "done",
    "canceled": "done",
}
_SHAPES = {  # status → shape, where the kind's shape would not tell statuses apart
    "busy": "square",
    "no-answer": "triangle",
    "canceled": "bar",
}
_DIRECTIONS = {"inbound": "arrow-in", "outbound": "arrow-out"}  # who called whom
_KIND_SHAPES = {
    "live": "dot",
    "ringing": "ring",
    "waiting": "diamond",
    "trouble": "triangle",
    "failed": "cross",
    "done": "tick",
}


@dataclass(frozen=True)
class StatusLook:
    """A status's colour and shape, for the palette in use."""

    colour: str
    shape: str
    colours_text: bool = True  # False: only the shape is coloured (a direction, not a status)

    def brush(self) -> QBrush | None:
        """The text colour, or None to keep the palette's."""
        return QBrush(QColor(self.colour)) if self.colours_text else None

    def icon(self) -> QIcon:
        """The shape, drawn in the colour."""
        return _icon(self.shape, self.colour)


def is_dark_palette(palette: QPalette | None = None) -> bool:
    """Whether the application draws light text on a dark base."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def status_look(status: str, dark: bool | None = None) -> StatusLook | None:
    """The look of a Twilio (or Switchboard) status, or of a call's direction; None if unknown."""
    if dark is None:
        dark = is_dark_palette()
    if status in _DIRECTIONS:
        return StatusLook(_COLOURS["done"][dark], _DIRECTIONS[status], colours_text=False)
    kind = _KINDS.get(status.strip().lower().rstrip("…. "))
    if kind is None:
        return None
    light_colour, dark_colour = _COLOURS[kind]
    shape = _SHAPES.get(status, _KIND_SHAPES[kind])
    return StatusLook(dark_colour if dark else light_colour, shape)


@lru_cache(maxsize=64)
def _icon(shape: str, colour: str) -> QIcon:
    from PySide6.QtGui import QPainter, QPixmap  # drawn on first use, not at start-up

    scale = 2  # drawn at twice the size, so it stays sharp on high-density screens
    pixmap = QPixmap(ICON_SIZE * scale, ICON_SIZE * scale)
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _draw(painter, shape, QColor(colour))
    painter.end()
    return QIcon(pixmap)


def _draw(painter: QPainter, shape: str, colour: QColor) -> None:
    from PySide6.QtCore import QPointF, QRectF
    from PySide6.QtGui import QPen

    box = QRectF(2, 2, ICON_SIZE - 4, ICON_SIZE - 4)
    pen = QPen(colour, 2.0)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    c = box.center()
    if shape == "dot":
        painter.setBrush(colour)
        painter.drawEllipse(box)
    elif shape == "ring":
        painter.drawEllipse(box.adjusted(1, 1, -1, -1))
    elif shape == "diamond":
        painter.setBrush(colour)
        painter.drawPolygon(
            [QPointF(c.x(), box.top()), QPointF(box.right(), c.y()),
             QPointF(c.x(), box.bottom()), QPointF(box.left(), c.y())]
        )  # fmt: skip
    elif shape == "square":
        painter.setBrush(colour)
        painter.drawRect(box.adjusted(1, 1, -1, -1))
    elif shape == "triangle":
        painter.setBrush(colour)
        painter.drawPolygon(
            [QPointF(c.x(), box.top()), QPointF(box.right(), box.bottom()),
             QPointF(box.left(), box.bottom())]
        )  # fmt: skip
    elif shape == "cross":
        painter.drawLine(box.topLeft(), box.bottomRight())
        painter.drawLine(box.topRight(), box.bottomLeft())
    elif shape == "tick":
        painter.drawPolyline(
            [QPointF(box.left(), c.y()), QPointF(c.x() - 1, box.bottom() - 1),
             QPointF(box.right(), box.top() + 1)]
        )  # fmt: skip
    elif shape in ("arrow-in", "arrow-out"):
        tip, tail = (box.bottomLeft(), box.topRight())
        if shape == "arrow-out":
            tip, tail = tail, tip
        painter.drawLine(tail, tip)
        step = 4.5 if shape == "arrow-in" else -4.5  # the head's two strokes, back toward the tail
        painter.drawLine(tip, QPointF(tip.x() + step, tip.y()))
        painter.drawLine(tip, QPointF(tip.x(), tip.y() - step))
    elif shape == "bar":
        painter.drawLine(QPointF(box.left(), c.y()), QPointF(box.right(), c.y()))
