"""The PyInstaller one-folder app: built from switchboard.spec, then run with no Python around."""

from __future__ import annotations

import os
import pkgutil
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import phonenumbers.data
import phonenumbers.shortdata
import pytest
import requests
from PyInstaller.archive.readers import pkg_archive_contents
from PySide6.QtGui import QImage

from console.ui.resources import ICON_SIZES
from tests.e2e.test_self_test import STEPS
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.helpers.twiml_parse import parse_twiml, room_of
from webhook.health import package_version

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1500  # seconds; the build takes about 100 s on a 2-core machine
RUN_TIMEOUT = 60
QT_MODULES = {"QtCore", "QtGui", "QtWidgets"}


@dataclass(frozen=True)
class Bundle:
    """The built app folder and how long building it took."""

    folder: Path
    build_seconds: float

    @property
    def program(self) -> Path:
        return self.folder / "switchboard"

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    """Build the app once for this module, into a tmp dir, with PyInstaller's cache there too."""
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",  # when it is not installed this fails the test; it never skips
            str(ROOT / "switchboard.spec"),
            "--noconfirm",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
        ],
        cwd=work,
        env={**os.environ, "PYINSTALLER_CONFIG_DIR": str(work / "cache")},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert result.returncode == 0, f"PyInstaller failed:\n{result.stdout}\n{result.stderr[-6000:]}"
    built = Bundle(work / "dist" / "switchboard", time.monotonic() - started)
    files = [f for f in built.folder.rglob("*") if f.is_file() and not f.is_symlink()]
    size = sum(f.stat().st_size for f in files)
    print(f"built {built.folder} in {built.build_seconds:.0f} s: {size / 2**20:.0f} MiB")
    return built


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with no Python in it: no venv on PATH, no PYTHONPATH, an empty HOME."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen", **extra}


def run_packaged(bundle: Bundle, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle.program), *args],
        cwd=home,
        env=clean_env(home),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )


def test_the_folder_holds_the_program_assets_and_metadata_but_not_unused_qt(bundle):
    assert os.access(bundle.program, os.X_OK)
    assets = bundle.internal / "assets"
    expected = {f"switchboard-{size}.png" for size in ICON_SIZES}
    expected |= {"switchboard.svg", "switchboard.desktop"}
    assert expected <= {path.name for path in assets.iterdir()}
    assert not (assets / "screenshot.png").exists()
    bindings = {path.name.split(".")[0] for path in (bundle.internal / "PySide6").glob("Qt*.so")}
    assert bindings == QT_MODULES
    qt_libraries = {path.name for path in (bundle.internal / "PySide6" / "Qt" / "lib").iterdir()}
    unused = re.compile(r"libQt6(Qml|Quick|Pdf|Network|WebEngine|Multimedia|3D|Sql|Test)")
    assert not [name for name in qt_libraries if unused.match(name)]
    assert not (bundle.internal / "PySide6" / "Qt" / "translations").exists()
    keyring_info = next(bundle.internal.glob("keyring-*.dist-info"))
    assert "[keyring.backends]" in (keyring_info / "entry_points.txt").read_text()
    assert next(bundle.internal.glob("room_switchboard-*.dist-info"))


def test_every_region_of_phone_number_metadata_is_in_the_archive(bundle):
    archived = set(pkg_archive_contents(str(bundle.program)))
    for package in (phonenumbers.data, phonenumbers.shortdata):
        modules = {f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)}
        assert len(modules) > 200
        assert modules <= archived, sorted(modules - archived)[:10]
    assert "keyring.backends.SecretService" in archived
    assert not any(name.startswith("phonenumbers.geodata") for name in archived)


def test_packaged_self_test_passes_without_python(bundle, tmp_path):
    result = run_packaged(bundle, tmp_path, "self-test")
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line[5:].split(":")[0] for line in lines if line.startswith("[ok] ")] == list(STEPS)
    assert lines[-1].startswith("Self-test passed in ")
    assert list(tmp_path.rglob("*")) == [], "the self-test wrote into HOME"


def test_packaged_version_comes_from_the_package_metadata(bundle, tmp_path):
    result = run_packaged(bundle, tmp_path, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"switchboard {package_version()}"
    assert "unknown" not in result.stdout


def test_packaged_window_opens_offscreen_and_is_saved_as_a_picture(bundle, tmp_path, qapp):
    picture = tmp_path / "packaged.png"
    result = run_packaged(bundle, tmp_path, "screenshot", str(picture), "--size", "1180x720")
    assert result.returncode == 0, result.stdout + result.stderr
    assert picture.stat().st_size > 10_000
    image = QImage(str(picture))
    assert (image.width(), image.height()) == (1180, 720)
    colours = {image.pixel(x, y) for x in range(0, 1180, 10) for y in range(0, 720, 10)}
    assert len(colours) > 20, "the window came out blank"


def test_packaged_console_starts_in_sandbox_mode_and_exits_zero_on_sigterm(bundle, tmp_path):
    env = clean_env(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    app = RunningCommand(program=[str(bundle.program)], env=env, clean_env=True)
    try:
        app.wait_for_line(r"Switchboard ready: sandbox mode, webhook http://127\.0\.0\.1:\d+")
        status = app.terminate(timeout=10)
    finally:
        app.process.kill()
    assert status == 0, app.lines


def test_packaged_webhook_serves_from_worker_processes(bundle, tmp_path):
    """Each worker is this same program started again: it must become a worker, not a console."""
    token = "0123456789abcdef0123456789abcdef"
    env = clean_env(tmp_path, TWILIO_AUTH_TOKEN=token)
    command = [str(bundle.program)]
    hook = RunningCommand(
        "webhook", "--port", "0", "--workers", "2", program=command, env=env, clean_env=True
    )
    try:
        url = hook.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+) \(2 worker", 60)[1]
        route = "/voice/outbound?room=DailyStandup&identity=alice"
        signed = {"X-Twilio-Signature": twilio_signature(token, url + route, {})}
        for _ in range(10):
            response = requests.post(url + route, headers=signed, timeout=10)
            assert response.status_code == 200
            assert room_of(parse_twiml(response.content)).text == "DailyStandup"
        status = hook.terminate()
    finally:
        hook.process.kill()
    assert status == 0, hook.lines
