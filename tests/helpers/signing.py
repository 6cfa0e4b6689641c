"""Signs requests the way Twilio does, using the twilio SDK's RequestValidator."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def twilio_signature(token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """The X-Twilio-Signature Twilio would send for a POST to url with these form fields."""
    return RequestValidator(token).compute_signature(url, dict(params or {}))
