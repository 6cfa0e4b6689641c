"""An in-memory keyring backend for tests, behaving as keyring documents for real backends."""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Passwords in a dict: None when missing, PasswordDeleteError when deleting a missing one."""

    @properties.classproperty
    def priority(cls) -> float:
        # Below zero: keyring's own discovery (and the chainer) never picks it up by itself.
        return -10

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored password, or None."""
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store (or replace) a password."""
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Delete a password; raises PasswordDeleteError when there is none."""
        try:
            del self.passwords[(service, username)]
        except KeyError:
            raise PasswordDeleteError("Password not found") from None
