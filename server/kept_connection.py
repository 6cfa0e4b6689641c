"""One pooled connection that a single writer keeps from one write to the next.

A pool hands out its idle connections in turn, so a busy writer would wake a different
database backend for each write, each time with cold caches; the status callbacks' writer
(one batch at a time, server/group_commit.py) keeps one instead: the same backend, warm,
and no pool checkout per write. A write that fails gives the connection back to the pool,
which drops it if it is broken. One that finds its kept connection broken (the database
restarted while it was idle) is tried once more on a fresh one, as a pool checkout would
have been.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import ConnectionPool

Result = TypeVar("Result")


class KeptConnection:
    """A connection from pool, kept between calls of run(); one caller at a time."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._connection: psycopg.Connection | None = None
        self._busy = threading.Lock()  # a second caller at once is a bug: fail, don't share

    def run(self, work: Callable[[psycopg.Connection], Result], timeout: float) -> Result:
        """work(connection) on the kept connection (taken from the pool, waiting at most
        timeout seconds, when none is kept); its result, or its error."""
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("the kept connection is in use by another thread")
        try:
            kept = self._connection is not None
            try:
                return work(self._take(timeout))
            except BaseException:
                broken = self._give_back()
                if not (kept and broken):
                    raise
            return work(self._take(timeout))  # the kept one had died while idle: once more
        except BaseException:
            self._give_back()
            raise
        finally:
            self._busy.release()

    def close(self, timeout: float = 2.0) -> bool:
        """Give the kept connection back to the pool; False when a write still holds it after
        timeout seconds (one stuck in the database must not hold up a shutdown)."""
        if not self._busy.acquire(timeout=timeout):
            return False
        try:
            self._give_back()
            return True
        finally:
            self._busy.release()

    def _take(self, timeout: float) -> psycopg.Connection:
        if self._connection is None:
            self._connection = self._pool.getconn(timeout=timeout)
        return self._connection

    def _give_back(self) -> bool:
        """Return the kept connection to the pool (if any); whether it was broken."""
        connection, self._connection = self._connection, None
        if connection is None:
            return False
        broken = connection.broken or connection.closed
        self._pool.putconn(connection)
        return broken
