"""A call history file as Switchboard's first schema wrote it, for tests of its upgrade."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

VERSION_1 = """
CREATE TABLE calls (sid TEXT PRIMARY KEY, direction TEXT NOT NULL DEFAULT '',
    from_ TEXT NOT NULL DEFAULT '', "to" TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '', identity TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '', final_status TEXT NOT NULL DEFAULT '',
    duration INTEGER, error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '');
CREATE INDEX calls_by_created ON calls (created_at);
CREATE TABLE call_statuses (sid TEXT NOT NULL REFERENCES calls (sid) ON DELETE CASCADE,
    status TEXT NOT NULL, at TEXT NOT NULL, sequence INTEGER, PRIMARY KEY (sid, status));
PRAGMA user_version = 1;
"""
START = datetime(2025, 1, 1, tzinfo=UTC)
STEPS = ("queued", "ringing", "completed")  # each call's statuses, a second apart


def sid_of(n: int) -> str:
    return f"CA{n:032x}"


def write_version_1(path: Path, calls: int) -> None:
    """A version-1 history of calls completed calls, each with its three statuses; call n is
    in room "Room n" (5 digits) with identity "Mitarbeiter Nr. n" and name "Zoë n"."""
    raw = sqlite3.connect(path)
    raw.executescript(VERSION_1)
    with raw:
        raw.executemany(
            'INSERT INTO calls (sid, direction, from_, "to", room, identity, display_name, '
            "created_at, status, final_status, duration) VALUES "
            "(?, 'outbound-api', '+15005550006', ?, ?, ?, ?, ?, 'completed', 'completed', 9)",
            (
                (sid_of(n), f"+1555{n:07d}", f"Room {n:05d}", f"Mitarbeiter Nr. {n}", f"Zoë {n}",
                 (START + timedelta(minutes=n)).isoformat())
                for n in range(calls)
            ),
        )  # fmt: skip
        raw.executemany(
            "INSERT INTO call_statuses (sid, status, at, sequence) VALUES (?, ?, ?, ?)",
            (
                (sid_of(n), status, (START + timedelta(minutes=n, seconds=step)).isoformat(), step)
                for n in range(calls)
                for step, status in enumerate(STEPS)
            ),
        )
    raw.close()
