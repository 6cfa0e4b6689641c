"""A stand-in for the ngrok SDK: forward() opens a loopback TunnelProxy instead of a real tunnel.

Tests put this directory first on sys.path (or this module in sys.modules["ngrok"]). Like the real
SDK, a refused authtoken comes back as an error whose text quotes the token (ERR_NGROK_105), which
Switchboard must never pass on.
"""

from __future__ import annotations

import os

from tests.helpers.tunnel_proxy import TunnelProxy

ACCEPTED = os.environ.get("FAKE_NGROK_AUTHTOKEN", "")  # the one authtoken ngrok accepts
REFUSE_ALL = bool(os.environ.get("FAKE_NGROK_REFUSE_ALL"))
forwarded: list[str] = []  # the authtokens forward() was called with
_open: dict[str, TunnelProxy] = {}


class Listener:
    """What forward() returns: the tunnel's public URL."""

    def __init__(self, proxy: TunnelProxy) -> None:
        self._proxy = proxy

    def url(self) -> str:
        return self._proxy.url


def forward(addr: str, authtoken: str = "", **options: object) -> Listener:
    """Open a 'tunnel' to addr (host:port), or fail as ngrok does for a bad authtoken."""
    forwarded.append(authtoken)
    if REFUSE_ALL or authtoken != ACCEPTED:
        raise ValueError(
            "failed to start tunnel: authentication failed: The authtoken you specified does "
            f"not look like a proper ngrok authtoken.\nYour authtoken: {authtoken}\n\n"
            "ERR_NGROK_105"
        )
    proxy = TunnelProxy(int(addr.rsplit(":", 1)[1]))
    _open[proxy.url] = proxy
    return Listener(proxy)


def disconnect(url: str) -> None:
    """Close the tunnel at url."""
    proxy = _open.pop(url, None)
    if proxy is not None:
        proxy.stop()
