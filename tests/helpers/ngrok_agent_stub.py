"""A stand-in for a running ngrok agent's local API: GET /api/tunnels, served on loopback."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.helpers.loopback_http import LoopbackServer


class AgentApiStub:
    """Serves the agent API's documented JSON for the tunnels a test lists; stop() frees it."""

    def __init__(self) -> None:
        self.tunnels: list[dict[str, Any]] = []
        self.status = 200  # what GET /api/tunnels answers; tests may change it
        self.raw_body: bytes | None = None  # answer this instead of JSON when set
        self.requests: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests.append(self.path)
                if self.path.split("?", 1)[0] != "/api/tunnels":
                    self._answer(404, b'{"error_code": 100, "msg": "not found"}')
                    return
                body = stub.raw_body
                if body is None:
                    listing = {"tunnels": list(stub.tunnels), "uri": "/api/tunnels"}
                    body = json.dumps(listing).encode()
                self._answer(stub.status, body)

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._loopback = LoopbackServer(Handler)

    @property
    def url(self) -> str:
        """The API's base URL, e.g. http://127.0.0.1:40401 (pass it as --ngrok-api)."""
        return self._loopback.url

    def add_tunnel(
        self, public_url: str, addr: str, proto: str = "https", name: str = ""
    ) -> dict[str, Any]:
        """List one tunnel as the agent does: name, public_url, proto and config.addr."""
        name = name or f"tunnel-{len(self.tunnels)}"
        tunnel = {
            "name": name,
            "ID": f"{len(self.tunnels):032x}",
            "uri": f"/api/tunnels/{name}",
            "public_url": public_url,
            "proto": proto,
            "config": {"addr": addr, "inspect": True},
            "metrics": {"conns": {"count": 0, "gauge": 0}, "http": {"count": 0}},
        }
        self.tunnels.append(tunnel)
        return tunnel

    def stop(self) -> None:
        """Stop answering and free the port."""
        self._loopback.stop()
