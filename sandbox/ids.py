"""Twilio-style identifiers and credentials: a two-letter prefix and 32 lowercase hex digits."""

from __future__ import annotations

import secrets
import uuid


def new_sid(prefix: str) -> str:
    """A fresh SID such as 'CA' + 32 hex digits."""
    return prefix + secrets.token_hex(16)


def new_token() -> str:
    """A fresh 32-hex-digit secret, shaped like an Auth Token."""
    return secrets.token_hex(16)


def random_identity() -> str:
    """The identity given to a phone participant that did not ask for one."""
    return str(uuid.uuid4())
