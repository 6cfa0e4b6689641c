"""The status writer's kept connection: the same backend each time, and a fresh one when the
kept one died; errors reach the caller and the connection goes back to the pool."""

from __future__ import annotations

import threading

import psycopg
import pytest

from server.kept_connection import KeptConnection


def _backend(connection: psycopg.Connection) -> int:
    return connection.execute("SELECT pg_backend_pid()").fetchone()[0]


def _idle(database) -> int:
    return database.pool.get_stats()["pool_available"]


def test_every_write_goes_to_the_same_backend(database):
    kept = KeptConnection(database.pool)
    with database.pool.connection(), database.pool.connection():
        pass  # the pool now holds more than one idle connection, handed out in turn
    try:
        backends = {kept.run(_backend, timeout=5) for _ in range(10)}
        assert len(backends) == 1
    finally:
        kept.close()


def test_a_kept_connection_that_died_while_idle_is_replaced_and_the_write_done(database):
    kept = KeptConnection(database.pool)
    try:
        first = kept.run(_backend, timeout=5)
        with database.connection() as other:  # a database restart, for this one backend
            other.execute("SELECT pg_terminate_backend(%s)", (first,))
        calls: list[int] = []

        def write(connection: psycopg.Connection) -> int:
            calls.append(1)
            return _backend(connection)

        second = kept.run(write, timeout=5)
        assert second != first
        assert len(calls) == 2  # refused once by the dead connection, then done on a fresh one
        assert kept.run(_backend, timeout=5) == second  # and that one is kept
    finally:
        kept.close()


def test_a_fresh_connection_that_fails_is_not_tried_again(database):
    kept = KeptConnection(database.pool)
    calls: list[int] = []

    def dies(connection: psycopg.Connection) -> None:
        calls.append(1)
        connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")

    with pytest.raises(psycopg.OperationalError):
        kept.run(dies, timeout=5)
    assert calls == [1]
    assert kept.run(lambda connection: 42, timeout=5) == 42  # the next write gets a new one
    kept.close()


def test_a_refused_statement_reaches_the_caller_and_the_connection_goes_back(database):
    kept = KeptConnection(database.pool)
    kept.run(_backend, timeout=5)
    idle = _idle(database)
    with pytest.raises(psycopg.errors.DivisionByZero):
        kept.run(lambda connection: connection.execute("SELECT 1 / 0"), timeout=5)
    assert _idle(database) == idle + 1  # given back, still sound
    assert kept.run(lambda connection: connection.execute("SELECT 2").fetchone()[0], 5) == 2
    kept.close()
    assert _idle(database) == idle + 1


def test_two_writers_at_once_are_refused_not_interleaved(database):
    kept = KeptConnection(database.pool)
    inside, release = threading.Event(), threading.Event()

    def slow(connection: psycopg.Connection) -> None:
        inside.set()
        release.wait(5)

    writer = threading.Thread(target=kept.run, args=(slow, 5))
    writer.start()
    try:
        assert inside.wait(5)
        with pytest.raises(RuntimeError, match="in use"):
            kept.run(_backend, timeout=5)
        assert not kept.close(timeout=0.1)  # a shutdown does not wait on a stuck write
    finally:
        release.set()
        writer.join(5)
    assert kept.close()
