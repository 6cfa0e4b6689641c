"""Schema migrations: every earlier version upgrades with its rows kept; newer ones are refused."""

from __future__ import annotations

import psycopg
import pytest

from server import status_writes
from server.database import connect_once
from server.migrations import LATEST, MIGRATIONS, SchemaError, check_schema, migrate, schema_version
from tests.server.conftest import ACCOUNT

# Rows a database of each version holds, written with that version's columns only.
SEEDS = {
    1: [
        "INSERT INTO operators (account, name, token_hash) VALUES "
        f"('{ACCOUNT}', 'alice', 'h1'), ('{ACCOUNT}', 'bob', 'h2')",
        'INSERT INTO calls (account, sid, direction, from_, "to", room, identity, created_at, '
        f"status, final_status, duration) VALUES ('{ACCOUNT}', 'CA1', 'outbound-api', "
        "'+15005550006', '+15551230001', 'Standup', 'ann', now(), 'completed', 'completed', 42)",
        "INSERT INTO call_statuses (account, sid, status, at, sequence) VALUES "
        f"('{ACCOUNT}', 'CA1', 'ringing', now(), 1), ('{ACCOUNT}', 'CA1', 'completed', now(), 3)",
        f"INSERT INTO actions (account, operator_id, action) VALUES ('{ACCOUNT}', 1, 'dial')",
    ],
    2: [
        f"INSERT INTO event_log (account, kind, data) VALUES ('{ACCOUNT}', 'call.status', "
        """'{"sid": "CA1"}')""",
        f"INSERT INTO waiting (account, call_sid, from_, since, claimed_by, claimed_at) VALUES "
        f"('{ACCOUNT}', 'CA2', '+15557654321', now(), 2, now())",
        f"INSERT INTO routes (account, version, toml) VALUES ('{ACCOUNT}', 1, '')",
        "INSERT INTO mutes (account, room, identity, muted_by) "
        f"VALUES ('{ACCOUNT}', 'R', 'ann', 1)",
        f"INSERT INTO room_events (account, room_sid, kind) VALUES ('{ACCOUNT}', 'RM1', 'x')",
        f"INSERT INTO event_log_pruned (account, up_to) VALUES ('{ACCOUNT}', 0)",
        "INSERT INTO recordings (account, room_sid, room, started_by) "
        f"VALUES ('{ACCOUNT}', 'RM1', 'Standup', 1)",
        f"INSERT INTO presence (session, account, operator_id) VALUES ('s1', '{ACCOUNT}', 1)",
    ],
    4: [
        "INSERT INTO operator_activity (account, operator, activity, call_sid) "
        f"VALUES ('{ACCOUNT}', 'alice', 'on a call', 'CA1')",
        "INSERT INTO room_events (account, room_sid, kind, callback_key) "
        f"VALUES ('{ACCOUNT}', 'RM2', 'room-ended', 'k1')",
    ],
    6: [
        "INSERT INTO operators (account, name, token_hash, last_seen) "
        f"VALUES ('{ACCOUNT}', 'carol', 'h3', now())",
        "INSERT INTO recordings (account, room_sid, room, started_by, started_at, stopped_at, "
        f"rules, stop_rules, stopped_by) VALUES ('{ACCOUNT}', 'RM2', 'Ops', 1, now(), now(), "
        """'[{"type": "include", "all": true}]', '[{"type": "exclude", "all": true}]', 2)""",
    ],
}


def _snapshot(connection: psycopg.Connection) -> dict[str, set[tuple]]:
    """Every row of every table (schema_version aside), as (column, value) tuples."""
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'schema_version' ORDER BY 1"
        )
    ]
    found: dict[str, set[tuple]] = {}
    for table in tables:
        cursor = connection.execute(f'SELECT * FROM "{table}"')
        names = [column.name for column in cursor.description or ()]
        found[table] = {tuple(zip(names, map(repr, row), strict=True)) for row in cursor.fetchall()}
    return found


def _columns_kept(before: set[tuple], after: set[tuple]) -> set[tuple]:
    """The rows after the upgrade, cut down to the columns that existed before it."""
    if not before:
        return set()
    names = {name for name, _ in next(iter(before))}
    return {tuple(item for item in row if item[0] in names) for row in after}


@pytest.mark.parametrize("start", range(LATEST))
def test_upgrading_from_every_earlier_version_keeps_every_row(empty_database, start):
    with connect_once(empty_database) as connection:
        migrate(connection, target=start)
        assert schema_version(connection) == start
        for version in range(1, start + 1):
            for statement in SEEDS.get(version, []):
                connection.execute(statement)
        before = _snapshot(connection)
        applied = migrate(connection)
        assert applied == list(range(start + 1, LATEST + 1))
        assert check_schema(connection) == LATEST
        after = _snapshot(connection)
    for table, rows in before.items():
        assert _columns_kept(rows, after[table]) == rows, table
    empty = sorted(table for table, rows in before.items() if not rows)
    assert not empty, f"no rows seeded in {empty} at version {start}"


