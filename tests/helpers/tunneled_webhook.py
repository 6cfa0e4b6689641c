"""Switchboard's real webhook behind a loopback stand-in for the tunnel, as Twilio would see it."""

from __future__ import annotations

import socket

from tests.helpers.tunnel_proxy import TunnelProxy
from webhook import WebhookServer, create_app


def free_port() -> int:
    """A loopback port nothing listens on right now (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TunneledWebhook:
    """The webhook on a loopback port, and a TunnelProxy to it whose URL is the public one.

    The webhook's PUBLIC_URL is the proxy's URL, so signatures are checked against it.
    """

    def __init__(self, auth_token: str, port: int = 0) -> None:
        self.events: list = []
        self.app = create_app({"AUTH_TOKEN": auth_token}, self.events.append)
        self.server = WebhookServer(self.app, port=port)
        self.port = self.server.start()
        self.proxy = TunnelProxy(self.port)
        self.app.config["PUBLIC_URL"] = self.proxy.url

    @property
    def local_url(self) -> str:
        """Where the webhook answers on loopback."""
        return self.server.local_url

    @property
    def public_url(self) -> str:
        """The tunnel's URL."""
        return self.proxy.url

    def stop(self) -> None:
        """Stop the proxy, then the webhook."""
        self.proxy.stop()
        self.server.stop()
