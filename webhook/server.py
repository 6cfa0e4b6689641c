"""Serves a WSGI app with waitress on background threads, with a clean start and stop."""

from __future__ import annotations

import errno
import logging
import threading

from waitress.server import create_server

log = logging.getLogger(__name__)

# Connections served at once. Waitress's default (100) stops accepting once 100 keep-alive
# connections are open, and Twilio's 101st request then waits until it gives up (11200).
CONNECTION_LIMIT = 1000


class PortInUse(OSError):
    """The requested port is already taken by another program."""


class WebhookServer:
    """Runs the webhook app on its own threads; start() returns the port, stop() frees it."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> None:
        self.app = app
        self.host = host
        self.requested_port = port
        self.threads = threads
        self.port: int | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def local_url(self) -> str:
        """The loopback URL the server answers on."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> int:
        """Bind and begin serving; returns the bound port or raises PortInUse."""
        if self._server is not None:
            return self.port  # type: ignore[return-value]
        try:
            server = create_server(
                self.app,
                host=self.host,
                port=self.requested_port,
                threads=self.threads,
                connection_limit=CONNECTION_LIMIT,
                ident="switchboard",
                clear_untrusted_proxy_headers=True,
            )
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortInUse(
                    errno.EADDRINUSE,
                    f"Port {self.requested_port} on {self.host} is already in use; "
                    "choose another port or stop the program that holds it.",
                ) from None
            raise
        self._server = server
        self.port = int(server.effective_port)
        self._thread = threading.Thread(target=server.run, name=f"wsgi-{self.port}", daemon=True)
        self._thread.start()
        log.info("serving on %s", self.local_url)
        return self.port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop serving and free the port, within about a second."""
        server, self._server = self._server, None
        if server is None:
            return
        socket_map = server._map

        def close_all() -> None:
            for channel in list(socket_map.values()):
                channel.close()

        try:
            server.trigger.pull_trigger(close_all)
        except OSError:  # the loop already closed its trigger: nothing left to wake
            log.debug("webhook server loop had already stopped")
        if self._thread is not None:
            self._thread.join(timeout)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout / 2)
        extensions = getattr(self.app, "extensions", {})
        dispatcher = extensions.get("switchboard.events")
        if dispatcher is not None:
            dispatcher.close(timeout / 2)
