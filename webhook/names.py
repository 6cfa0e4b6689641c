"""Validation of room names and participant identities, shared by the webhook and the console."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_NAME_LENGTH = 128
# Valid UTF-8 that XML 1.0 cannot carry (besides controls and surrogates): a TwiML document
# holding one does not parse, and Twilio answers the call with error 12100.
_NOT_XML = frozenset("\ufffe\uffff")
# Bidirectional embeddings, overrides and isolates: they make a name display as something other
# than what it is (an identity that reads "alice" but is not), so no name may hold one.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# A trailing -2 … -999 marks a variant; longer numbers (phone-4242) belong to the name itself.
_NUMBERED = re.compile(r"(?P<base>.*)-(?:[2-9]|[1-9][0-9]{1,2})", re.DOTALL)


class InvalidName(ValueError):
    """A room name or identity that Twilio would not accept."""


def _check_text(value: str, what: str) -> str:
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidName(f"The {what} is longer than {MAX_NAME_LENGTH} characters.")
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cs"):
            raise InvalidName(f"The {what} contains a control character.")
        if char in _BIDI_CONTROLS:
            raise InvalidName(
                f"The {what} contains a text-direction control character (U+{ord(char):04X}), "
                "which would make it display as something it is not."
            )
        if char in _NOT_XML:
            raise InvalidName(f"The {what} contains a character that is not allowed.")
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


def free_identity(identity: str, taken: Iterable[str]) -> str:
    """Return identity, or the first free identity-2, identity-3, … (at most 128 characters).

    Identities are unique per room (a duplicate disconnects the earlier participant), so the
    console and the webhook both offer a free variant; '' stays '' (Twilio picks one).
    """
    taken = set(taken)
    identity = identity[:MAX_NAME_LENGTH]
    if not identity or identity not in taken:
        return identity
    match = _NUMBERED.fullmatch(identity)
    base = match["base"] if match and match["base"] else identity
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: MAX_NAME_LENGTH - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1
