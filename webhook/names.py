"""Validation of room names and participant identities, shared by the webhook and the console."""

from __future__ import annotations

import unicodedata

MAX_NAME_LENGTH = 128


class InvalidName(ValueError):
    """A room name or identity that Twilio would not accept."""


def _check_text(value: str, what: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidName(f"The {what} is longer than {MAX_NAME_LENGTH} characters.")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidName(f"The {what} contains a control character.")
    return value


def check_room_name(value: str) -> str:
    """Return the room name if Twilio would accept it, else raise InvalidName."""
    if not value.strip():
        raise InvalidName("The room name is empty.")
    return _check_text(value, "room name")


def check_identity(value: str) -> str:
    """Return the identity ('' means Twilio assigns one) if acceptable, else raise InvalidName."""
    return _check_text(value, "identity")


def decode_utf8(raw: bytes, what: str) -> str:
    """Decode bytes as strict UTF-8, raising InvalidName for anything else."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidName(f"The {what} is not valid UTF-8.") from None
