"""The team API's error answers as the typed errors the console shows (TwilioError and kin)."""

from __future__ import annotations

import requests

from console.core.gateways.gateway import TwilioError
from console.core.gateways.team_records import (
    ClaimedByOther,
    IdentityInRoom,
    TeamRoutes,
    TeamRoutesChanged,
    TeamRoutesInvalid,
)


class TeamAuthError(TwilioError):
    """The team server refused this operator's token (missing, wrong or revoked)."""


class TeamUnreachable(TwilioError):
    """The team server could not be reached, or its database is away."""


def error_of(answer: requests.Response) -> TwilioError:
    """A team API error answer as a typed error with the message the server gave."""
    try:
        error = answer.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    error = error if isinstance(error, dict) else {}
    message = str(error.get("message") or f"The team server answered HTTP {answer.status_code}")
    kind, status = error.get("kind", ""), answer.status_code
    if status == 401 or kind == "auth":
        return TeamAuthError(message, 0, status)
    if kind == "claimed":
        holder = str(error.get("holder") or "")
        words = f"{holder} is already handling this caller." if holder else message
        return ClaimedByOther(words, holder, status)
    if kind == "identity_taken" and error.get("suggestion"):
        return IdentityInRoom(message, str(error["suggestion"]), status)
    if kind == "routes_changed":
        current = TeamRoutes(int(error.get("version") or 0), str(error.get("toml") or ""))
        return TeamRoutesChanged(message, current, status)
    if kind == "routes":
        line, key = int(error.get("line") or 0), str(error.get("key") or "")
        return TeamRoutesInvalid(message, line, key, str(error.get("problem") or message), status)
    if kind == "twilio":
        code, twilio_status = int(error.get("code") or 0), int(error.get("twilio_status") or 0)
        return TwilioError(message, code, twilio_status)
    if kind == "database" or status >= 500:
        return TeamUnreachable(message, 0, status)
    return TwilioError(message, 0, status)
