"""Versioned schema migrations for the team database: each step runs once, in one transaction.

Every table has an `account` column (the Twilio Account SID the row belongs to), so a team's
rows can move to a database of their own. A database newer than this program knows is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from server.sql_functions import FUNCTIONS, FUNCTIONS_V4

log = logging.getLogger(__name__)

MIGRATION_LOCK = 0x5357_4D47  # advisory lock key: one migrator at a time


class SchemaError(Exception):
    """The database's schema does not fit this program (too old, or too new)."""


@dataclass(frozen=True)
class Migration:
    """One step from version - 1 to version."""

    version: int
    summary: str
    sql: str


_V1_HISTORY_AND_OPERATORS = """
CREATE TABLE operators (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX operators_active_name ON operators (account, name) WHERE revoked_at IS NULL;
CREATE TABLE calls (
    account TEXT NOT NULL,
    sid TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT '',
    from_ TEXT NOT NULL DEFAULT '',
    "to" TEXT NOT NULL DEFAULT '',
    room TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    final_status TEXT NOT NULL DEFAULT '',
    duration INTEGER,
    error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (account, sid)
);
CREATE INDEX calls_by_created ON calls (account, created_at DESC);
CREATE TABLE call_statuses (
    account TEXT NOT NULL,
    sid TEXT NOT NULL,
    status TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    sequence INTEGER,
    PRIMARY KEY (account, sid, status),
    FOREIGN KEY (account, sid) REFERENCES calls (account, sid) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED  -- a status may be written just before its call row
);
CREATE TABLE actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    operator_id BIGINT REFERENCES operators (id),
    action TEXT NOT NULL,
    detail JSONB NOT NULL DEFAULT '{}',
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX actions_by_account ON actions (account, at);
"""

_V2_TEAM_STATE = (
    """
ALTER TABLE calls ADD COLUMN operator TEXT NOT NULL DEFAULT '';
CREATE TABLE event_log (
    id BIGSERIAL PRIMARY KEY,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    data JSONB NOT NULL DEFAULT '{}',
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_log_by_account ON event_log (account, id);
CREATE INDEX event_log_by_age ON event_log (at);
CREATE TABLE event_log_pruned (account TEXT PRIMARY KEY, up_to BIGINT NOT NULL);
CREATE TABLE room_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account TEXT NOT NULL,
    room_sid TEXT NOT NULL DEFAULT '',
    room_name TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    participant_identity TEXT NOT NULL DEFAULT '',
    fields JSONB NOT NULL DEFAULT '{}',
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX room_events_by_room ON room_events (account, room_sid, id);
CREATE TABLE waiting (
    account TEXT NOT NULL,
    call_sid TEXT NOT NULL,
    from_ TEXT NOT NULL DEFAULT '',
    "to" TEXT NOT NULL DEFAULT '',
    identity TEXT NOT NULL DEFAULT '',
    since TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'placed', 'gone')),
    claimed_by BIGINT REFERENCES operators (id),
    claimed_at TIMESTAMPTZ,
    room TEXT NOT NULL DEFAULT '',
    ended_at TIMESTAMPTZ,
    PRIMARY KEY (account, call_sid)
);
CREATE INDEX waiting_now ON waiting (account, since) WHERE state = 'waiting';
CREATE TABLE routes (
    account TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    toml TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_by BIGINT REFERENCES operators (id)
);
CREATE TABLE mutes (
    account TEXT NOT NULL,
    room TEXT NOT NULL,
    identity TEXT NOT NULL,
    muted_by BIGINT REFERENCES operators (id),
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account, room, identity)
);
CREATE TABLE recordings (
    account TEXT NOT NULL,
    room_sid TEXT NOT NULL,
    room TEXT NOT NULL DEFAULT '',
    started_by BIGINT REFERENCES operators (id),
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    stopped_at TIMESTAMPTZ,
    PRIMARY KEY (account, room_sid, started_at)
);
CREATE TABLE presence (
    session TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES operators (id),
    opened_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX presence_by_operator ON presence (account, operator_id);
"""
    + FUNCTIONS
)

# Text search over a year of calls: trigram GIN indexes answer `ILIKE '%…%'` without a scan.
_V3_SEARCH_INDEXES = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX calls_text ON calls USING gin ((
    sid || chr(31) || from_ || chr(31) || "to" || chr(31) || room || chr(31) || identity
    || chr(31) || display_name || chr(31) || error_message || chr(31) || operator
) gin_trgm_ops);
CREATE INDEX calls_by_status ON calls (account, status, created_at DESC);
CREATE INDEX calls_by_direction ON calls (account, direction, created_at DESC);
"""

# Presence with activity, mutes kept for later joiners, room callbacks written once.
_V4_ACTIVITY_MUTES_ONCE = (
    """
CREATE INDEX calls_open_by_operator ON calls (account, operator, created_at DESC)
    WHERE final_status = '' AND operator <> '';
