"""The SQLite history's schema and its upgrades, which say how far they are as they go."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

UpgradeProgress = Callable[[int, int], object]  # (calls done, calls in all) of an upgrade step
UPGRADE_BATCH = 10_000  # calls indexed between two progress reports
LOG_EVERY = 10  # percent of an upgrade between two log lines

# Each version's migration, run in order from the file's user_version; append, never edit.
MIGRATIONS: dict[int, str] = {}
MIGRATIONS[1] = """
CREATE TABLE IF NOT EXISTS calls (
    sid TEXT PRIMARY KEY,
    direction TEXT NOT NULL DEFAULT '',
    from_ TEXT NOT NULL DEFAULT '',
    "to" TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    final_status TEXT NOT NULL DEFAULT '',
    duration INTEGER,
    error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS calls_by_created ON calls (created_at);
CREATE TABLE IF NOT EXISTS call_statuses (
    sid TEXT NOT NULL REFERENCES calls (sid) ON DELETE CASCADE,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    sequence INTEGER,
    PRIMARY KEY (sid, status)
);
"""
# Substring search without a scan: an FTS5 trigram index over the searchable columns, kept in
# step with calls by triggers, and indexes on the filtered columns. Built in place on upgrade,
# a batch of calls at a time (fill_text_index), so the operator sees how far it is.
TEXT_COLUMNS = 'sid, from_, "to", room, identity, display_name, error_message'
_NEW_TEXT = ", ".join(f"new.{c}" for c in TEXT_COLUMNS.split(", "))
_OLD_TEXT = ", ".join(f"old.{c}" for c in TEXT_COLUMNS.split(", "))
MIGRATIONS[2] = f"""
CREATE VIRTUAL TABLE calls_text USING fts5({TEXT_COLUMNS},
    content='calls', content_rowid='rowid', tokenize='trigram');
CREATE TRIGGER calls_text_insert AFTER INSERT ON calls BEGIN
    INSERT INTO calls_text (rowid, {TEXT_COLUMNS}) VALUES (new.rowid, {_NEW_TEXT});
END;
CREATE TRIGGER calls_text_delete AFTER DELETE ON calls BEGIN
    INSERT INTO calls_text (calls_text, rowid, {TEXT_COLUMNS})
    VALUES ('delete', old.rowid, {_OLD_TEXT});
END;
CREATE TRIGGER calls_text_update AFTER UPDATE OF {TEXT_COLUMNS} ON calls BEGIN
    INSERT INTO calls_text (calls_text, rowid, {TEXT_COLUMNS})
    VALUES ('delete', old.rowid, {_OLD_TEXT});
    INSERT INTO calls_text (rowid, {TEXT_COLUMNS}) VALUES (new.rowid, {_NEW_TEXT});
END;
CREATE INDEX IF NOT EXISTS calls_by_status ON calls (status, created_at);
CREATE INDEX IF NOT EXISTS calls_by_direction ON calls (direction, created_at);
"""
NOTES = {2: "building the text search index"}
SCHEMA_VERSION = max(MIGRATIONS)


def fill_text_index(db: sqlite3.Connection, report: UpgradeProgress) -> None:
    """Index every call already in the history, UPGRADE_BATCH at a time, reporting each batch."""
    total = db.execute("SELECT count(*) FROM calls").fetchone()[0]
    done, after = 0, None
    report(0, total)
    while True:
        (last,) = db.execute(
            "SELECT max(rowid) FROM (SELECT rowid FROM calls WHERE ? IS NULL OR rowid > ? "
            "ORDER BY rowid LIMIT ?)",
            (after, after, UPGRADE_BATCH),
        ).fetchone()
        if last is None:
            break
        done += db.execute(
            f"INSERT INTO calls_text (rowid, {TEXT_COLUMNS}) SELECT rowid, {TEXT_COLUMNS} "
            "FROM calls WHERE (? IS NULL OR rowid > ?) AND rowid <= ?",
            (after, after, last),
        ).rowcount
        after = last
        report(min(done, total), total)


FILLS = {2: fill_text_index}  # the work a migration does row by row, after its script


class _Reporter:
    """Hands an upgrade's progress to the caller, and logs it every LOG_EVERY percent."""

    def __init__(self, path: Path, note: str, progress: UpgradeProgress | None) -> None:
        self.path, self.note, self.progress = path, note, progress
        self._logged = -LOG_EVERY

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent >= self._logged + LOG_EVERY or done == total:
            self._logged = percent - percent % LOG_EVERY
            log.info(
                "call history %s: %s: %d of %d calls (%d%%)",
                self.path, self.note, done, total, percent,
            )  # fmt: skip
        if self.progress is not None:
            self.progress(done, total)


def upgrade(
    db: sqlite3.Connection, path: Path, version: int, progress: UpgradeProgress | None
) -> None:
    """Run each migration after version, each in one transaction; an existing history's long
    steps report (done, total) to progress as they go and log every LOG_EVERY percent."""
    for step in range(version + 1, SCHEMA_VERSION + 1):
        # On failure the caller closes the connection, which rolls the transaction back.
        db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]}")
        if step in FILLS:
            note = NOTES.get(step, "upgrading")
            quiet = not version  # a new history has nothing to fill: nothing to tell
            FILLS[step](db, (lambda *_: None) if quiet else _Reporter(path, note, progress))
        db.execute(f"PRAGMA user_version={step}")
        db.execute("COMMIT")
        log.info("call history %s: schema upgraded to version %d", path, step)
