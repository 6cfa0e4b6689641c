"""Status colours read on light and dark palettes, and a shape always says the same thing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from console.core.calls.records import Call
from console.models.calls_model import STATUS_COLUMN, CallsModel
from console.models.status_style import status_look

STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "no-answer",
    "failed",
    "canceled",
)
LIGHT_BASE, DARK_BASE = QColor("#ffffff"), QColor("#2a2a2a")  # Qt's default and Fusion's dark


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(one: QColor, two: QColor) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize(("dark", "base"), [(False, LIGHT_BASE), (True, DARK_BASE)])
def test_every_status_colour_is_readable_on_its_palette(qapp, dark, base):
    for status in (*STATUSES, "connected", "disconnected", "waiting", "connecting"):
        look = status_look(status, dark)
        assert look is not None, status
        assert contrast(QColor(look.colour), base) >= 4.5, (status, look.colour)


def test_the_shape_alone_tells_the_outcomes_apart(qapp):
    shapes = {status: status_look(status, False).shape for status in STATUSES}
    outcomes = ("in-progress", "ringing", "completed", "busy", "no-answer", "failed", "canceled")
    assert len({shapes[s] for s in outcomes}) == len(outcomes)
    assert shapes["queued"] == shapes["ringing"]  # not yet answered, either way
    icon = status_look("failed", False).icon()
    image = icon.pixmap(14, 14).toImage()
    drawn = [image.pixelColor(x, y).alpha() for x in range(14) for y in range(14)]
    assert max(drawn) == 255 and drawn.count(0) > 50  # a cross on a clear ground


def test_a_status_cell_has_its_shape_and_a_colour_that_follows_the_palette(qapp):
    model = CallsModel()
    model.upsert(Call("CA1", "+15005550002", "+15005550006", "busy", "outbound-api"))
    cell = model.index(0, STATUS_COLUMN)
    assert not cell.data(Qt.ItemDataRole.DecorationRole).isNull()
    light = cell.data(Qt.ItemDataRole.ForegroundRole).color()
    before = QGuiApplication.palette()
    dark = QPalette(before)
    dark.setColor(QPalette.ColorRole.Base, DARK_BASE)
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    QGuiApplication.setPalette(dark)
    try:
        on_dark = cell.data(Qt.ItemDataRole.ForegroundRole).color()
    finally:
        QGuiApplication.setPalette(before)
    assert light != on_dark
    assert contrast(on_dark, DARK_BASE) >= 4.5 and contrast(light, LIGHT_BASE) >= 4.5
    number = model.index(0, 0)  # the far end's number: a direction arrow, text left as it is
    assert not number.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert number.data(Qt.ItemDataRole.ForegroundRole) is None
