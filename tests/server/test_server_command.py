"""`switchboard server` as a real command: migrate, operators, workers, kill -9, secrets."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests

from server import operators
from server.database import connect_once
from server.migrations import LATEST
from server.stream_slots import THREADS, limit_for
from tests.helpers import wait_until
from tests.helpers.event_stream import EventStreamReader
from tests.helpers.processes import RunningCommand
from tests.helpers.signing import twilio_signature
from tests.server.conftest import ACCOUNT

AUTH_TOKEN = "f" * 32


def _switchboard(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def _database(url: str) -> dict[str, str]:
    """The database for a command's environment: a URL in argv is there for `ps` to show."""
    return {"SWITCHBOARD_DATABASE_URL": url}


def test_migrate_then_manage_operators_without_showing_the_password(empty_database, postgres):
    database = _database(empty_database)
    migrated = _switchboard("server", "migrate", env=database)
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema version {LATEST}" in migrated.stdout
    assert "***" in migrated.stdout
    added = _switchboard("server", "operator", "add", "alice", "--account", ACCOUNT, env=database)
    assert added.returncode == 0, added.stderr
    token = added.stdout.split()[-1]
    assert token.startswith("sbt_")
    with psycopg.connect(empty_database) as connection:
        stored = connection.execute("SELECT name, token_hash FROM operators").fetchall()
    assert stored[0][0] == "alice" and token not in stored[0][1]
    again = _switchboard("server", "operator", "add", "alice", "--account", ACCOUNT, env=database)
    assert again.returncode == 2 and "already exists" in again.stderr
    env = database | {"TWILIO_ACCOUNT_SID": ACCOUNT}
    revoked = _switchboard("server", "operator", "revoke", "alice", env=env)
    assert revoked.returncode == 0, revoked.stderr
    listed = _switchboard("server", "operator", "list", "--all", "--json", env=env)
    assert '"active": false' in listed.stdout
    for result in (migrated, added, again, revoked, listed):
        assert postgres.password not in result.stdout + result.stderr


def test_a_wrong_password_is_reported_without_it(postgres, database_url):
    wrong = database_url.replace(postgres.password, "NotThePassword123")
    result = _switchboard("server", "migrate", "--database", wrong)  # the option still works
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "NotThePassword123" not in result.stdout + result.stderr


def test_the_server_refuses_a_schema_newer_than_it_knows(database_url):
    with psycopg.connect(database_url) as connection:
        connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (LATEST + 1,))
    env = _database(database_url) | {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    result = _switchboard("server", "--workers", "1", env=env)
    assert result.returncode == 1
    assert "newer than this Switchboard knows" in result.stderr


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(part) for part in text.split()]


def _wait_for_workers(pid: int, url: str, count: int = 2) -> list[int]:
    wait_until(lambda: len(_children(pid)) >= count and _healthy(url), timeout=60, interval=0.1)
    return _children(pid)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).ok
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_kill_9_of_a_worker_loses_no_acknowledged_callback(database_url, postgres, tmp_path):
    env = _database(database_url) | {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_TWILIO_URL": "http://127.0.0.1:9",  # never used: no call is placed
    }
    server = RunningCommand(
        "server", "--workers", "2", "--port", "0", "--spool", str(tmp_path / "spool"), env=env
    )
    try:
        url = server.wait_for_line(r"listening on (http://\S+)", timeout=60)[1]
        server.wait_for_line("Press Ctrl-C", timeout=60)
        acknowledged: list[str] = []
        after_kill: list[str] = []
        killed = threading.Event()

        def callback(number: int) -> None:
            sid = f"CA{number:032x}"
            fields = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "3"}
            signature = twilio_signature(AUTH_TOKEN, f"{url}/voice/status", fields)
            try:
                answer = requests.post(
                    f"{url}/voice/status",
                    data=fields,
                    headers={"X-Twilio-Signature": signature},
                    timeout=10,
                )
            except requests.RequestException:
                return  # not acknowledged: Twilio would not count it as delivered
            if 200 <= answer.status_code < 300:
                acknowledged.append(sid)
                if killed.is_set():
                    after_kill.append(sid)

        workers = _wait_for_workers(server.process.pid, url)
        with ThreadPoolExecutor(8) as pool:
            for number in range(600):
                if number == 200:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.set()
                pool.submit(callback, number)
                time.sleep(0.002)  # paces the callbacks, so the kill lands among them
        assert len(after_kill) > 100  # the other worker (and the replacement) kept answering
        with psycopg.connect(database_url) as connection:
            stored = {row[0] for row in connection.execute("SELECT sid FROM calls")}
        assert set(acknowledged) <= stored
        assert len(acknowledged) >= 500
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(15)
    assert postgres.password not in "\n".join(server.lines)


