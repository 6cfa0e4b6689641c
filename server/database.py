"""The team database: a psycopg connection pool, with the password kept out of every message."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from server.database_url import ENV_DATABASE_URL, redact, scrub, url_problem

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5  # seconds to reach the server before giving up
# The connection failed, not the statement's data.
CONNECTION_LOST = (psycopg.OperationalError, psycopg.InterfaceError)
UNREACHABLE = (PoolTimeout, *CONNECTION_LOST)  # no connection to be had, or it failed
POOL_TIMEOUT = 3.0  # seconds a request waits for a connection (then: 503, database away)


class DatabaseError(Exception):
    """The database could not be reached or refused a request; the message holds no password."""

    busy = False  # no pooled connection came free in time: the database may be fine, or away
    conflict = False  # a deadlock or serialization failure: the database is there; try again


def check_url(url: str) -> None:
    """DatabaseError unless url is given and libpq would read it as written."""
    if not url:
        raise DatabaseError(
            f"No database given: pass --database postgresql://… or set {ENV_DATABASE_URL}."
        )
    problem = url_problem(url)
    if problem:
        raise DatabaseError(problem)


class Database:
    """A pool of connections to one database; open() before use, close() at the end.

    Connections are taken for one unit of work (`with db.connection() as conn:`); the
    transaction commits when the block ends, or rolls back on an error.
    """

    def __init__(self, url: str, min_size: int = 1, max_size: int = 10) -> None:
        check_url(url)
        self.url = url
        self.safe_url = redact(url)
        self.pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            # Autocommit: a one-statement write is one round trip; connection() adds BEGIN and
            # COMMIT around blocks. Idle connections broken by a database restart are dropped
            # by check_idle() (the event hub calls it when it reconnects), not by a probe on
            # every checkout, which would cost a round trip each time.
            kwargs={
                "connect_timeout": CONNECT_TIMEOUT,
                "application_name": "switchboard",
                "autocommit": True,
            },
            timeout=POOL_TIMEOUT,
            reconnect_timeout=0,  # keep trying for ever: the database comes back
            name="switchboard",
        )

    def open(self, wait: bool = True, timeout: float = 10.0) -> Database:
        """Open the pool; with wait, fail with DatabaseError unless it connects within timeout."""
        try:
            self.pool.open(wait=wait, timeout=timeout)
        except (PoolTimeout, psycopg.Error) as error:
            self.pool.close()
            raise self.error(error, "cannot be reached") from None
        return self

    def close(self) -> None:
        """Close every connection."""
        self.pool.close()

    def __enter__(self) -> Database:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, error: BaseException, what: str = "failed") -> DatabaseError:
        """A DatabaseError for error, naming the database without its password."""
        detail = scrub(str(error).strip() or type(error).__name__, self.url)
        failure = DatabaseError(f"The database {self.safe_url} {what}: {detail}")
        failure.busy = isinstance(error, PoolTimeout)
        failure.conflict = (getattr(error, "sqlstate", None) or "").startswith("40")  # rollback
        return failure

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction; errors become DatabaseError."""
        try:
            with self.pool.connection() as connection, connection.transaction():
                yield connection
        except UNREACHABLE as error:
            raise self.error(error, "cannot be reached") from None

    def check_idle(self) -> None:
        """Drop idle connections that no longer work (after the database restarted)."""
        try:
            self.pool.check()
        except (PoolTimeout, psycopg.Error) as error:
            log.info("checking idle connections: %s", scrub(str(error), self.url))

    def connect(self, autocommit: bool = True) -> psycopg.Connection:
        """A connection of its own, outside the pool (for LISTEN, or for one command)."""
        try:
            return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as error:
            raise self.error(error, "cannot be reached") from None


def connect_once(url: str) -> psycopg.Connection:
    """One autocommit connection to url (for the command line), or DatabaseError."""
    check_url(url)
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except (psycopg.Error, ValueError) as error:  # ValueError: e.g. a NUL in the URL
        detail = scrub(str(error).strip(), url)
        raise DatabaseError(f"The database {redact(url)} cannot be reached: {detail}") from None
