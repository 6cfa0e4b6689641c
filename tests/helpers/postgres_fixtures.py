"""A real PostgreSQL for any test that asks: one server per test run, a database per test.

tests/conftest.py registers these fixtures for every test directory; the server starts only
when a test first asks for one, so runs that need no PostgreSQL never start it.
PostgreSQL's server programs must be installed (Debian: `apt-get install postgresql`; `.ci/run`
installs them). Where they are missing the tests say how to install them; under CI that is a
failure, never a skip.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from server.database import Database
    from server.local_postgres import LocalPostgres

ACCOUNT = "AC" + "0" * 32
_numbers = itertools.count(1)


def unavailable(reason: str) -> None:
    """Fail under CI, else skip: PostgreSQL's programs are not installed here."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is needed for tests/server and CI must have it: {reason}")
    pytest.skip(f"PostgreSQL is needed for these tests: {reason}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A throwaway PostgreSQL server for the whole test run, on a free loopback port."""
    from server.local_postgres import LocalPostgres, PostgresFailed, PostgresMissing

    try:
        server = LocalPostgres().start()
    except (PostgresMissing, PostgresFailed) as error:
        unavailable(str(error))
    yield server
    server.close()


@pytest.fixture
def empty_database(postgres: LocalPostgres) -> str:
    """The URL of a new, empty database on the test run's server."""
    return postgres.create_database(f"test_{os.getpid()}_{next(_numbers)}")


@pytest.fixture
def database_url(empty_database: str) -> str:
    """The URL of a new database with the latest schema."""
    from server.database import connect_once
    from server.migrations import migrate

    with connect_once(empty_database) as connection:
        migrate(connection)
    return empty_database


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open connection pool on a migrated database."""
    from server.database import Database

    db = Database(database_url, min_size=1, max_size=4).open()
    yield db
    db.close()
