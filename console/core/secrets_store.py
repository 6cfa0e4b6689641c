"""Secrets in the OS keyring, or in memory for this session when there is none; never a file."""

from __future__ import annotations

import logging

import keyring
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null
from keyring.errors import PasswordDeleteError

log = logging.getLogger(__name__)

SERVICE = "switchboard"
AUTH_TOKEN = "auth_token"
API_SECRET = "api_secret"
NGROK_AUTHTOKEN = "ngrok_authtoken"
TEAM_TOKEN = "team_token"  # this operator's token for the team server
NAMES = frozenset({AUTH_TOKEN, API_SECRET, NGROK_AUTHTOKEN, TEAM_TOKEN})

# keyrings.alt backends that keep secrets in a plain (or merely encoded) file.
_FILE_BACKENDS = frozenset(
    {"keyrings.alt.file.PlaintextKeyring", "keyrings.alt.file.EncryptedKeyring"}
)


def _qualified(backend: KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def is_usable(backend: KeyringBackend | None) -> bool:
    """Whether backend really keeps secrets in an OS keyring (not fail, null, empty or a file)."""
    if backend is None or isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if _qualified(backend) in _FILE_BACKENDS:
        return False
    if isinstance(backend, chainer.ChainerBackend):
        # The chainer writes to its first backend; with none it behaves like null.
        members = list(backend.backends)
        return bool(members) and is_usable(members[0])
    return True


class SecretStore:
    """Named secrets (auth_token, api_secret, ngrok_authtoken) under the "switchboard" service.

    Falls back to memory for this session when no keyring is usable or the keyring fails;
    `persistent` then turns False and stays False.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        chosen = backend if backend is not None else keyring.get_keyring()
        self._backend: KeyringBackend | None = chosen if is_usable(chosen) else None
        self._backend_label = type(chosen).name
        self._memory: dict[str, str] = {}
        if self._backend is None:
            log.info(
                "no usable keyring (%s): secrets kept for this session only", _qualified(chosen)
            )

    @property
    def persistent(self) -> bool:
        """True when secrets are kept in the OS keyring, False when only in memory."""
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        """The keyring backend in use, in words (e.g. "SecretService Keyring")."""
        if self._backend is None:
            return f"memory, this session only (no usable keyring: {self._backend_label})"
        return self._backend_label

    def get(self, name: str) -> str:
        """The secret called name, or "" when there is none."""
        _check(name)
        if self._backend is not None:
            try:
                value = self._backend.get_password(SERVICE, name)
            except Exception as error:  # any backend failure: keep going in memory
                self._give_up(error)
            else:
                return value or ""
        return self._memory.get(name, "")

    def set(self, name: str, value: str) -> None:
        """Store the secret called name; an empty value deletes it."""
        _check(name)
        if not value:
            self._delete(name)
            return
        self._memory[name] = value  # this session always has it, whatever the keyring does
        if self._backend is not None:
            try:
                self._backend.set_password(SERVICE, name, value)
            except Exception as error:
                self._give_up(error)

    def _delete(self, name: str) -> None:
        self._memory.pop(name, None)
        if self._backend is None:
            return
        try:
            self._backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            pass  # there was nothing to delete
        except Exception as error:
            self._give_up(error)

    def _give_up(self, error: Exception) -> None:
        # Only the type: a backend's message could quote what it was asked to store.
        log.warning(
            "keyring %s failed (%s); secrets kept for this session only",
            self._backend_label,
            type(error).__name__,
        )
        self._backend = None


def _check(name: str) -> None:
    if name not in NAMES:
        raise ValueError(f"unknown secret name: {name!r}")
