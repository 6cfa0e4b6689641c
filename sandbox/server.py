"""Serves a Sandbox over HTTP on its own threads (werkzeug), with a clean start and stop."""

from __future__ import annotations

import errno
import logging
import socket
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sandbox.app import create_sandbox_app
from sandbox.core import Sandbox

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Logs requests at debug level through logging, and keeps connections open as Twilio does."""

    protocol_version = "HTTP/1.1"  # keep-alive: the SDK reuses its connections

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug('"%s" %s %s', self.requestline, code, size)

    def log(self, type: str, message: str, *args) -> None:
        getattr(log, type if type in ("info", "warning", "error") else "info")(message, *args)


class SandboxPortInUse(OSError):
    """The requested port is already taken by another program."""


class SandboxServer:
    """Runs the sandbox app on a background thread; start() returns the port, stop() frees it."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self.app = create_sandbox_app(sandbox)
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL the sandbox answers on: what SWITCHBOARD_TWILIO_URL should hold."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> int:
        """Bind and begin serving; returns the bound port or raises SandboxPortInUse."""
        if self._server is not None:
            return self.port  # type: ignore[return-value]
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            # Bind here: werkzeug would print and sys.exit() on a taken port.
            listener = socket.create_server((self.host, self.requested_port), family=family)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise SandboxPortInUse(
                    errno.EADDRINUSE,
                    f"Port {self.requested_port} on {self.host} is already in use; "
                    "choose another port or stop the program that holds it.",
                ) from None
            raise
        try:
            server = make_server(
                self.host,
                self.requested_port,
                self.app,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # werkzeug serves on its own duplicate of the socket
        server.daemon_threads = True
        self._server = server
        self.port = int(server.socket.getsockname()[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=f"sandbox-{self.port}"
        )
        self._thread.daemon = True
        self._thread.start()
        log.info("sandbox serving on %s", self.url)
        return self.port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop serving and free the port within about a second (calls keep their state)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
