"""Serves a Sandbox over HTTP with waitress, connections kept alive, with a clean start and stop."""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
import time
from collections.abc import Callable

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from sandbox.app import create_sandbox_app
from sandbox.core import Sandbox

log = logging.getLogger(__name__)

# Requests served at once. The console's refresh sends 16 side by side and an injected delay
# (/sandbox/Faults) holds its thread for the whole delay, so a few handfuls, not waitress's 4.
THREADS = 32
# Open connections, idle ones included: every SDK client keeps a pool alive (the console's
# holds 16), and tests and scripts open many clients.
CONNECTION_LIMIT = 1000
IDLE_SECONDS = 120  # an idle kept-alive connection is closed after this long
BACKLOG = 1024


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
            listener = socket.create_server(
                (self.host, self.requested_port), family=family, backlog=BACKLOG
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise SandboxPortInUse(
                    errno.EADDRINUSE,
                    f"Port {self.requested_port} on {self.host} is already in use; "
                    "choose another port or stop the program that holds it.",
                ) from None
            raise
        try:
            server = create_server(
                self.app,
                sockets=[listener],
                threads=THREADS,
                connection_limit=CONNECTION_LIMIT,
                channel_timeout=IDLE_SECONDS,
                backlog=BACKLOG,
                asyncore_use_poll=True,  # select() stops at 1024 descriptors
                ident="Switchboard sandbox",
            )
        except Exception:
            listener.close()
            raise
        self._server = server
        self.port = int(listener.getsockname()[1])
        self._thread = threading.Thread(target=server.run, name=f"sandbox-{self.port}", daemon=True)
        self._thread.start()
        log.info("sandbox serving on %s", self.url)
        return self.port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop serving and free the port within about a second (calls keep their state).

        The listener closes first; requests being served get most of the second to finish;
        then the serving loop closes every connection on its own thread and ends.
        """
        server, self._server = self._server, None
        if server is None:
            return
        deadline = time.monotonic() + timeout
        _wake(server, lambda: wasyncore.dispatcher.close(server))  # no new connections
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout * 0.6)
        connections = server._map  # the loop's sockets: the trigger and every connection
        _wake(server, lambda: wasyncore.close_all(connections, ignore_all=True))
        if self._thread is not None:
            self._thread.join(max(0.05, deadline - time.monotonic()))


def _wake(server: BaseWSGIServer, then: Callable[[], object]) -> None:
    """Have the serving loop run `then`; nothing when the loop has closed its trigger already."""
    if not server.trigger._closed:
        with contextlib.suppress(OSError):  # closed between the check and the write
            server.trigger.pull_trigger(then)
