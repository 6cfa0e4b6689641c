"""Twilio's REST error: an HTTP status plus a Twilio code, rendered as Twilio's JSON body."""

from __future__ import annotations

from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"
VERSION_PREFIXES = ("/v1/",)  # Video names a resource without its version: /Rooms/RM…


class TwilioApiError(Exception):
    """An error the sandbox answers the way Twilio does: {code, message, more_info, status}."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Twilio sends for this error."""
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }


class UnknownResource(LookupError):
    """No such room, participant or call: answered as Twilio's 20404 for the requested path."""


def resource_path(path: str) -> str:
    """The path as Twilio's 20404 message names it: the 2010 API in full, Video without /v1."""
    for prefix in VERSION_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


def not_found(path: str) -> TwilioApiError:
    """Twilio's generic 404 (20404) for a request path."""
    return TwilioApiError(404, 20404, f"The requested resource {resource_path(path)} was not found")


def invalid_parameter(name: str, value: str, expected: str) -> TwilioApiError:
    """Twilio's 400 (20001) for a parameter whose value does not parse."""
    return TwilioApiError(400, 20001, f"Invalid {name}: {value}. {name} must be {expected}")