CREATE TABLE operator_activity (
    account TEXT NOT NULL,
    operator TEXT NOT NULL,
    activity TEXT NOT NULL DEFAULT 'idle',
    call_sid TEXT NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account, operator)
);
COMMENT ON TABLE operator_activity IS 'the activity last told to consoles, per operator';
COMMENT ON COLUMN mutes.room IS 'the room SID: a mute lasts as long as its room';
ALTER TABLE room_events ADD COLUMN callback_key TEXT;
CREATE UNIQUE INDEX room_events_once ON room_events (account, callback_key);
"""
    + FUNCTIONS_V4
)

# Text search's plan: PostgreSQL guesses how many calls a pattern matches from a sample of the
# indexed text. With the default 100-value sample, a pattern a few calls in a thousand match
# reads as 0 % or 1 %, by the luck of the sample; at 1 % the planner walks the whole history
# in date order instead of asking the trigram index (60-250 ms a search instead of 10-20 ms on
# a million calls). A 1000-value sample still misjudged 0.2 % as 0.4-0.6 % in one ANALYZE of
# three; a 3000-value one (ANALYZE then reads 900,000 rows) did not in ten.
# Only a history with calls in it is analyzed: an empty table, once analyzed, is taken for
# empty, and the lookups of a call by its SID (the status function's, the foreign key's) are
# planned as scans of the whole table and kept so until autovacuum next analyzes it; a new
# team's first busy minute then read every call for every callback. A table never analyzed is
# planned as at least ten pages, by index. (Statistics only: the schema is the same either way,
# and a database migrated before is set right by autovacuum's first ANALYZE with calls in it.)
_V5_SEARCH_STATISTICS = """
ALTER INDEX calls_text ALTER COLUMN 1 SET STATISTICS 3000;
DO $$ BEGIN
    IF EXISTS (SELECT FROM calls) THEN
        ANALYZE calls;
    END IF;
END $$;
"""

# A claim outlives a dropped connection: when each operator was last heard from (an event stream
# open or closing, any API request). Recordings as the team starts and stops them: the rules
# each recording runs under, and the rules and operator that stopped it.
_V6_LAST_SEEN_RECORDINGS = """
ALTER TABLE operators ADD COLUMN last_seen TIMESTAMPTZ;
COMMENT ON COLUMN operators.last_seen IS 'the last API request, or event stream open or closing';
ALTER TABLE recordings ADD COLUMN rules JSONB NOT NULL DEFAULT '[]';
ALTER TABLE recordings ADD COLUMN stop_rules JSONB;
ALTER TABLE recordings ADD COLUMN stopped_by BIGINT REFERENCES operators (id);
UPDATE recordings r SET stopped_at = (
    SELECT min(later.started_at) FROM recordings later WHERE later.account = r.account
    AND later.room_sid = r.room_sid AND later.started_at > r.started_at)
WHERE r.stopped_at IS NULL AND EXISTS (SELECT FROM recordings later WHERE later.account =
    r.account AND later.room_sid = r.room_sid AND later.started_at > r.started_at);
CREATE UNIQUE INDEX recordings_open ON recordings (account, room_sid) WHERE stopped_at IS NULL;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "call history and operators", _V1_HISTORY_AND_OPERATORS),
    Migration(2, "event log, waiting line, routes, room controls, presence", _V2_TEAM_STATE),
    Migration(3, "trigram text search and filter indexes", _V3_SEARCH_INDEXES),
    Migration(4, "operator activity, kept mutes, room callbacks once", _V4_ACTIVITY_MUTES_ONCE),
    Migration(5, "a finer sample of the searched text, for search plans", _V5_SEARCH_STATISTICS),
    Migration(6, "operators last seen, recordings with their rules", _V6_LAST_SEEN_RECORDINGS),
)
LATEST = MIGRATIONS[-1].version

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


def schema_version(connection: psycopg.Connection) -> int:
    """The version of the database's schema; 0 for an empty database."""
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = connection.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0) if row else 0


def check_schema(connection: psycopg.Connection) -> int:
    """The schema version, or SchemaError when this program cannot serve it."""
    version = schema_version(connection)
    if version > LATEST:
        raise SchemaError(
            f"The database schema is version {version}, newer than this Switchboard knows "
            f"({LATEST}). Upgrade Switchboard before serving from this database."
        )
    if version < LATEST:
        raise SchemaError(
            f"The database schema is version {version}; this Switchboard needs {LATEST}. "
            "Run `switchboard server migrate` first."
        )
    return version


def migrate(
    connection: psycopg.Connection,
    target: int = LATEST,
    progress: Callable[[str], object] = log.info,
) -> list[int]:
    """Bring the schema up to target, each step in its own transaction; the versions applied."""
    if target > LATEST:
        raise SchemaError(f"There is no schema version {target}; the latest is {LATEST}.")
    applied: list[int] = []
    for step in MIGRATIONS:
        if step.version > target:
            break
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            connection.execute(_VERSION_TABLE)
            current = schema_version(connection)
            if current > LATEST:
                raise SchemaError(
                    f"The database schema is version {current}, newer than this Switchboard "
                    f"knows ({LATEST}); nothing was changed."
                )
            if current >= step.version:
                continue
            progress(f"Migrating the database to version {step.version}: {step.summary}")
            connection.execute(step.sql)
            connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (step.version,))
            applied.append(step.version)
    return applied
