"""Serves the webhook from several processes that share one listening socket, one per core.

One interpreter runs Python on one core at a time, so a single server process tops out at one
core however many threads it has. The webhook keeps no state between requests (everything a
call needs is in its signed URL), so worker processes can share the load: the supervisor binds
the port once, and every worker accepts connections from that socket.
"""

from __future__ import annotations

import errno
import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

from webhook.server import LISTEN_BACKLOG, THREADS, port_in_use

log = logging.getLogger(__name__)

MAX_DEFAULT_WORKERS = 4  # a phone webhook rarely needs more; --workers can ask for any number
READY_TIMEOUT = 60  # seconds a new worker may take to import Flask and start serving
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"


class WorkerFailed(RuntimeError):
    """A worker process ended before it began serving."""


def default_workers() -> int:
    """One worker per core this process may use, at most MAX_DEFAULT_WORKERS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port (0 picks a free port), or PortInUse."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise port_in_use(host, port) from None
        raise
    # Accepted connections inherit this; without it a small answer waits for the client's ACK.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return listener


def _worker_main(
    listener: socket.socket, config: Mapping[str, Any], threads: int, level: int, ready
) -> None:
    """A worker: serve the app on the shared socket until SIGTERM or until the supervisor dies."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    # Ctrl-C reaches every process in the terminal's group; the supervisor decides when to stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    from webhook.app import create_app  # Flask loads in the worker, not in the supervisor
    from webhook.server import WebhookServer

    server = WebhookServer(create_app(config), threads=threads, listener=listener)
    server.start()
    gc.freeze()  # start-up objects never die: keep them out of the collector's pauses
    ready.set()
    supervisor = multiprocessing.parent_process()
    while not stop.wait(0.5):
        if supervisor is not None and not supervisor.is_alive():
            break  # orphaned (the supervisor was killed): free the port too
    server.stop()


@dataclass
class _Worker:
    process: BaseProcess
    ready: Any  # multiprocessing.Event


class WorkerPool:
    """Runs worker processes on one listening socket; a worker that dies is replaced."""

    def __init__(
        self,
        listener: socket.socket,
        config: Mapping[str, Any],
        count: int,
        threads: int = THREADS,
    ) -> None:
        self.listener = listener
        self.config = dict(config)
        self.count = count
        self.threads = threads
        self._context = multiprocessing.get_context("spawn")  # safe beside threads, on every OS
        self._workers: list[_Worker] = []

    def start(self) -> None:
        """Start every worker and wait until each serves; WorkerFailed if one cannot."""
        self._workers = [self._spawn() for _ in range(self.count)]
        for worker in self._workers:
            if not self._wait_ready(worker):
                code = worker.process.exitcode
                self.stop()
                raise WorkerFailed(f"a webhook worker process could not start (exit code {code})")

    def replace_dead(self) -> None:
        """Start a new worker for each that died after it began serving; drop any that never did.

        A worker that cannot start is not restarted in a loop; when none is left, `alive` says so.
        """
        kept: list[_Worker] = []
        for worker in self._workers:
            process = worker.process
            if process.is_alive():
                kept.append(worker)
            elif worker.ready.is_set():
                log.warning(
                    "webhook worker %s ended (exit code %s); starting another",
                    process.pid,
                    process.exitcode,
                )
                kept.append(self._spawn())
            else:
                code = process.exitcode
                log.error("webhook worker %s could not start (exit code %s)", process.pid, code)
        self._workers = kept

    @property
    def alive(self) -> bool:
        """Whether any worker is running."""
        return any(w.process.is_alive() for w in self._workers)

    def stop(self, timeout: float = 2.0) -> None:
        """Ask every worker to stop, kill any that has not within timeout, close the socket."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in self._workers:
            worker.process.join(timeout)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout)
        self._workers = []
        self.listener.close()

    def _spawn(self) -> _Worker:
        ready = self._context.Event()
        level = logging.getLogger().getEffectiveLevel()
        process = self._context.Process(
            target=_worker_main,
            args=(self.listener, self.config, self.threads, level, ready),
            name="webhook-worker",
            daemon=True,
        )
        process.start()
        return _Worker(process, ready)

    @staticmethod
    def _wait_ready(worker: _Worker) -> bool:
        waited = 0.0
        while not worker.ready.wait(0.1):
            waited += 0.1
            if not worker.process.is_alive() or waited >= READY_TIMEOUT:
                return False
        return True
