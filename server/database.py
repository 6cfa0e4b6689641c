"""The team database: a psycopg connection pool, with the password kept out of every message."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import conninfo
from psycopg_pool import ConnectionPool, PoolTimeout

log = logging.getLogger(__name__)

ENV_DATABASE_URL = "SWITCHBOARD_DATABASE_URL"
CONNECT_TIMEOUT = 5  # seconds to reach the server before giving up
# The connection failed, not the statement's data.
CONNECTION_LOST = (psycopg.OperationalError, psycopg.InterfaceError)
UNREACHABLE = (PoolTimeout, *CONNECTION_LOST)  # no connection to be had, or it failed
POOL_TIMEOUT = 3.0  # seconds a request waits for a connection (then: 503, database away)
_HIDDEN = "***"


class DatabaseError(Exception):
    """The database could not be reached or refused a request; the message holds no password."""


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """SWITCHBOARD_DATABASE_URL, or ''."""
    return (env if env is not None else os.environ).get(ENV_DATABASE_URL, "").strip()


def password_of(url: str) -> str:
    """The password a postgresql:// URL or key=value string carries ('' when none)."""
    if not url:
        return ""
    try:
        return conninfo.conninfo_to_dict(url).get("password") or ""
    except psycopg.ProgrammingError:
        if "://" in url:
            return unquote(urlsplit(url).password or "")
        return ""


def redact(url: str) -> str:
    """The URL (or key=value string) with its password replaced by ***, for logs and errors."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            port = f":{parts.port}" if parts.port else ""
            netloc = f"{parts.username or ''}:{_HIDDEN}@{host}{port}"
            url = urlunsplit(parts._replace(netloc=netloc))
        return re.sub(r"(?i)(password=)[^&]*", rf"\1{_HIDDEN}", url)
    return re.sub(r"(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", rf"\1{_HIDDEN}", url)


def scrub(text: str, url: str) -> str:
    """text with the URL's password (and the URL itself) made safe to show."""
    secret = password_of(url)
    if url:
        text = text.replace(url, redact(url))
    if secret:
        text = text.replace(secret, _HIDDEN)
    return text


class Database:
    """A pool of connections to one database; open() before use, close() at the end.

    Connections are taken for one unit of work (`with db.connection() as conn:`); the
    transaction commits when the block ends, or rolls back on an error.
    """

    def __init__(self, url: str, min_size: int = 1, max_size: int = 10) -> None:
        if not url:
            raise DatabaseError(
                f"No database given: pass --database postgresql://… or set {ENV_DATABASE_URL}."
            )
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
        return DatabaseError(f"The database {self.safe_url} {what}: {detail}")

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
    if not url:
        raise DatabaseError(
            f"No database given: pass --database postgresql://… or set {ENV_DATABASE_URL}."
        )
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as error:
        detail = scrub(str(error).strip(), url)
        raise DatabaseError(f"The database {redact(url)} cannot be reached: {detail}") from None
