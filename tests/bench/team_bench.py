"""The team server's figures: stored callbacks, event fan-out, the claim race, history search,
and the console in team mode (tests/bench/team_console_bench.py).

Two `switchboard server` processes on one throwaway PostgreSQL, beside `switchboard webhook`
(no team store; its own SQLite history) with two workers, in the same run.
"""

from __future__ import annotations

import hashlib
import http.client
import itertools
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import requests

from console.core.calls.history import CallHistory
from server import operators
from server.call_store import PostgresHistory
from server.database import Database, connect_once
from server.local_postgres import LocalPostgres
from server.migrations import migrate
from tests.bench import team_console_bench
from tests.bench.results import Figure
from tests.bench.webhook_bench import free_port, wait_listening
from tests.helpers.event_stream import EventStreamReader
from tests.helpers.signing import twilio_signature

ACCOUNT = "AC" + "b" * 32
TOKEN = "e" * 32
CLIENTS = 16
CALLBACK_ROUNDS = 5  # stored-callback rounds, each beside a webhook round
STREAMS = 50
FANOUT_EVENTS = 100
RACES, RACERS = 100, 20
HISTORY_ROWS = 1_000_000


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- stored callbacks ------------------------------------------------------------------------


def _callbacks(port: int, client: int, run: int, seconds: float, ready, out) -> None:
    """One client: signed status callbacks of new calls, one after another, for `seconds`
    (the SIDs name the run and the client: no run repeats another's callbacks)."""
    url = f"http://127.0.0.1:{port}/voice/status"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = errors = 0
    ready.wait()  # every client has started (imports done): they all begin together
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        fields = {"CallSid": f"CA{run:04x}{client:04x}{done:024x}", "CallStatus": "ringing",
                  "SequenceNumber": "1", "AccountSid": ACCOUNT}  # fmt: skip
        body = urlencode(fields)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(TOKEN, url, fields),
        }
        try:
            connection.request("POST", "/voice/status", body, headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status != 204:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done += 1
    out.put((done, errors))


_RUNS = itertools.count()


def _callback_rate(port: int, seconds: float) -> tuple[float, int]:
    """Callbacks per second from CLIENTS processes over `seconds`, and the errors among them.

    The clients start together once all of them are up: 16 interpreters importing on two
    cores take longer than a round, and would otherwise eat into the time they measure.
    """
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    ready = context.Barrier(CLIENTS + 1)
    run = next(_RUNS)
    workers = [
        context.Process(target=_callbacks, args=(port, n, run, seconds, ready, out))
        for n in range(CLIENTS)
    ]
    for worker in workers:
        worker.start()
    ready.wait(timeout=120)
    results = [out.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join(10)
    return sum(done for done, _ in results) / seconds, sum(e for _, e in results)


def _start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_listening(port, timeout=60)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the workers are up when /health answers
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=2).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{command} did not start")


# -- fan-out and claims ----------------------------------------------------------------------


def _fanout(port: int, database_url: str) -> list[float]:
    """Latency (ms) from sending a callback to the last of STREAMS streams seeing its event."""
    with connect_once(database_url) as connection:
        tokens = [operators.add(connection, ACCOUNT, f"viewer{n}")[1] for n in range(STREAMS)]
    url = f"http://127.0.0.1:{port}/team/v1/events"
    arrivals: dict[str, list[float]] = {}
    lock = threading.Lock()
    readers = [EventStreamReader(url, token, timeout=60) for token in tokens]
    stop = threading.Event()

    def collect(reader: EventStreamReader) -> None:
        while not stop.is_set():
            event = reader.events.get()
            if event is None:
                return
            if event.kind == "call.status":
                with lock:
                    arrivals.setdefault(event.data["data"]["sid"], []).append(time.perf_counter())

    threads = [threading.Thread(target=collect, args=(r,), daemon=True) for r in readers]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # every stream is open
    callback_url = f"http://127.0.0.1:{port}/voice/status"
    sent: dict[str, float] = {}
    session = requests.Session()
    for number in range(FANOUT_EVENTS):
        fields = {"CallSid": f"CAfa{number:030x}", "CallStatus": "ringing"}
        signature = twilio_signature(TOKEN, callback_url, fields)
        sent[fields["CallSid"]] = time.perf_counter()
        session.post(callback_url, data=fields, headers={"X-Twilio-Signature": signature})
        time.sleep(0.05)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if all(len(arrivals.get(sid, [])) >= STREAMS for sid in sent):
                break
        time.sleep(0.05)
    stop.set()
    for reader in readers:
        reader.close()
    return [
        (max(arrivals[sid]) - at) * 1000 if len(arrivals.get(sid, [])) >= STREAMS else 10_000.0
        for sid, at in sent.items()
    ]


def _claim_races(port: int, database_url: str) -> int:
    """Rounds (of RACES) in which exactly one of RACERS operators won the caller."""
    with connect_once(database_url) as connection:
        tokens = [operators.add(connection, ACCOUNT, f"racer{n}")[1] for n in range(RACERS)]
    sessions = [requests.Session() for _ in tokens]
    for session, token in zip(sessions, tokens, strict=True):
        session.headers["Authorization"] = f"Bearer {token}"
    single = 0
    with ThreadPoolExecutor(RACERS) as pool:
        for race in range(RACES):
            sid = f"CArace{race:028x}"
            with connect_once(database_url) as connection:
                connection.execute(
                    "INSERT INTO waiting (account, call_sid, since) VALUES (%s, %s, now())",
                    (ACCOUNT, sid),
                )
            barrier = threading.Barrier(RACERS)

            def claim(session: requests.Session, sid: str = sid, barrier=barrier) -> int:
                barrier.wait()
                url = f"http://127.0.0.1:{port}/team/v1/waiting/{sid}/claim"
                return session.post(url, timeout=30).status_code

            codes = list(pool.map(claim, sessions))
            single += codes.count(200) == 1 and codes.count(409) == RACERS - 1
    return single


# -- history search --------------------------------------------------------------------------

STATUSES = ["completed"] * 14 + ["busy", "busy", "no-answer", "no-answer", "failed", "canceled"]


def _rows(count: int):
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(count):
        outbound = rng.random() < 0.6
        number = f"+1555{rng.randrange(10**7):07d}"
        desk = "+15005550006"
        status = rng.choice(STATUSES)
        yield (
            "CA" + hashlib.md5(str(n).encode()).hexdigest(),  # as random-looking as Twilio's
            "outbound-api" if outbound else "inbound",
            desk if outbound else number,
            number if outbound else desk,
            f"Room {rng.randrange(500)}",
            f"user{rng.randrange(5000)}",
            (start + timedelta(seconds=n * 31)).isoformat(),
            status,
            status,
            "31200" if status == "failed" else "",
            "Call failed to connect" if status == "failed" else "",
        )


_COLUMNS = 'sid, direction, from_, "to", room, identity, created_at, status, final_status, '
_COLUMNS += "error_code, error_message"


def _fill_sqlite(path: Path) -> None:
    CallHistory(path).close()  # the schema, with its search index
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA synchronous=OFF")
    marks = ", ".join("?" * 11)
    with raw:
        raw.executemany(f"INSERT INTO calls ({_COLUMNS}) VALUES ({marks})", _rows(HISTORY_ROWS))
    raw.execute("ANALYZE")
    raw.close()


def _fill_postgres(url: str) -> None:
    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY calls (account, {_COLUMNS}) FROM STDIN") as copy:
            for row in _rows(HISTORY_ROWS):
                copy.write_row((ACCOUNT, *row))
        connection.commit()
        connection.execute("ANALYZE calls")


QUERIES = [
    {"text": "5550123"},
    {"text": "Room 123"},
    {"text": "user4242"},
    {"text": hashlib.md5(b"4242").hexdigest()[:12]},  # part of one call's SID
    {"status": "failed"},
    {"status": ["busy", "no-answer"]},
    {"direction": "inbound", "text": "555012"},
    {"text": "failed to connect"},
]


def _search_p95(store) -> tuple[float, float]:
    """The searches' p95 once the store is warm, and the slowest search of the first pass.

    The first pass reads from disk what the machine evicted meanwhile (this one hands idle
    page cache back to its host, a few hundred MB a minute, and the other store's fill takes
    more than a minute): that is the disk's speed, shown beside the figure, not the index's.
    """

    def timed(query: dict) -> float:
        began = time.perf_counter()
        store.search(**query)
        return (time.perf_counter() - began) * 1000

    cold = [timed(query) for query in QUERIES]
    timings = [timed(query) for _ in range(6) for query in QUERIES]
    return _percentile(timings, 0.95), max(cold)


# -- the run ---------------------------------------------------------------------------------


def run(seconds: float = 3.0) -> list[Figure]:
    """Every team figure; PostgreSQL and the servers are started and stopped here."""
    figures: list[Figure] = []
    with LocalPostgres() as postgres, tempfile.TemporaryDirectory() as scratch:
        database_url = postgres.create_database("bench")
        with connect_once(database_url) as connection:
            migrate(connection)
        env = {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN,
               "SWITCHBOARD_TWILIO_URL": "http://127.0.0.1:9"}  # fmt: skip
        team_port, hook_port = free_port(), free_port()
        team_env = {**env, "SWITCHBOARD_DATABASE_URL": database_url}  # not in argv, for `ps`
        team_cmd = [sys.executable, "-m", "console", "server", "--port", str(team_port),
                    "--workers", "2", "--spool", scratch]  # fmt: skip
        hook_cmd = [sys.executable, "-m", "console", "webhook", "--port", str(hook_port),
                    "--workers", "2"]  # fmt: skip
        processes = [_start(team_cmd, team_port, team_env), _start(hook_cmd, hook_port, env)]
        try:
            _callback_rate(team_port, 1.0)  # warm up both
            _callback_rate(hook_port, 1.0)
            team_rates, hook_rates, errors = [], [], 0
            for _ in range(CALLBACK_ROUNDS):  # alternating, so each pair saw the same load
                rate, failed = _callback_rate(team_port, seconds)
                team_rates.append(rate)
                errors += failed
                hook_rates.append(_callback_rate(hook_port, seconds)[0])
            team_rps, hook_rps = statistics.median(team_rates), statistics.median(hook_rates)
            ratios = [t / h for t, h in zip(team_rates, hook_rates, strict=True)]
            ratio = statistics.median(ratios)
            figures.append(Figure(
                "team: signed callbacks stored, 16 clients, 2 processes", team_rps, "req/s",
                hook_rps, ">= 0.7x switchboard webhook (no team store)",
                ratio >= 0.7 and errors == 0,
                f"median of {CALLBACK_ROUNDS} paired ratios {ratio:.2f}x "
                f"({', '.join(f'{r:.2f}' for r in ratios)}); {errors} errors",
            ))  # fmt: skip
            fanout = _fanout(team_port, database_url)
            p99 = _percentile(fanout, 0.99)
            figures.append(Figure(
                f"team: callback to all {STREAMS} streams, p99", p99, "ms", None, "<= 100 ms",
                p99 <= 100, f"median {statistics.median(fanout):.1f} ms",
            ))  # fmt: skip
            single = _claim_races(team_port, database_url)
            figures.append(Figure(
                f"team: claim race, {RACERS} operators, rounds with one winner", single,
                f"of {RACES}", None, f"{RACES} of {RACES}", single == RACES,
            ))  # fmt: skip
        finally:
            for process in processes:
                process.terminate()
                process.wait(15)
        figures += team_console_bench.run(postgres.create_database("consoles"))
        history_url = postgres.create_database("history")
        with connect_once(history_url) as connection:
            migrate(connection)
        began = time.monotonic()
        _fill_postgres(history_url)
        pg_fill = time.monotonic() - began
        began = time.monotonic()
        path = Path(scratch) / "history.sqlite3"
        _fill_sqlite(path)
        sqlite_fill = time.monotonic() - began
        with Database(history_url) as database:
            pg_p95, pg_cold = _search_p95(PostgresHistory(database, ACCOUNT))
        with CallHistory(path) as history:
            sqlite_p95, sqlite_cold = _search_p95(history)
        figures.append(Figure(
            "history search, 1,000,000 calls, SQLite p95", sqlite_p95, "ms", None, "<= 50 ms",
            sqlite_p95 <= 50,
            f"filled in {sqlite_fill:.0f} s; first (cold) pass up to {sqlite_cold:.0f} ms",
        ))  # fmt: skip
        figures.append(Figure(
            "history search, 1,000,000 calls, PostgreSQL p95", pg_p95, "ms", None, "<= 50 ms",
            pg_p95 <= 50,
            f"filled (COPY + indexes) in {pg_fill:.0f} s; first (cold) pass up to {pg_cold:.0f} ms",
        ))  # fmt: skip
    return figures