def test_the_latest_schema_takes_every_version_s_seeds(empty_database):
    """The seeds of the latest version are written as a later upgrade test will write them."""
    assert max(SEEDS) == LATEST  # a new version seeds the rows of what it added
    with connect_once(empty_database) as connection:
        migrate(connection)
        for version in sorted(SEEDS):
            for statement in SEEDS[version]:
                assert connection.execute(statement).rowcount >= 1


def test_an_upgrade_closes_all_but_the_newest_open_recording_of_a_room(empty_database):
    with connect_once(empty_database) as connection:
        migrate(connection, target=5)
        for statement in SEEDS[1]:
            connection.execute(statement)
        for age in (3, 2, 1):
            connection.execute(
                "INSERT INTO recordings (account, room_sid, started_at) "
                "VALUES (%s, 'RM1', now() - make_interval(mins => %s))",
                (ACCOUNT, age),
            )
        connection.commit()
        migrate(connection)
        open_ages = connection.execute(
            "SELECT round(extract(epoch FROM now() - started_at) / 60) FROM recordings "
            "WHERE stopped_at IS NULL"
        ).fetchall()
    assert open_ages == [(1,)]


def test_versions_are_consecutive_from_one():
    assert [step.version for step in MIGRATIONS] == list(range(1, LATEST + 1))


def test_migrating_twice_changes_nothing(empty_database):
    with connect_once(empty_database) as connection:
        assert migrate(connection) == list(range(1, LATEST + 1))
        assert migrate(connection) == []


def test_a_database_newer_than_this_program_is_refused(empty_database):
    with connect_once(empty_database) as connection:
        migrate(connection)
        connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST + 1,))
        with pytest.raises(SchemaError, match="newer than this Switchboard"):
            check_schema(connection)
        with pytest.raises(SchemaError, match="nothing was changed"):
            migrate(connection)


def test_an_old_database_asks_for_a_migration(empty_database):
    with connect_once(empty_database) as connection:
        migrate(connection, target=1)
        with pytest.raises(SchemaError, match="switchboard server migrate"):
            check_schema(connection)


def test_text_search_plans_from_a_fine_sample(empty_database):
    """A coarse sample makes the planner misjudge a pattern's matches and walk the history in
    date order; tests/bench/team_bench.py measures the searches on a million calls."""
    with connect_once(empty_database) as connection:
        migrate(connection)
        target = connection.execute(
            "SELECT attstattarget FROM pg_attribute "
            "WHERE attrelid = 'calls_text'::regclass AND attnum = 1"
        ).fetchone()[0]
    assert target == 3000


def _callbacks_read_whole_table(url: str, callbacks: int) -> int:
    """Rows of calls read by scans while `callbacks` status callbacks of new calls are written,
    one transaction each, on one connection (its plans cached as the table grows)."""
    with connect_once(url) as connection:
        connection.execute("ALTER TABLE calls SET (autovacuum_enabled = off)")  # the planner's
        connection.commit()  # judgement alone, not when autovacuum happens to look
    with psycopg.connect(url, autocommit=True) as writer:
        for n in range(callbacks):
            fields = {"CallSid": f"CA{n:032x}", "CallStatus": "ringing", "SequenceNumber": "0"}
            status_writes.write_one(writer, ACCOUNT, {"type": "call_status", "fields": fields})
        writer.execute("SELECT pg_stat_force_next_flush()")  # counted once the session idles
        writer.execute("SELECT 1")
        return writer.execute(
            "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'calls'"
        ).fetchone()[0]


def test_a_new_team_database_finds_each_call_by_its_key_as_it_fills(empty_database):
    """An empty history is not analyzed: analyzed empty, PostgreSQL plans the status function's
    and the foreign key's lookups of a call as scans, and keeps those plans while the table
    grows (until autovacuum analyzes it again), so every callback read every call."""
    with connect_once(empty_database) as connection:
        migrate(connection)
    callbacks = 1500
    read = _callbacks_read_whole_table(empty_database, callbacks)
    assert read < callbacks  # analyzed empty, it was over two million (two scans a callback)


def test_upgrading_a_history_with_calls_analyzes_it(empty_database):
    with connect_once(empty_database) as connection:
        migrate(connection, target=4)
        for statement in SEEDS[1]:
            connection.execute(statement)
        connection.commit()
        migrate(connection)
        rows = connection.execute(
            "SELECT reltuples FROM pg_class WHERE relname = 'calls'"
        ).fetchone()[0]
    assert rows == 1  # the search plans from the 3000-value sample at once
