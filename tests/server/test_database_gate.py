"""The database gate closes for an outage, not for a busy pool or a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from server.database import Database, DatabaseError
from server.database_gate import DatabaseGate
from tests.helpers import wait_until


@pytest.fixture
def gate(database_url) -> Iterator[DatabaseGate]:
    database = Database(database_url, min_size=1, max_size=1).open()
    opened = DatabaseGate(database, probe_seconds=0.05)
    assert opened.check()
    opened.start()
    yield opened
    opened.stop()
    database.close()


def _busy_pool_error(database: Database) -> DatabaseError:
    """What a request gets while every pooled connection is held elsewhere."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with database.connection():
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        with pytest.raises(DatabaseError) as waited, database.connection():
            pass
    finally:
        done.set()
        holder.join(10)
    return waited.value


def test_a_busy_pool_makes_the_probe_look_and_the_gate_stays_open(gate):
    error = _busy_pool_error(gate.database)
    assert error.busy and not error.conflict
    checks = []
    original = gate.check
    gate.check = lambda: checks.append(1) or original()  # type: ignore[method-assign]
    gate.trip(error)
    wait_until(lambda: checks, timeout=10)  # the probe connected at once to see
    assert gate.ready and gate.problem == ""


def test_a_deadlock_leaves_the_gate_open_and_a_lost_connection_closes_it(gate):
    deadlock = gate.database.error(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert deadlock.conflict
    gate.trip(deadlock)
    assert gate.ready
    lost = gate.database.error(psycopg.OperationalError("server closed the connection"))
    assert not lost.busy and not lost.conflict
    gate.trip(lost)
    assert not gate.ready and "server closed the connection" in gate.problem
    wait_until(lambda: gate.ready, timeout=10)  # the database is there: the probe reopens it
