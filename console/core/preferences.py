"""The operator's preferences in QSettings, typed, with defaults; never secrets."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QByteArray, QSettings

from console.core.public_url import normalize_public_url

DEFAULT_REGION = "US"
DEFAULT_REFRESH_INTERVAL = 5  # seconds
MIN_REFRESH_INTERVAL, MAX_REFRESH_INTERVAL = 1, 600
DEFAULT_WEBHOOK_PORT = 8080  # 0 asks the system for any free port
MAX_PORT = 65535
TUNNEL_PROVIDERS = ("ngrok", "agent", "manual", "none")  # see console.core.tunnel
DEFAULT_TUNNEL_PROVIDER = "agent"
DEFAULT_NGROK_API_URL = "http://127.0.0.1:4040"
_DOMAIN = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)


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


def _regions() -> set[str]:
    """The region codes phonenumbers knows (imported on first use: it costs start-up time)."""
    from phonenumbers import SUPPORTED_REGIONS

    return SUPPORTED_REGIONS


def agent_api_url(text: str) -> str:
    """text as an http(s)://host[:port] base URL without a trailing slash, or ValueError."""
    url = text.strip().rstrip("/")
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ValueError(f"not a URL for the ngrok agent's API: {text!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"not a URL for the ngrok agent's API: {text!r}")
    return url


def ngrok_domain_name(text: str) -> str:
    """A reserved ngrok domain as a bare host name ("" for none), or ValueError."""
    value = text.strip().lower()
    value = value.removeprefix("https://").removeprefix("http://").rstrip("/")
    if value and not _DOMAIN.fullmatch(value):
        raise ValueError(f"not a domain name: {text!r} (it should look like abc.ngrok.app)")
    return value


class Preferences:
    """Typed access to the console's QSettings; a malformed stored value reads as its default."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    @classmethod
    def default(cls) -> Preferences:
        """The operator's own preferences (organization and application "Switchboard")."""
        # QSettings(org, app) always means NativeFormat; naming the default format lets
        # QSettings.setDefaultFormat (tests, portable installs) redirect it on every platform.
        # On Linux that is ~/.config/Switchboard/Switchboard.conf, and routes.toml lives beside
        # it: webhook.routes_file.CONFIG_DIR_NAME must stay the organization name used here.
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
        return value if value in _regions() else DEFAULT_REGION

    @region.setter
    def region(self, value: str) -> None:
        code = value.strip().upper()
        if code not in _regions():
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

    @property
    def tunnel_provider(self) -> str:
        """How Twilio reaches the webhook in live mode: "ngrok", "agent", "manual" or "none"."""
        value = _text(self._settings.value("tunnel/provider"), DEFAULT_TUNNEL_PROVIDER)
        value = value.strip().lower()
        return value if value in TUNNEL_PROVIDERS else DEFAULT_TUNNEL_PROVIDER

    @property
    def tunnel_chosen(self) -> bool:
        """Whether the operator picked a tunnel provider (False while the default applies)."""
        return self._settings.contains("tunnel/provider")

    @tunnel_provider.setter
    def tunnel_provider(self, value: str) -> None:
        provider = value.strip().lower()
        if provider not in TUNNEL_PROVIDERS:
            raise ValueError(
                f"not a tunnel provider: {value!r} (one of {', '.join(TUNNEL_PROVIDERS)})"
            )
        self._settings.setValue("tunnel/provider", provider)

    @property
    def ngrok_api_url(self) -> str:
        """Where a running ngrok agent's local API answers (default http://127.0.0.1:4040)."""
        raw = _text(self._settings.value("tunnel/ngrok_api_url"), DEFAULT_NGROK_API_URL)
        try:
            return agent_api_url(raw)
        except ValueError:
            return DEFAULT_NGROK_API_URL

    @ngrok_api_url.setter
    def ngrok_api_url(self, value: str) -> None:
        url = agent_api_url(value) if value.strip() else DEFAULT_NGROK_API_URL
        self._settings.setValue("tunnel/ngrok_api_url", url)

    @property
    def ngrok_domain(self) -> str:
        """The reserved ngrok domain for the built-in tunnel (e.g. abc.ngrok.app), or ""."""
        try:
            return ngrok_domain_name(_text(self._settings.value("tunnel/ngrok_domain")))
        except ValueError:
            return ""

    @ngrok_domain.setter
    def ngrok_domain(self, value: str) -> None:
        self._settings.setValue("tunnel/ngrok_domain", ngrok_domain_name(value))

    @property
    def public_url(self) -> str:
        """The public URL entered by hand (the "manual" tunnel), or ""."""
        try:
            return normalize_public_url(_text(self._settings.value("tunnel/public_url")))
        except ValueError:
            return ""

    @public_url.setter
    def public_url(self, value: str) -> None:
        self._settings.setValue(
            "tunnel/public_url", normalize_public_url(value) if value.strip() else ""
        )

    @property
    def waiting_sound(self) -> bool:
        """Whether a new waiting caller also beeps (off unless the operator turned it on)."""
        value = self._settings.value("attention/sound", False)
        return value is True or str(value).lower() in ("true", "1")

    @waiting_sound.setter
    def waiting_sound(self, enabled: bool) -> None:
        self._settings.setValue("attention/sound", bool(enabled))

    @property
    def team_server(self) -> str:
        """The team server's base URL set in Settings ▸ Team, or "" when not in a team."""
        return _text(self._settings.value("team/server")).strip().rstrip("/")

    @team_server.setter
    def team_server(self, value: str) -> None:
        self._settings.setValue("team/server", value.strip().rstrip("/"))

    def previous_voice_url(self, number_sid: str) -> str:
        """The VoiceUrl a number had before Switchboard routed it here ("" if none kept)."""
        return _text(self._settings.value(f"routing/{number_sid}/previous_voice_url"))

    def previous_status_callback(self, number_sid: str) -> str:
        """The StatusCallback a number had before Switchboard routed it here."""
        return _text(self._settings.value(f"routing/{number_sid}/previous_status_callback"))

    def remember_voice_url(self, number_sid: str, url: str, status_callback: str = "") -> None:
        """Keep a number's VoiceUrl and StatusCallback from before routing it here ("" forgets)."""
        if url:
            self._settings.setValue(f"routing/{number_sid}/previous_voice_url", url)
            self._settings.setValue(
                f"routing/{number_sid}/previous_status_callback", status_callback
            )
        else:
            self._settings.remove(f"routing/{number_sid}")
