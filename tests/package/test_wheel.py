"""A plain (non-editable) install from the wheel carries the assets, and the icon loads from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from console.ui.resources import ICON_SIZES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from PySide6.QtGui import QGuiApplication
import assets, console.ui.resources as resources
app = QGuiApplication(sys.argv[:1])
icon = resources.app_icon()
json.dump({
    "assets": assets.__file__,
    "resources": resources.__file__,
    "sizes": sorted(s.width() for s in icon.availableSizes()),
    "desktop": resources.desktop_entry()["Desktop Entry"]["Exec"],
}, sys.stdout)
"""


def test_wheel_installs_the_assets_and_the_icon_loads_from_site_packages(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("room_switchboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"assets/switchboard-{size}.png" for size in ICON_SIZES}
    expected |= {"assets/__init__.py", "assets/switchboard.svg", "assets/switchboard.desktop"}
    assert expected <= names
    assert "assets/screenshot.png" not in names

    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,  # not the source tree, so only the installed copy can be found
        env={**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert Path(found["assets"]).is_relative_to(site)
    assert Path(found["resources"]).is_relative_to(site)
    assert found["sizes"] == sorted(ICON_SIZES)
    assert found["desktop"] == "switchboard"
