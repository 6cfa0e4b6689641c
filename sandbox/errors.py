"""Twilio's REST error: an HTTP status plus a Twilio code, rendered as Twilio's JSON body."""

from __future__ import annotations

from typing import Any

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"


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


def not_found(path: str) -> TwilioApiError:
    """Twilio's generic 404 (20404)."""
    return TwilioApiError(404, 20404, f"The requested resource {path} was not found")
