"""The operator's preferences in QSettings, typed, with defaults; never secrets."""

from __future__ import annotations

from typing import Any

import phonenumbers
from PySide6.QtCore import QByteArray, QSettings

DEFAULT_REGION = "US"
DEFAULT_REFRESH_INTERVAL = 5  # seconds
MIN_REFRESH_INTERVAL, MAX_REFRESH_INTERVAL = 1, 600
DEFAULT_WEBHOOK_PORT = 8080  # 0 asks the system for any free port
MAX_PORT = 65535


def _text(raw: Any, default: str = "") -> str:
    """raw when it is a string (an ini file can hold lists or numbers), else default."""
    return raw if isinstance(raw, str) else default


def _integer(raw: Any, default: int) -> int:
    """raw as an int (ini files hold text), or default when it is not a whole number."""
    if isinstance(raw, bool):
        return default
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        try:
            return int(raw.strip())
        except ValueError:
            return default
    return default


class Preferences:
    """Typed access to the console's QSettings; a malformed stored value reads as its default."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    @classmethod
    def default(cls) -> Preferences:
        """The operator's own preferences (organization and application "Switchboard")."""
        # QSettings(org, app) always means NativeFormat; naming the default format lets
        # QSettings.setDefaultFormat (tests, portable installs) redirect it on every platform.
        return cls(
            QSettings(
                QSettings.defaultFormat(), QSettings.Scope.UserScope, "Switchboard", "Switchboard"
            )
        )

    @property
    def settings(self) -> QSettings:
        """The underlying QSettings (for its file name, or sync)."""
        return self._settings

    def sync(self) -> None:
        """Write pending changes to storage now."""
        self._settings.sync()

    @property
    def region(self) -> str:
        """Default region for numbers typed without a country code, e.g. "US"."""
        value = _text(self._settings.value("dial/region"), DEFAULT_REGION).strip().upper()
        return value if value in phonenumbers.SUPPORTED_REGIONS else DEFAULT_REGION

    @region.setter
    def region(self, value: str) -> None:
        code = value.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"not a phone number region: {value!r}")
        self._settings.setValue("dial/region", code)

    @property
    def refresh_interval(self) -> int:
        """Seconds between periodic refreshes of rooms and participants (1..600)."""
        value = _integer(self._settings.value("refresh/interval"), DEFAULT_REFRESH_INTERVAL)
        return min(max(value, MIN_REFRESH_INTERVAL), MAX_REFRESH_INTERVAL)

    @refresh_interval.setter
    def refresh_interval(self, value: int) -> None:
        clamped = min(max(int(value), MIN_REFRESH_INTERVAL), MAX_REFRESH_INTERVAL)
        self._settings.setValue("refresh/interval", clamped)

    @property
    def webhook_port(self) -> int:
        """Local port for the webhook server; 0 means any free port."""
        value = _integer(self._settings.value("webhook/port"), DEFAULT_WEBHOOK_PORT)
        return value if 0 <= value <= MAX_PORT else DEFAULT_WEBHOOK_PORT

    @webhook_port.setter
    def webhook_port(self, value: int) -> None:
        if not 0 <= int(value) <= MAX_PORT:
            raise ValueError(f"port out of range 0..{MAX_PORT}: {value!r}")
        self._settings.setValue("webhook/port", int(value))

    @property
    def account_sid(self) -> str:
        """The Twilio Account SID (AC…); not a secret."""
        return _text(self._settings.value("twilio/account_sid")).strip()

    @account_sid.setter
    def account_sid(self, value: str) -> None:
        self._settings.setValue("twilio/account_sid", value.strip())

    @property
    def api_key_sid(self) -> str:
        """The Twilio API Key SID (SK…); not a secret (its secret lives in the keyring)."""
        return _text(self._settings.value("twilio/api_key_sid")).strip()

    @api_key_sid.setter
    def api_key_sid(self, value: str) -> None:
        self._settings.setValue("twilio/api_key_sid", value.strip())

    @property
    def last_from(self) -> str:
        """The caller ID used for the last dial."""
        return _text(self._settings.value("dial/last_from"))

    @last_from.setter
    def last_from(self, value: str) -> None:
        self._settings.setValue("dial/last_from", value)

    @property
    def last_room(self) -> str:
        """The room dialled into last."""
        return _text(self._settings.value("dial/last_room"))

    @last_room.setter
    def last_room(self, value: str) -> None:
        self._settings.setValue("dial/last_room", value)

    @property
    def window_geometry(self) -> bytes:
        """The main window's saved geometry (QWidget.saveGeometry), or b"" if none."""
        raw = self._settings.value("window/geometry")
        if isinstance(raw, QByteArray):
            return bytes(raw.data())
        if isinstance(raw, bytes | bytearray):
            return bytes(raw)
        return b""

    @window_geometry.setter
    def window_geometry(self, value: bytes) -> None:
        self._settings.setValue("window/geometry", QByteArray(bytes(value)))
