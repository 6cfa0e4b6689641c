"""A loopback reverse proxy standing in for an ngrok tunnel: forwards as is, can be dropped."""

from __future__ import annotations

import base64
import http.client
from http.server import BaseHTTPRequestHandler

from tests.helpers.loopback_http import LoopbackServer

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "upgrade"}
)
OFFLINE_PAGE = b"<html><body>The endpoint is offline. ERR_NGROK_3200</body></html>"
REFUSED_PAGE = b"<html><body>Failed to complete tunnel connection. ERR_NGROK_8012</body></html>"


class TunnelProxy:
    """Forwards every request unchanged (method, path, query, headers, body) to the upstream port.

    Like ngrok's edge: dropped, it answers 404 with ngrok-error-code ERR_NGROK_3200; when the
    upstream port refuses, 502 with ERR_NGROK_8012; with basic_auth set, 401 without it.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.dropped = False
        self.basic_auth: tuple[str, str] | None = None
        self.forwarded: list[tuple[str, str]] = []  # (method, path with query) sent upstream
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_GET

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._loopback = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        """The "public" URL of this tunnel, e.g. http://127.0.0.1:51234."""
        return self._loopback.url

    def drop(self) -> None:
        """Behave like a tunnel whose agent went away: ngrok's "endpoint offline" page."""
        self.dropped = True

    def restore(self) -> None:
        """Forward again."""
        self.dropped = False

    def stop(self) -> None:
        """Stop listening altogether (connections are then refused)."""
        self._loopback.stop()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.dropped:
            _reply(handler, 404, OFFLINE_PAGE, {"ngrok-error-code": "ERR_NGROK_3200"})
            return
        if self.basic_auth is not None:
            expected = base64.b64encode(":".join(self.basic_auth).encode()).decode()
            if handler.headers.get("Authorization") != f"Basic {expected}":
                _reply(handler, 401, b"Unauthorized", {"WWW-Authenticate": 'Basic realm="ngrok"'})
                return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=20)
        try:
            connection.request(handler.command, handler.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except OSError:
            _reply(handler, 502, REFUSED_PAGE, {"ngrok-error-code": "ERR_NGROK_8012"})
            return
        finally:
            connection.close()
        self.forwarded.append((handler.command, handler.path))
        passed = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP}
        passed.pop("Content-Length", None)
        _reply(handler, answer.status, content, passed)


def _reply(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        if name.lower() not in ("server", "date"):
            handler.send_header(name, value)
    if status not in (204, 304):
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
