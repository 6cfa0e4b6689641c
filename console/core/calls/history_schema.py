"""The SQLite history's schema and its upgrades, in order from the file's user_version."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

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
# step with calls by triggers, and indexes on the filtered columns. Built in place on upgrade.
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
INSERT INTO calls_text (calls_text) VALUES ('rebuild');
CREATE INDEX IF NOT EXISTS calls_by_status ON calls (status, created_at);
CREATE INDEX IF NOT EXISTS calls_by_direction ON calls (direction, created_at);
"""
NOTES = {2: "building the text search index (a minute for a million calls)"}
SCHEMA_VERSION = max(MIGRATIONS)


def upgrade(db: sqlite3.Connection, path: Path, version: int) -> None:
    """Run each migration after version, each in one transaction."""
    for step in range(version + 1, SCHEMA_VERSION + 1):
        if version and step in NOTES:  # an existing history: say what takes time
            log.info("call history %s: %s", path, NOTES[step])
        # On failure the caller closes the connection, which rolls the transaction back.
        db.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]} PRAGMA user_version={step}; COMMIT;")
        log.info("call history %s: schema upgraded to version %d", path, step)
