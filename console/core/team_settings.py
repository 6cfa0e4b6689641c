"""Which team this console joins: SWITCHBOARD_SERVER/TOKEN, else Settings ▸ Team and the keyring."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from console.core.gateways.team_login import SERVER_VARIABLE, TeamLogin, team_login
from console.core.preferences import Preferences
from console.core.secrets_store import TEAM_TOKEN, SecretStore


def check_server_url(text: str) -> str:
    """The server's base URL without a trailing slash; ValueError, in words, when not http(s)."""
    server = text.strip().rstrip("/")
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("The team server must be an http(s) URL, e.g. https://team.example.com")
    return server


def resolve_team(
    preferences: Preferences, secrets: SecretStore, env: Mapping[str, str]
) -> TeamLogin | None:
    """The environment's team when set (ValueError when half set), else the saved one, else None.

    A server saved in Settings with no token in the keyring is not a team yet: None.
    """
    login = team_login(env)
    if login is not None:
        return login
    server = preferences.team_server
    if not server:
        return None
    token = secrets.get(TEAM_TOKEN)
    if not token:
        return None
    try:
        return TeamLogin(check_server_url(server), token)
    except ValueError as error:
        raise ValueError(f"Settings ▸ Team: {error} ({SERVER_VARIABLE} overrides it)") from None