def _signed(url: str, path: str, fields: dict[str, str]) -> requests.Response:
    signature = twilio_signature(AUTH_TOKEN, f"{url}{path}", fields)
    return requests.post(
        f"{url}{path}", data=fields, headers={"X-Twilio-Signature": signature}, timeout=20
    )


def _completed(number: int) -> dict[str, str]:
    return {"CallSid": f"CA{number:032x}", "CallStatus": "completed", "SequenceNumber": "3"}


@contextlib.contextmanager
def _only(serving: int, paused: int, url: str) -> Iterator[None]:
    """Every request in the block goes to the worker `serving`: the other one is stopped."""
    os.kill(paused, signal.SIGSTOP)
    try:
        wait_until(lambda: _healthy(url), timeout=60, interval=0.1)  # `serving` answers
        yield
    finally:
        os.kill(paused, signal.SIGCONT)


@pytest.mark.slow
def test_a_worker_killed_while_the_database_is_down_is_replaced(database_url, postgres, tmp_path):
    """gunicorn starts a replacement with the database still down: it must boot (a worker that
    fails to would stop them all) and answer Twilio; every acknowledged callback, the dead
    worker's spool included, is written once the database is back."""
    env = _database(database_url) | {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_TWILIO_URL": "http://127.0.0.1:9",
    }
    token = _switchboard("server", "operator", "add", "ann", "--account", ACCOUNT, env=env)
    me = {"Authorization": f"Bearer {token.stdout.split()[-1]}"}
    spool = tmp_path / "spool"
    server = RunningCommand(
        "server", "--workers", "2", "--port", "0", "--spool", str(spool), env=env
    )
    acknowledged: list[str] = []
    try:
        url = server.wait_for_line(r"listening on (http://\S+)", timeout=60)[1]
        server.wait_for_line("Press Ctrl-C", timeout=60)
        first, second = _wait_for_workers(server.process.pid, url)
        postgres.stop()
        try:
            with _only(first, second, url):
                for number in range(5):
                    assert _signed(url, "/voice/status", _completed(number)).status_code == 204
                    acknowledged.append(f"CA{number:032x}")
            os.kill(first, signal.SIGKILL)  # its spool holds those five
            replacement = wait_until(
                lambda: [
                    pid for pid in _children(server.process.pid) if pid not in (first, second)
                ],
                timeout=60,
                interval=0.1,
            )[0]
            number = 5
            for serving, paused in ((replacement, second), (second, replacement)):
                with _only(serving, paused, url):
                    outbound = _signed(
                        url, "/voice/outbound?room=Standup&identity=ann", {"CallSid": "CAo"}
                    )
                    assert outbound.status_code == 200 and "Standup" in outbound.text
                    for _ in range(3):
                        assert _signed(url, "/voice/status", _completed(number)).status_code == 204
                        acknowledged.append(f"CA{number:032x}")
                        number += 1
                    away = requests.get(f"{url}/team/v1/me", headers=me, timeout=30)
                    assert away.status_code == 503 and away.json()["error"]["kind"] == "database"
        finally:
            postgres.start()
        with psycopg.connect(database_url) as connection:

            def stored() -> set[str]:
                return {row[0] for row in connection.execute("SELECT sid FROM calls")}

            wait_until(lambda: set(acknowledged) <= stored(), timeout=60, interval=0.2)
        assert not list(spool.glob(f"spool-{first}-*.jsonl"))  # the dead worker's, replayed
        with _only(replacement, second, url):  # it checked the schema: the team API is back
            back = wait_until(
                lambda: requests.get(f"{url}/team/v1/me", headers=me, timeout=30).ok,
                timeout=60,
                interval=0.2,
            )
            assert back
    finally:
        assert server.terminate(15) == 0
    assert len(acknowledged) == 11
    assert postgres.password not in "\n".join(server.lines)


