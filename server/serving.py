"""Serving the team server: in this process (waitress), or from worker processes (gunicorn).

The same servers `switchboard webhook` runs on (webhook.server, webhook.workers); this module
only swaps in the team app and gives each process two lanes of threads (server/lanes.py): a
few for Twilio's webhooks, and enough for the team API and its open event streams.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from server.lanes import Lanes
from server.stream_slots import THREADS, limit_for
from webhook.server import WebhookServer, local_url
from webhook.workers import STOP_SECONDS, WaitressWorker, WebhookApplication

log = logging.getLogger(__name__)

# Each open event stream holds a team thread for as long as its console is connected; the rest
# answer the team API. 64 threads serve 56 consoles a process, keeping 8 free.
SILENT_SECONDS = 30  # a worker whose main thread stays silent this long is replaced


class ServerWorker(WaitressWorker):
    """A gunicorn worker serving the team app with waitress, with threads for the streams."""

    def run(self) -> None:
        server = WebhookServer(
            self.wsgi,
            listener=self.sockets[0].sock,
            tasks=partial(Lanes, team_threads=self.cfg.threads),
        )
        server.start()
        gc.freeze()
        try:
            while self.alive:
                self.notify()
                if self.ppid != os.getppid():
                    break
                self._sleep(1.0)
        finally:
            server.stop()
            from server.app import close_app

            close_app(self.wsgi)


class ServerApplication(WebhookApplication):
    """gunicorn's view of the team server: each worker builds its own app (and pool)."""

    def load(self):
        from server.app import create_app

        return create_app(self.config)


def serve_in_process(
    config: Mapping[str, Any], host: str, port: int, threads: int = THREADS
) -> tuple[WebhookServer, Callable[[], None]]:
    """Start the team app here; (server, stop) once it listens."""
    from server.app import close_app, create_app

    app = create_app(_with_stream_limit(config, threads))
    server = WebhookServer(app, host=host, port=port, tasks=partial(Lanes, team_threads=threads))
    try:
        server.start()
    except BaseException:
        close_app(app)
        raise
    if not app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = server.local_url

    def stop() -> None:
        server.stop()
        close_app(app)

    return server, stop


def serve_with_workers(
    listener: socket.socket,
    config: Mapping[str, Any],
    workers: int,
    threads: int = THREADS,
    on_ready: Callable[[], object] = lambda: None,
    level: int = logging.INFO,
) -> int:
    """Serve the team app from `workers` processes until SIGTERM or Ctrl-C; the exit status."""
    from gunicorn.arbiter import Arbiter
    from gunicorn.sock import TCP6Socket, TCPSocket

    host, port = listener.getsockname()[:2]
    settings = {
        "bind": [local_url(host, port).removeprefix("http://")],
        "workers": workers,
        "threads": threads,
        "worker_class": ServerWorker,
        "graceful_timeout": STOP_SECONDS,
        "timeout": SILENT_SECONDS,
        "loglevel": logging.getLevelName(level).lower(),
        "proc_name": "switchboard-server",
        "control_socket_disable": True,
        "when_ready": lambda arbiter: on_ready(),
    }
    arbiter = Arbiter(ServerApplication(_with_stream_limit(config, threads), settings))
    kind = TCP6Socket if listener.family == socket.AF_INET6 else TCPSocket
    arbiter.LISTENERS = [kind(listener.getsockname(), arbiter.cfg, arbiter.log, listener.detach())]
    master = os.getpid()
    try:
        arbiter.run()
    except SystemExit as exit_:
        if os.getpid() != master:
            raise
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


def _with_stream_limit(config: Mapping[str, Any], threads: int) -> dict[str, Any]:
    """The config, with as many event streams a process as its threads leave room for."""
    return {"STREAM_LIMIT": limit_for(threads), **config}
