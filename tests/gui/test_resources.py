"""The application icon and .desktop file load through importlib.resources, as installed."""

from __future__ import annotations

import configparser
from importlib.resources import files

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage

from console import resources
from console.resources import (
    DESKTOP_KEYS,
    ICON_SIZES,
    SVG_SIZE,
    MissingAsset,
    app_icon,
    desktop_entry,
    icon_png,
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


def test_app_icon_has_every_drawn_size_and_the_svg(qapp):
    icon = app_icon()
    assert not icon.isNull()
    sizes = {(size.width(), size.height()) for size in icon.availableSizes()}
    assert sizes == {(n, n) for n in (*ICON_SIZES, SVG_SIZE)}
    for size in (*ICON_SIZES, SVG_SIZE):
        image = icon.pixmap(QSize(size, size)).toImage()
        assert (image.width(), image.height()) == (size, size)
        assert distinct_colours(image) > 3, f"the {size} px icon is blank"


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
