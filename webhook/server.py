"""Serves a WSGI app with cheroot on background threads, with a clean start and stop."""

from __future__ import annotations

import errno
import logging
import socket
import threading

from cheroot import wsgi

log = logging.getLogger(__name__)

# Idle keep-alive connections kept open. They wait in one selector, not in a thread, so many
# are cheap; past the limit the server answers with `Connection: close` and Twilio reconnects.
CONNECTION_LIMIT = 1000
LISTEN_BACKLOG = 1024  # connections the kernel queues while every thread is busy
MAX_HEADER_BYTES = 64 * 1024  # Twilio's headers are a few hundred bytes
MAX_BODY_BYTES = 1024 * 1024  # and its form bodies a few kilobytes
SOCKET_TIMEOUT = 10  # seconds a thread waits on a client that stops sending mid-request
# Worker threads. The interpreter lock lets one of them run Python at a time; a second overlaps
# one request's socket work with another's handling, and more only add lock hand-offs. Measured
# at 4 concurrent clients on 2 cores: p99 6-8 ms with 2 threads, 9-11 ms with 4 or 8.
THREADS = 2


class PortInUse(OSError):
    """The requested port is already taken by another program."""


def port_in_use(host: str, port: int) -> PortInUse:
    """The error for a port another program holds, saying what to do about it."""
    return PortInUse(
        errno.EADDRINUSE,
        f"Port {port} on {host} is already in use; "
        "choose another port or stop the program that holds it.",
    )


def local_url(host: str, port: int | None) -> str:
    """The http URL of a server bound to host and port."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(wsgi.Server):
    """cheroot's WSGI server, logging through `logging`; it can serve a socket bound elsewhere."""

    listener: socket.socket | None = None

    def bind(self, family, type, proto=0):
        if self.listener is None:
            return super().bind(family, type, proto)
        self.socket = self.listener
        self.bind_addr = self.listener.getsockname()[:2]
        return self.socket

    def error_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        log.log(level, "%s", msg, exc_info=traceback)


class WebhookServer:
    """Runs the webhook app on its own threads; start() returns the port, stop() frees it.

    One selector thread holds idle connections; a worker thread reads a ready request, runs the
    app and writes the answer itself, so a request crosses threads once. Each worker takes its
    own connection end to end, which keeps the latency tail short under concurrent requests.
    """

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = THREADS,
        listener: socket.socket | None = None,
    ) -> None:
        self.app = app
        self.listener = listener  # a listening socket to share with other processes, or None
        if listener is not None:
            host, port = listener.getsockname()[:2]
        self.host = host
        self.requested_port = port
        self.threads = threads
        self.port: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def local_url(self) -> str:
        """The loopback URL the server answers on."""
        return local_url(self.host, self.port)

    def start(self) -> int:
        """Bind and begin serving; returns the bound port or raises PortInUse."""
        if self._server is not None:
            return self.port  # type: ignore[return-value]
        server = _Server(
            (self.host, self.requested_port),
            self.app,
            numthreads=self.threads,
            server_name="switchboard",
            request_queue_size=LISTEN_BACKLOG,
            timeout=SOCKET_TIMEOUT,
            shutdown_timeout=0.5,
        )
        server.keep_alive_conn_limit = CONNECTION_LIMIT
        server.max_request_header_size = MAX_HEADER_BYTES
        server.max_request_body_size = MAX_BODY_BYTES
        server.listener = self.listener
        _prepare_as_daemon(server, self.requested_port)
        if self.listener is not None:
            # Other processes accept on this socket too: one that loses the race for a new
            # connection must get EAGAIN at once, not wait in accept() with its connections idle.
            server.socket.setblocking(False)
        self._server = server
        self.port = int(server.bind_addr[1])
        self._thread = threading.Thread(target=server.serve, name=f"wsgi-{self.port}", daemon=True)
        self._thread.start()
        log.info("serving on %s", self.local_url)
        return self.port

    def stop(self, timeout: float = 1.0) -> None:
        """Stop serving and free the port, within about a second."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown_timeout = timeout / 2
        server.stop()
        if self._thread is not None:
            self._thread.join(timeout)
        extensions = getattr(self.app, "extensions", {})
        dispatcher = extensions.get("switchboard.events")
        if dispatcher is not None:
            dispatcher.close(timeout / 2)


def _prepare_as_daemon(server: _Server, port: int) -> None:
    """Bind and start the worker threads from a daemon thread, so the workers are daemons too.

    Threads inherit the flag; a program that exits without stop() is then not kept alive.
    """
    failures: list[OSError] = []

    def prepare() -> None:
        try:
            server.prepare()
        except OSError as error:
            failures.append(error)

    preparing = threading.Thread(target=prepare, name="wsgi-prepare", daemon=True)
    preparing.start()
    preparing.join()
    if not failures:
        return
    # cheroot folds the bind error into its message: "... ([Errno 98] Address already in use)".
    if f"[Errno {errno.EADDRINUSE}]" in str(failures[0]):
        raise port_in_use(server.bind_addr[0], port) from None
    raise failures[0]
