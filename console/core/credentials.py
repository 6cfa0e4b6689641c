"""Twilio credentials: where each part comes from (environment, keyring) and how to log in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from console.core.preferences import Preferences
from console.core.secrets_store import API_SECRET, AUTH_TOKEN, SecretStore

ENV_ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
ENV_API_KEY = "TWILIO_API_KEY"
ENV_API_SECRET = "TWILIO_API_SECRET"

ENVIRONMENT = "environment"
KEYRING = "keyring"
THIS_SESSION = "this session"
SETTINGS = "settings"  # the SIDs, which are not secrets, live in Preferences

# Credentials field -> SecretStore name, for the fields that are secrets.
SECRET_NAMES = {"auth_token": AUTH_TOKEN, "api_secret": API_SECRET}

# Credentials field -> (environment variable, label the operator sees).
FIELDS: dict[str, tuple[str, str]] = {
    "account_sid": (ENV_ACCOUNT_SID, "Account SID"),
    "auth_token": (ENV_AUTH_TOKEN, "Auth Token"),
    "api_key_sid": (ENV_API_KEY, "API Key SID"),
    "api_secret": (ENV_API_SECRET, "API Secret"),
}

_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")


def is_account_sid(text: str) -> bool:
    """Whether text is an Account SID: AC followed by 32 hex digits."""
    return _ACCOUNT_SID.fullmatch(text) is not None


def is_api_key_sid(text: str) -> bool:
    """Whether text is an API Key SID: SK followed by 32 hex digits."""
    return _API_KEY_SID.fullmatch(text) is not None


@dataclass(frozen=True)
class Credentials:
    """What the console logs in to Twilio with; repr and str never show a secret."""

    account_sid: str
    auth_token: str = field(default="", repr=False)
    api_key_sid: str = ""
    api_secret: str = field(default="", repr=False)
    source: str = THIS_SESSION

    @property
    def has_api_key(self) -> bool:
        """Whether an API key and its secret are both given (preferred for REST calls)."""
        return bool(self.api_key_sid and self.api_secret)

    @property
    def usable(self) -> bool:
        """An Account SID with an Auth Token or an API key and its secret."""
        return bool(self.account_sid and (self.auth_token or self.has_api_key))

    def client_login(self) -> tuple[str, str, str]:
        """(username, password, account_sid) for twilio.rest.Client; API key first if given."""
        if not self.usable:
            raise ValueError("credentials need an Account SID and an Auth Token or API key")
        if self.has_api_key:
            return self.api_key_sid, self.api_secret, self.account_sid
        return self.account_sid, self.auth_token, self.account_sid


def env_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """Credentials field -> value for each field a non-empty environment variable sets."""
    found = {name: env.get(var, "").strip() for name, (var, _) in FIELDS.items()}
    return {name: value for name, value in found.items() if value}


def stored_origin(secrets: SecretStore) -> str:
    """Where stored values live: "keyring", or "this session" when no keyring is usable."""
    return KEYRING if secrets.persistent else THIS_SESSION


def _gather(
    preferences: Preferences, secrets: SecretStore, env: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Each field's value and origin, environment variables winning field by field."""
    overrides = env_overrides(env)
    stored = {
        "account_sid": preferences.account_sid,
        "api_key_sid": preferences.api_key_sid,
        **{name: secrets.get(key) for name, key in SECRET_NAMES.items()},
    }
    values = {name: overrides.get(name) or stored[name] for name in FIELDS}
    sources = {
        name: ENVIRONMENT
        if name in overrides
        else (_stored_in(name, secrets) if values[name] else "")
        for name in FIELDS
    }
    return values, sources


def _stored_in(name: str, secrets: SecretStore) -> str:
    return stored_origin(secrets) if name in SECRET_NAMES else SETTINGS


def part_sources(
    preferences: Preferences, secrets: SecretStore, env: Mapping[str, str]
) -> dict[str, str]:
    """Field -> origin: "environment", "keyring", "this session", "settings" (SIDs) or ""."""
    return _gather(preferences, secrets, env)[1]


def combine_sources(sources: Mapping[str, str]) -> str:
    """One phrase for several origins: "environment", "keyring", "environment + keyring"."""
    origins = set(sources.values()) - {""}
    return " + ".join(sorted(origins, key=lambda origin: (origin != ENVIRONMENT, origin)))


def describe_sources(sources: Mapping[str, str]) -> str:
    """A line for the operator, e.g. "Account SID from environment, Auth Token from keyring"."""
    parts = [
        f"{FIELDS[name][1]} from {origin}"
        for name, origin in sources.items()
        if origin and name in FIELDS
    ]
    return ", ".join(parts) if parts else "No Twilio credentials"


def resolve_credentials(
    preferences: Preferences, secrets: SecretStore, env: Mapping[str, str]
) -> Credentials | None:
    """Stored credentials with environment variables overriding field by field; None if unusable."""
    values, sources = _gather(preferences, secrets, env)
    stored = stored_origin(secrets)  # SIDs saved next to the keyring's secrets count as one store
    folded = {name: stored if origin == SETTINGS else origin for name, origin in sources.items()}
    credentials = Credentials(**values, source=combine_sources(folded))
    return credentials if credentials.usable else None
