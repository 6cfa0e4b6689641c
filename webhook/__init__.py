"""The Flask webhook that answers Twilio: TwiML for Video rooms, signature checks, callbacks."""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "create_app": "webhook.app",
    "PortInUse": "webhook.server",
    "WebhookServer": "webhook.server",
}

__all__ = ["PortInUse", "WebhookServer", "create_app"]


def __getattr__(name: str) -> Any:
    """Import Flask and waitress only when the server is wanted, so light users start fast."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'webhook' has no attribute {name!r}")
