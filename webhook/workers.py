"""Serves the webhook from several processes under gunicorn's master, one listening socket.

One interpreter runs Python on one core at a time, so a single server process tops out at one
core however many threads it has. The webhook keeps no state between requests (everything a
call needs is in its signed URL), so worker processes can share the load. gunicorn's master
forks them, replaces one that dies or stops answering, and stops them all on SIGTERM; each
worker serves the shared socket with waitress (webhook.server), whose event loop holds idle
and slow clients without tying a thread to any of them.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import select
import socket
from collections.abc import Callable, Mapping
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.sock import TCP6Socket, TCPSocket
from gunicorn.workers.base import Worker

from webhook.server import THREADS, WebhookServer, local_url

log = logging.getLogger(__name__)

MAX_DEFAULT_WORKERS = 4  # a phone webhook rarely needs more; --workers can ask for any number
STOP_SECONDS = 2  # a stopping worker's grace before the master kills it: SIGTERM ends within 3 s
SILENT_SECONDS = 30  # a worker whose event loop stays silent this long is killed and replaced


def default_workers() -> int:
    """One worker per core this process may use, at most MAX_DEFAULT_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


class WaitressWorker(Worker):
    """A gunicorn worker that serves the inherited listening socket with waitress.

    Its main thread tells the master it is alive, and ends serving on SIGTERM or when the master
    is gone (killed with SIGKILL), so an orphaned worker frees the port too.
    """

    def run(self) -> None:
        listener = self.sockets[0].sock
        server = WebhookServer(self.wsgi, threads=THREADS, listener=listener)
        server.start()
        gc.freeze()  # start-up objects never die: keep them out of the collector's pauses
        try:
            while self.alive:
                if not server.serving:  # the master starts another worker in its place
                    self.log.error("Worker %s stopped serving; ending it", self.pid)
                    break
                self.notify()
                if self.ppid != os.getppid():
                    self.log.info("Parent changed, shutting down: %s", self)
                    break
                self._sleep(1.0)
        finally:
            server.stop()

    def _sleep(self, seconds: float) -> None:
        """Wait up to seconds, or until a signal arrives (gunicorn writes those to PIPE)."""
        with contextlib.suppress(InterruptedError):
            ready, _, _ = select.select([self.PIPE[0]], [], [], seconds)
            if ready:
                with contextlib.suppress(OSError):
                    os.read(self.PIPE[0], 4096)


class WebhookApplication(BaseApplication):
    """gunicorn's view of the webhook: its settings, and the Flask app each worker builds."""

    def __init__(
        self,
        config: Mapping[str, Any],
        settings: Mapping[str, Any],
        on_event: Callable[[Any], object] | None = None,
    ) -> None:
        self.config = dict(config)
        self.settings = dict(settings)
        self.on_event = on_event
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.settings.items():
            self.cfg.set(name, value)

    def load(self):
        from webhook.app import create_app  # Flask loads in each worker, not in the master

        return create_app(self.config, on_event=self.on_event)


def serve_with_workers(
    listener: socket.socket,
    config: Mapping[str, Any],
    workers: int,
    on_ready: Callable[[], object] = lambda: None,
    level: int = logging.INFO,
    on_event: Callable[[Any], object] | None = None,
) -> int:
    """Serve on listener from `workers` processes until SIGTERM or Ctrl-C; the exit status.

    on_ready runs in the master once it handles signals, just before the workers start;
    on_event is each worker app's event handler (it must cope with being forked).
    """
    host, port = listener.getsockname()[:2]
    settings = {
        "bind": [local_url(host, port).removeprefix("http://")],
        "workers": workers,
        "worker_class": WaitressWorker,
        "graceful_timeout": STOP_SECONDS,
        "timeout": SILENT_SECONDS,
        "loglevel": logging.getLevelName(level).lower(),
        "proc_name": "switchboard-webhook",
        "control_socket_disable": True,  # no gunicornc socket file: nothing to clean up
        "when_ready": lambda arbiter: on_ready(),
    }
    application = WebhookApplication(config, settings, on_event)
    arbiter = Arbiter(application)
    kind = TCP6Socket if listener.family == socket.AF_INET6 else TCPSocket
    # The master serves the socket bound here (a taken port is reported before anything
    # starts); gunicorn takes over the descriptor and closes it on the way out.
    arbiter.LISTENERS = [kind(listener.getsockname(), arbiter.cfg, arbiter.log, listener.detach())]
    master = os.getpid()
    try:
        arbiter.run()
    except SystemExit as exit_:  # the master ends with sys.exit(status), and so does a worker
        if os.getpid() != master:
            raise  # a worker, forked inside run(): it leaves its process the way gunicorn meant
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0
