"""HTTP Basic auth as Twilio checks it: Account SID and Auth Token, or API Key SID and secret."""

from __future__ import annotations

from flask import request

from sandbox.core import Sandbox
from sandbox.errors import TwilioApiError

UNAUTHENTICATED = TwilioApiError(401, 20003, "Authenticate")


def require_credentials(sandbox: Sandbox) -> None:
    """Raise Twilio's 401 (20003) unless the request carries the account's credentials."""
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        raise UNAUTHENTICATED
    if not sandbox.authenticate(credentials.username or "", credentials.password or ""):
        raise UNAUTHENTICATED
