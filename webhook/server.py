"""Serves a WSGI app with waitress on background threads, with a clean start and stop."""

from __future__ import annotations

import contextlib
import errno
import logging
import resource
import socket
import threading
import time
from collections.abc import Callable

from waitress import wasyncore
from waitress.server import BaseWSGIServer, create_server

from webhook.incoming import stop_watching_routes

log = logging.getLogger(__name__)
# Requests that wait for a free worker thread are the normal case under load here (the event loop
# holds them, complete, in order): waitress would warn about each one.
logging.getLogger("waitress.queue").setLevel(logging.ERROR)

# Open connections one process holds. Waitress keeps every one on its event loop, not on a
# thread, so a client that sends nothing, or a byte a second, costs a socket and a buffer only;
# past the limit it stops accepting until some close.
CONNECTION_LIMIT = 1000
LISTEN_BACKLOG = 1024  # connections the kernel queues while the event loop catches up
MAX_HEADER_BYTES = 64 * 1024  # Twilio's headers are a few hundred bytes
MAX_BODY_BYTES = 1024 * 1024  # and its form bodies a few kilobytes
IDLE_TIMEOUT = 30  # seconds an idle connection is kept open, between requests or before one
# Worker threads run the app on a request that has fully arrived, so no client can hold one.
# The interpreter lock lets one of them run Python at a time; a second overlaps one answer's
# socket work with another's handling, and more only add lock hand-offs to the latency tail.
THREADS = 2
LOOP_TIMEOUT = 1.0  # seconds the event loop waits before it looks at idle connections again
# A peer that stops acknowledging what it was sent (a laptop gone to sleep, a network gone)
# is dropped after this long, not after the ~15 minutes of the system's retransmissions: an
# event stream's heartbeats then find it gone, and its slot and presence are freed.
DEAD_PEER_SECONDS = 45


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


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (0 picks a free port), or PortInUse."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise port_in_use(host, port) from None
        raise
    # Accepted connections inherit these; without the first a small answer waits for the
    # client's ACK.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux; elsewhere the system's default stands
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, DEAD_PEER_SECONDS * 1000)
    return listener


def allow_open_files(wanted: int = CONNECTION_LIMIT + 256) -> None:
    """Raise this process's soft limit of open files toward wanted, as far as the hard one allows.

    Many systems start programs with 1024, which a full connection limit would exhaust.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class WebhookServer:
    """Runs the webhook app on its own threads; start() returns the port, stop() frees it.

    One event-loop thread accepts connections and reads each request whole, however slowly it
    arrives; only then does a worker thread run the app, and it writes the answer itself. Idle
    and slow clients therefore wait on the loop and never hold up a worker.
    """

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = THREADS,
        listener: socket.socket | None = None,
        tasks: Callable[[], object] | None = None,
    ) -> None:
        self.app = app
        self.tasks = tasks  # makes waitress's task dispatcher instead of one pool of `threads`
        self.listener = listener  # a listening socket to share with other processes, or None
        if listener is not None:
            host, port = listener.getsockname()[:2]
        self.host = host
        self.requested_port = port
        self.threads = threads
        self.port: int | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def local_url(self) -> str:
        """The loopback URL the server answers on."""
        return local_url(self.host, self.port)

    def start(self) -> int:
        """Bind and begin serving; returns the bound port or raises PortInUse."""
        if self._server is not None:
            return self.port  # type: ignore[return-value]
        listener = self.listener or listen(self.host, self.requested_port)
        allow_open_files()
        try:
            server = create_server(
                self.app,
                map={},
                _dispatcher=self.tasks() if self.tasks else None,
                sockets=[listener],
                threads=self.threads,
                backlog=LISTEN_BACKLOG,
                connection_limit=CONNECTION_LIMIT,
                channel_timeout=IDLE_TIMEOUT,
                cleanup_interval=5,
                max_request_header_size=MAX_HEADER_BYTES,
                max_request_body_size=MAX_BODY_BYTES,
                asyncore_use_poll=True,  # select() fails past 1024 descriptors
                log_socket_errors=False,  # a client gone mid-answer is no fault of ours
                ident="switchboard",
            )
        except BaseException:
            listener.close()
            raise
        self._server = server  # type: ignore[assignment]
        self.port = int(listener.getsockname()[1])
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(server,), name=f"wsgi-{self.port}", daemon=True
        )
        self._thread.start()
        log.info("serving on %s", self.local_url)
        return self.port

    @property
    def serving(self) -> bool:
        """Whether the event loop runs (it ends at stop(), or if something broke it)."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop accepting, let answers under way finish, then close every connection.

        Returns within about timeout seconds, with the port free.
        """
        server, self._server = self._server, None
        if server is None:
            return
        drained_by = time.monotonic() + timeout / 2
        # On the loop's own thread: close the listening socket, so no new client comes in.
        _wake(server, lambda: wasyncore.dispatcher.close(server))
        while _answering(server) and time.monotonic() < drained_by:
            time.sleep(0.01)
        self._stopping.set()
        _wake(server)  # the loop ends, closing every socket it holds
        if self._thread is not None:
            self._thread.join(timeout / 4)
        # A request still running gets no more time; its thread is a daemon.
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=timeout / 4)
        extensions = getattr(self.app, "extensions", {})
        if extensions:
            stop_watching_routes(self.app, timeout / 4)
        dispatcher = extensions.get("switchboard.events")
        if dispatcher is not None:
            dispatcher.close(timeout / 4)

    def _serve(self, server: BaseWSGIServer) -> None:
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=LOOP_TIMEOUT, map=server._map, use_poll=True, count=1)
        finally:
            wasyncore.close_all(server._map, ignore_all=True)


def _wake(server: BaseWSGIServer, then: Callable[[], object] | None = None) -> None:
    """Wake the event loop, which runs `then` first; nothing when the loop has ended already."""
    if not server.trigger._closed:
        with contextlib.suppress(OSError):
            server.trigger.pull_trigger(then)


def _answering(server: BaseWSGIServer) -> bool:
    """Whether a request is being handled, or an answer is not yet fully sent."""
    tasks = server.task_dispatcher
    if tasks.active_count > 0 or tasks.queue:
        return True
    return any(channel.total_outbufs_len for channel in list(server.active_channels.values()))
