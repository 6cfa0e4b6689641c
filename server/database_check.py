"""Whether the team database can serve: reachable, its schema version, a LISTEN/NOTIFY round trip.

For `switchboard server check` (and `doctor`); the password never appears in what it says.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from server.database import DatabaseError, connect_once
from server.database_url import redact, scrub
from server.migrations import LATEST, schema_version

NOTIFY_TIMEOUT = 5.0


@dataclass(frozen=True)
class DatabaseCheck:
    """What the check found; ok when the server could serve from this database."""

    url: str  # without its password
    reachable: bool
    schema_version: int | None = None
    notify_ms: float | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.reachable and self.schema_version == LATEST and self.notify_ms is not None

    def lines(self) -> list[str]:
        """The report as lines for a terminal."""
        mark = "✓" if self.ok else "✗"
        lines = [f"{mark} Database {self.url}"]
        if not self.reachable:
            return [*lines, f"  not reachable: {self.error}"]
        version = self.schema_version
        if version == LATEST:
            lines.append(f"  schema version {version} (current)")
        elif version is not None and version > LATEST:
            lines.append(f"  schema version {version}: newer than this Switchboard ({LATEST})")
        else:
            lines.append(
                f"  schema version {version}, needs {LATEST}: run `switchboard server migrate`"
            )
        if self.notify_ms is None:
            lines.append(f"  LISTEN/NOTIFY: no round trip ({self.error or 'timed out'})")
        else:
            lines.append(f"  LISTEN/NOTIFY round trip {self.notify_ms:.1f} ms")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "url": self.url,
            "reachable": self.reachable,
            "schema_version": self.schema_version,
            "latest_schema_version": LATEST,
            "notify_ms": self.notify_ms,
            "ok": self.ok,
            "error": self.error,
        }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def check_database(url: str) -> DatabaseCheck:
    """Connect, read the schema version, and time one NOTIFY from a second connection."""
    safe = redact(url)
    try:
        listener = connect_once(url)
    except DatabaseError as error:
        return DatabaseCheck(safe, False, error=_one_line(str(error)))
    with listener:
        try:
            version = schema_version(listener)
            channel = f"switchboard_check_{secrets.token_hex(6)}"
            listener.execute(f"LISTEN {channel}")
            with connect_once(url) as notifier:
                began = time.perf_counter()
                notifier.execute("SELECT pg_notify(%s, 'ping')", (channel,))
                heard = any(True for _ in listener.notifies(timeout=NOTIFY_TIMEOUT, stop_after=1))
            elapsed = (time.perf_counter() - began) * 1000
        except (psycopg.Error, DatabaseError) as error:
            return DatabaseCheck(safe, True, error=_one_line(scrub(str(error), url)))
    if not heard:
        return DatabaseCheck(safe, True, version, None, "no notification within 5 s")
    return DatabaseCheck(safe, True, version, round(elapsed, 2))