def test_check_reports_version_and_a_notify_round_trip(database_url, postgres):
    good = _switchboard("server", "check", "--json", env=_database(database_url))
    assert good.returncode == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["reachable"] and report["schema_version"] == LATEST
    assert report["notify_ms"] is not None and report["notify_ms"] < 5000
    empty = postgres.create_database(f"check_{os.getpid()}")
    old = _switchboard("server", "check", env=_database(empty))
    assert old.returncode == 1 and "switchboard server migrate" in old.stdout
    elsewhere = database_url.replace(f":{postgres.port}/", f":{postgres.port + 1}/")
    down = _switchboard("server", "check", env=_database(elsewhere))
    assert down.returncode == 1 and "not reachable" in down.stdout
    for result in (good, old, down):
        assert postgres.password not in result.stdout + result.stderr


def test_one_process_serves_the_team_api_until_sigterm(database_url, postgres, tmp_path):
    env = _database(database_url) | {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_TWILIO_URL": "http://127.0.0.1:9",
    }
    added = _switchboard("server", "operator", "add", "alice", "--account", ACCOUNT, env=env)
    token = added.stdout.split()[-1]
    server = RunningCommand(
        "server", "--workers", "1", "--port", "0", "--spool", str(tmp_path), env=env
    )
    try:
        url = server.wait_for_line(r"listening on (http://\S+)", timeout=60)[1]
        server.wait_for_line("Press Ctrl-C", timeout=30)
        for pid in [server.process.pid, *_children(server.process.pid)]:  # what `ps` shows
            assert postgres.password not in Path(f"/proc/{pid}/cmdline").read_text()
        me = requests.get(
            f"{url}/team/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert me.json()["operator"] == "alice"
        assert requests.get(f"{url}/team/v1/me", timeout=10).status_code == 401
    finally:
        assert server.terminate() == 0
    output = "\n".join(server.lines)
    assert "***" in output and postgres.password not in output


def test_a_worker_full_of_event_streams_still_answers_twilio(database_url, postgres, tmp_path):
    """56 consoles' streams fill a worker's stream slots; the 57th is refused, and Twilio's
    callbacks and the team API are still answered on the 8 threads kept free."""
    env = _database(database_url) | {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "SWITCHBOARD_TWILIO_URL": "http://127.0.0.1:9",
    }
    limit = limit_for(THREADS)
    with connect_once(database_url) as connection:
        tokens = [operators.add(connection, ACCOUNT, f"op{n}")[1] for n in range(limit + 1)]
    server = RunningCommand(
        "server", "--workers", "1", "--port", "0", "--spool", str(tmp_path), env=env
    )
    streams: list[EventStreamReader] = []
    try:
        url = server.wait_for_line(r"listening on (http://\S+)", timeout=60)[1]
        server.wait_for_line("Press Ctrl-C", timeout=30)
        with ThreadPoolExecutor(16) as pool:
            streams = list(
                pool.map(lambda t: EventStreamReader(f"{url}/team/v1/events", t), tokens[:limit])
            )
        assert [stream.status for stream in streams] == [200] * limit
        late = requests.get(
            f"{url}/team/v1/events", headers={"Authorization": f"Bearer {tokens[-1]}"}, timeout=10
        )
        assert late.status_code == 503 and f"{limit} event streams" in late.text
        fields = {"CallSid": "CA" + "5" * 32, "CallStatus": "ringing"}
        signature = twilio_signature(AUTH_TOKEN, f"{url}/voice/status", fields)
        answer = requests.post(
            f"{url}/voice/status", data=fields, headers={"X-Twilio-Signature": signature},
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 204
        me = requests.get(
            f"{url}/team/v1/me", headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=10
        )
        assert me.json()["operator"] == "op0"
    finally:
        with ThreadPoolExecutor(16) as pool:  # each waits for its reader to stop
            list(pool.map(EventStreamReader.close, streams))
        assert server.terminate() == 0
