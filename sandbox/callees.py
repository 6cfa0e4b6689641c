"""How simulated callees behave, chosen by the number dialled (documented in the README)."""

from __future__ import annotations

import re

INVALID = "+15005550001"  # rejected at once with 21211
BUSY = "+15005550002"
NO_ANSWER = "+15005550003"
FAILS = "+15005550004"
ACCOUNT_NUMBERS = ("+15005550006", "+15005550007")

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP = re.compile(r"^sip:[^@\s]+@[^@\s]+$", re.IGNORECASE)
CLIENT = re.compile(r"^client:[A-Za-z0-9_.\-]+$")


def is_valid_to(to: str) -> bool:
    """Whether Twilio would accept this To: E.164, a sip: URI, or a client: name."""
    if to == INVALID:
        return False
    return bool(E164.match(to) or SIP.match(to) or CLIENT.match(to))


def is_well_formed_from(number: str) -> bool:
    """Whether this From has the shape of a caller ID at all."""
    return bool(E164.match(number) or SIP.match(number) or CLIENT.match(number))


def outcome(to: str) -> str:
    """What the callee does: 'busy', 'no-answer', 'failed' or 'answer'."""
    return {BUSY: "busy", NO_ANSWER: "no-answer", FAILS: "failed"}.get(to, "answer")
