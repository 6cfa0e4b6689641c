"""`switchboard dial` never places a call it cannot record, and never leaves one unreported."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from console.core.gateways.twilio_http import make_client
from tests.helpers import wait_until
from tests.helpers.command_stack import SID, TOKEN, Finished, Stack, running_stack
from tests.helpers.processes import RunningCommand

# Root ignores file permissions; without the DAC capabilities it meets them as any user does.
AS_A_USER = (
    ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
    if os.geteuid() == 0
    else []
)


@pytest.fixture
def stack(user_dirs) -> Iterator[Stack]:
    with running_stack(user_dirs) as running:
        yield running


def calls_placed(stack: Stack) -> list[str]:
    """The SIDs of every call the sandbox was asked to place, read with the twilio SDK."""
    client = make_client(SID, TOKEN, base_url=stack.sandbox_url)
    return [call.sid for call in client.calls.list()]


def history_path(stack: Stack) -> Path:
    return stack.data_dir / "switchboard" / "history.sqlite3"


def run_as_user(stack: Stack, *args: str) -> Finished:
    done = subprocess.run(
        [*AS_A_USER, sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        env=stack.env,
        timeout=120,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def history(stack: Stack) -> Path:
    """A history with one call in it, made by the command itself."""
    first = stack.run("dial", "+15551234567", "--room", "R", "--identity", "ann", "--wait")
    assert first.status == 0, first.err
    return history_path(stack)


@pytest.fixture
def locked(history: Path) -> Iterator[None]:
    holder = RunningCommand(
        "-c",
        "import sqlite3, sys, time\n"
        f"db = sqlite3.connect({str(history)!r}, isolation_level=None)\n"
        "db.execute('BEGIN EXCLUSIVE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(120)\n",
        program=(sys.executable,),
    )
    try:
        holder.wait_for_line("locked")
        yield
    finally:
        holder.terminate()


def read_only_file(history: Path) -> None:
    for path in history.parent.glob("history.sqlite3*"):
        path.chmod(stat.S_IRUSR)


def read_only_folder(history: Path) -> None:
    history.parent.chmod(stat.S_IRUSR | stat.S_IXUSR)


def corrupt_pages(history: Path) -> None:
    with sqlite3.connect(history) as db:  # fold the WAL in, so the damage is in the file
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with history.open("r+b") as file:
        file.seek(4096)  # page 2 onwards: the tables, their indexes and their rows
        file.write(b"\xa5" * 8192)


def missing_table(history: Path) -> None:
    with sqlite3.connect(history) as db:
        db.execute("DROP TABLE call_statuses")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (read_only_file, "is read-only"),
        (read_only_folder, "is read-only"),
        (corrupt_pages, "malformed"),
        (missing_table, "no such table"),
    ],
    ids=["read-only file", "read-only folder", "corrupt pages", "missing table"],
)
def test_a_broken_history_stops_the_dial_before_the_call(
    stack: Stack, history: Path, damage: Callable[[Path], None], words: str
):
    before = calls_placed(stack)
    damage(history)
    try:
        dial = run_as_user(stack, "dial", "+15551230001", "--room", "R", "--wait")
    finally:
        history.parent.chmod(stat.S_IRWXU)
    assert dial.status == 1
    assert words in dial.error_line
    assert "history" in dial.error_line
    assert calls_placed(stack) == before  # nothing was dialed


@pytest.mark.slow
def test_a_locked_history_stops_the_dial_before_the_call(stack: Stack, history: Path, locked):
    before = calls_placed(stack)
    dial = stack.run("dial", "+15551230001", "--room", "R", "--wait")
    assert dial.status == 1
    assert "locked" in dial.error_line
    assert calls_placed(stack) == before


@pytest.mark.slow
def test_a_history_that_breaks_after_the_call_still_waits_and_reports(stack: Stack):
    """The file turns read-only between the check and the first write: the call is still seen
    through to its outcome, exit 0 because it joined, and the history problem is said."""
    path = history_path(stack)
    path.parent.mkdir(parents=True, exist_ok=True)
    breaker = (
        "import os, sys, runpy\n"
        "from console.core.calls import history\n"
        "checked = history.CallHistory.check_writable\n"
        "def check_then_break(self):\n"
        "    checked(self)\n"
        "    self._db.execute('PRAGMA query_only=ON')\n"
        "history.CallHistory.check_writable = check_then_break\n"
        "sys.argv = ['switchboard', *sys.argv[1:]]\n"
        "runpy.run_module('console', run_name='__main__')\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            breaker,
            "dial",
            "+15551234567",
            "--room",
            "R",
            "--identity",
            "bea",
            "--wait",
        ],
        capture_output=True,
        text=True,
        env=stack.env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "bea joined R" in done.stdout
    assert "could not be written" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(calls_placed(stack)) == 1


@pytest.mark.slow
def test_a_history_with_an_unknown_column_still_lists_and_records(stack: Stack, history: Path):
    with sqlite3.connect(history) as db:
        db.execute("ALTER TABLE calls ADD COLUMN notes TEXT DEFAULT 'from a newer console'")
    listing = stack.run("history", "--csv")
    assert listing.status == 0, listing.err
    assert "+15551234567" in listing.out
    dial = stack.run("dial", "+15551230002", "--room", "R", "--identity", "cy", "--wait")
    assert dial.status == 0, dial.err
    assert "+15551230002" in stack.run("history").out


@pytest.mark.slow
def test_the_history_file_and_its_journal_are_private(stack: Stack, history: Path):
    for path in history.parent.glob("history.sqlite3*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(history.parent.stat().st_mode) == 0o700


@pytest.mark.slow
def test_dial_refuses_when_the_webhook_does_not_answer(stack: Stack):
    dial = stack.run(
        "dial", "+15551234567", "--room", "NoHook", "--webhook-url", "http://127.0.0.1:9"
    )
    assert dial.status == 1
    assert "not dialing: the webhook does not answer at http://127.0.0.1:9" in dial.error_line
    assert "11200" in dial.error_line
    assert calls_placed(stack) == []


@pytest.mark.slow
def test_dial_without_wait_says_where_the_final_status_goes(stack: Stack):
    dial = stack.run("dial", "+15551234567", "--room", "R", "--identity", "dee")
    assert dial.status == 0, dial.err
    assert f"{stack.webhook_url}/voice/status" in dial.out
    assert str(history_path(stack)) in dial.out


@pytest.mark.slow
def test_the_standalone_webhook_records_the_final_status_of_a_call_dialed_without_wait(
    stack: Stack,
):
    """`dial` returns at once; `switchboard webhook` gets the callbacks and records them."""
    dial = stack.run("dial", "+15005550002", "--room", "R", "--identity", "bo")  # busy
    assert dial.status == 0, dial.err
    sid = dial.out.split(": ")[1].split()[0]

    def recorded_busy() -> str:  # another process writes it: read again until it has
        rows = stack.run("history", "--csv").out.splitlines()
        return next((row for row in rows if row.startswith(sid) and ",busy," in row), "")

    assert ",busy," in wait_until(recorded_busy, timeout=30, interval=0.2)


@pytest.fixture
def broken_webhook() -> Iterator[str]:
    """A webhook that passes the health check but answers every call with a 500."""
    app = Flask("broken")

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", nonce=request.args.get("nonce", ""))

    @app.post("/voice/<path:rest>")
    def voice(rest: str) -> Response:
        return Response("boom", status=500)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.mark.slow
def test_a_failed_call_says_twilios_error_code_and_message(stack: Stack, broken_webhook: str):
    dial = stack.run(
        "dial", "+15551234567", "--room", "R", "--webhook-url", broken_webhook, "--wait"
    )
    assert dial.status == 1
    assert "without joining R (error 11200: " in dial.error_line
    sid = dial.out.split(": ")[1].split()[0]
    history = stack.run("history", "--csv").out
    (row,) = [line for line in history.splitlines() if line.startswith(sid)]
    assert ",11200," in row
