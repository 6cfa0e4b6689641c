"""The app icon and .desktop file, read as package data so they work installed and packaged."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from configparser import ConfigParser

    from PySide6.QtGui import QIcon

ASSETS_PACKAGE = "assets"
ICON_NAME = "switchboard"
# Drawn from the SVG ahead of time: decoding a PNG is quicker than rendering the SVG at start-up.
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
DESKTOP_FILE = "switchboard.desktop"
DESKTOP_KEYS = ("Type", "Name", "Exec", "Icon", "Categories")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MissingAsset(LookupError):
    """An asset file is absent or broken: the install or the bundle left it out."""


def asset(name: str) -> Traversable:
    """One file of the assets package, wherever the package lives (site-packages, a bundle)."""
    return files(ASSETS_PACKAGE).joinpath(name)


def icon_png(size: int) -> bytes:
    """The icon drawn at size × size pixels, as PNG bytes."""
    data = asset(f"{ICON_NAME}-{size}.png").read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        raise MissingAsset(f"{ICON_NAME}-{size}.png is not a PNG")
    return data


def icon_svg() -> bytes:
    """The icon as drawn, in SVG."""
    return asset(f"{ICON_NAME}.svg").read_bytes()


def desktop_entry() -> ConfigParser:
    """The Linux .desktop file, parsed; raises MissingAsset if a key a launcher needs is absent."""
    import configparser  # only the self-test and doctor read it

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read_string(asset(DESKTOP_FILE).read_text(encoding="utf-8"))
    if not entry.has_section("Desktop Entry"):
        raise MissingAsset(f"{DESKTOP_FILE} has no [Desktop Entry] group")
    missing = [key for key in DESKTOP_KEYS if not entry["Desktop Entry"].get(key)]
    if missing:
        raise MissingAsset(f"{DESKTOP_FILE} lacks {', '.join(missing)}")
    return entry


def app_icon() -> QIcon:
    """Switchboard's icon at every drawn size, for the window, the taskbar and the tray.

    Installed or packaged, the PNGs are plain files, and Qt reads each one only when a size is
    asked for (a taskbar wants one or two). Assets inside a zip are decoded here instead.
    """
    # Qt is imported here, not above, so the self-test can check the files without QtGui.
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon, QPixmap

    icon = QIcon()
    for size in ICON_SIZES:
        drawn = asset(f"{ICON_NAME}-{size}.png")
        if isinstance(drawn, Path):
            icon.addFile(str(drawn), QSize(size, size))
            continue
        pixmap = QPixmap()
        if pixmap.loadFromData(icon_png(size), "PNG"):
            icon.addPixmap(pixmap)
    return icon
