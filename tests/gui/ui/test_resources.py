"""The application icon and .desktop file load through importlib.resources, as installed."""

from __future__ import annotations

import configparser
import zipfile
from importlib.resources import files

import pytest
from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from console.ui import resources
from console.ui.resources import (
    DESKTOP_KEYS,
    ICON_SIZES,
    MissingAsset,
    app_icon,
    desktop_entry,
    icon_png,
    icon_svg,
)


def distinct_colours(image: QImage) -> int:
    """How many different pixel values a coarse grid over the image finds."""
    step = max(1, image.width() // 16)
    return len(
        {
            image.pixel(x, y)
            for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)
        }
    )


def test_app_icon_has_every_drawn_size(qapp):
    icon = app_icon()
    assert not icon.isNull()
    sizes = {(size.width(), size.height()) for size in icon.availableSizes()}
    assert sizes == {(n, n) for n in ICON_SIZES}
    assert max(ICON_SIZES) >= 512  # for screens that want more than 256 px
    for size in ICON_SIZES:
        image = icon.pixmap(QSize(size, size)).toImage()
        assert (image.width(), image.height()) == (size, size)
        assert distinct_colours(image) > 3, f"the {size} px icon is blank"


def test_app_icon_from_assets_inside_a_zip(qapp, tmp_path, monkeypatch):
    archive = tmp_path / "assets.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for size in ICON_SIZES:
            bundle.writestr(f"switchboard-{size}.png", icon_png(size))
    monkeypatch.setattr(resources, "asset", lambda name: zipfile.Path(archive, name))
    icon = app_icon()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)
    image = icon.pixmap(QSize(64, 64)).toImage()
    assert image.width() == 64 and distinct_colours(image) > 3


def test_the_largest_png_is_the_svg_drawn_at_its_size(qapp):
    """The PNG is drawn ahead of time; if the SVG changes, it must be drawn again."""
    size = max(ICON_SIZES)
    drawn = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    drawn.fill(Qt.GlobalColor.transparent)
    painter = QPainter(drawn)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(icon_svg())).render(painter)
    painter.end()
    shipped = QImage.fromData(icon_png(size), "PNG").convertToFormat(drawn.format())
    assert shipped.size() == drawn.size()
    differing = [
        (x, y)
        for x in range(0, size, 4)
        for y in range(0, size, 4)
        if shipped.pixel(x, y) != drawn.pixel(x, y)
    ]
    assert differing == [], f"{len(differing)} pixels differ, e.g. {differing[:5]}"


def test_each_png_is_the_size_its_name_says(qapp):
    for size in ICON_SIZES:
        image = QImage.fromData(icon_png(size), "PNG")
        assert (image.width(), image.height()) == (size, size)
        corner, centre = image.pixelColor(0, 0), image.pixelColor(size // 2, size // 2)
        assert corner.alpha() == 0, "the rounded corner should be transparent"
        assert centre.alpha() == 255


def test_desktop_file_parses_and_names_the_command_and_icon():
    text = files("assets").joinpath("switchboard.desktop").read_text(encoding="utf-8")
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Switchboard"
    assert entry["Exec"] == "switchboard"
    assert entry["Icon"] == "switchboard"
    assert set(entry["Categories"].rstrip(";").split(";")) >= {"Network", "Telephony"}
    assert entry["Categories"].endswith(";")
    assert all(desktop_entry()["Desktop Entry"][key] == entry[key] for key in DESKTOP_KEYS)


def test_a_missing_png_size_is_reported():
    with pytest.raises(FileNotFoundError):
        icon_png(17)


def test_broken_assets_are_named(monkeypatch, tmp_path):
    monkeypatch.setattr(resources, "asset", lambda name: tmp_path / name)
    (tmp_path / "switchboard-16.png").write_bytes(b"<svg/>")
    with pytest.raises(MissingAsset, match=r"switchboard-16\.png is not a PNG"):
        icon_png(16)
    (tmp_path / "switchboard.desktop").write_text("[Desktop Entry]\nType=Application\nName=S\n")
    with pytest.raises(MissingAsset, match="lacks Exec, Icon, Categories"):
        desktop_entry()
