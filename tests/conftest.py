"""Test-wide setup: offscreen Qt, and no user files or keyring touched by tests."""

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QSettings

from console.core.preferences import Preferences
from console.core.secrets_store import SecretStore
from tests.helpers.memory_keyring import MemoryKeyring

# PostgreSQL fixtures for every directory; the server starts only for a test that asks.
pytest_plugins = ("tests.helpers.postgres_fixtures",)

ISOLATED_ENV = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "NGROK_AUTHTOKEN",
    "SWITCHBOARD_TWILIO_URL",
    "SWITCHBOARD_SERVER",
    "SWITCHBOARD_TOKEN",
    "SWITCHBOARD_DATABASE_URL",
)


@dataclass(frozen=True)
class UserDirs:
    """Where this test's "user" config, data and QSettings files go (all under one tmp dir)."""

    root: Path
    config: Path
    data: Path
    settings: Path


@pytest.fixture(autouse=True)
def collect_on_the_main_thread(request):
    """As the console does (console/gui_collector.py): no automatic cycle collection while a
    test runs, so no server, stream or worker thread frees a Qt object of a console a test put
    together; what the test left is collected here, on the main thread, when it ends.
    Tests marked automatic_gc see Python's own collection, untouched."""
    if request.node.get_closest_marker("automatic_gc") is not None:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    """The in-memory keyring installed as keyring's backend for this test."""
    return MemoryKeyring()


@pytest.fixture(autouse=True)
def user_dirs(tmp_path_factory, monkeypatch, memory_keyring):
    """Isolate every test from the operator's real settings, keyring and environment."""
    root = tmp_path_factory.mktemp("user")
    dirs = UserDirs(root, root / "config", root / "data", root / "settings")
    for path in (dirs.config, dirs.data, dirs.settings):
        path.mkdir()
    for name in ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs.config))
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs.data))

    previous_format = QSettings.defaultFormat()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for settings_format in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(dirs.settings))

    previous_keyring = keyring.get_keyring()  # resolved with the tmp XDG dirs above
    keyring.set_keyring(memory_keyring)
    yield dirs
    keyring.set_keyring(previous_keyring)
    QSettings.setDefaultFormat(previous_format)


@pytest.fixture
def preferences(user_dirs: UserDirs) -> Preferences:
    """Preferences over a fresh ini file in the test's settings dir."""
    path = user_dirs.settings / "preferences.ini"
    return Preferences(QSettings(str(path), QSettings.Format.IniFormat))


@pytest.fixture
def secrets(memory_keyring: MemoryKeyring) -> SecretStore:
    """A SecretStore over the test's in-memory keyring."""
    return SecretStore(backend=memory_keyring)


# CI explores the same examples every run (a failure there is reproducible); locally, new ones.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
