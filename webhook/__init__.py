"""The Flask webhook that answers Twilio: TwiML for Video rooms, signature checks, callbacks."""

from webhook.app import create_app
from webhook.server import PortInUse, WebhookServer

__all__ = ["PortInUse", "WebhookServer", "create_app"]
