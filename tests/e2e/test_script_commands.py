"""`switchboard dial`, `rooms` and `history` as real processes against `sandbox` and `webhook`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.helpers.command_stack import SID, TOKEN, Finished, Stack, base_env, running_stack


@pytest.fixture
def stack(user_dirs) -> Iterator[Stack]:
    with running_stack(user_dirs) as running:
        yield running


def test_dial_wait_then_rooms_and_history_show_the_call(stack: Stack):
    dial = stack.run("dial", "+15551234567", "--room", "R", "--identity", "bob", "--wait")
    assert dial.status == 0, dial.err
    assert dial.err == ""
    sid = dial.out.split(": ")[1].split()[0]
    assert sid.startswith("CA")
    assert f"bob joined R ({sid})" in dial.out

    rooms = stack.run("rooms", "--json")
    assert rooms.status == 0, rooms.err
    (room,) = json.loads(rooms.out)
    assert (room["name"], room["type"]) == ("R", "group")
    assert room["sid"].startswith("RM")
    (bob,) = room["participants"]
    assert (bob["identity"], bob["status"]) == ("bob", "connected")
    assert bob["sid"].startswith("PA")

    history = stack.run("history", "--csv")
    assert history.status == 0, history.err
    rows = list(csv.DictReader(io.StringIO(history.out)))
    (call,) = rows
    assert (call["sid"], call["to"], call["from"]) == (sid, "+15551234567", "+15005550006")
    assert (call["room"], call["identity"], call["direction"]) == ("R", "bob", "outbound-api")
    assert call["status"] == "in-progress"
    assert (stack.data_dir / "switchboard" / "history.sqlite3").is_file()

    table = stack.run("rooms")
    assert "bob  connected" in table.out
    assert "+15551234567" in stack.run("history", "--limit", "1").out


def test_dial_failures_are_one_line_with_an_exit_status(stack: Stack):
    busy = stack.run("dial", "+15005550002", "--room", "R", "--identity", "carol", "--wait")
    assert busy.status == 1
    assert "ended busy without joining R" in busy.error_line

    refused = stack.run("dial", "+15005550001", "--room", "R", "--identity", "dan")
    assert refused.status == 1
    assert "21211" in refused.error_line

    typo = stack.run("dial", "555-12", "--room", "R")
    assert typo.status == 2
    assert typo.error_line.startswith("switchboard dial: number: ")

    first = stack.run("dial", "sip:erin@example.com", "--room", "R", "--identity", "erin", "--wait")
    assert first.status == 0, first.err
    again = stack.run("dial", "+15551230000", "--room", "R", "--identity", "erin")
    assert again.status == 2
    assert "erin is already in room R" in again.error_line and "erin-2" in again.error_line

    bad_from = stack.run("dial", "+15551230001", "--room", "R", "--from", "+15551119999")
    assert bad_from.status == 1
    assert "21210" in bad_from.error_line

    history = stack.run("history", "--csv")
    statuses = {row["to"]: row["status"] for row in csv.DictReader(io.StringIO(history.out))}
    assert statuses == {"+15005550002": "busy", "sip:erin@example.com": "in-progress"}


def test_usage_and_configuration_errors(user_dirs):
    env = base_env(user_dirs)

    def run(*args: str, **extra: str) -> Finished:
        done = subprocess.run(
            [sys.executable, "-m", "console", *args],
            capture_output=True,
            text=True,
            env={**env, **extra},
            timeout=60,
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    nothing = run("rooms")
    assert nothing.status == 2
    assert "no Twilio credentials" in nothing.error_line

    offline = run(
        "rooms",
        TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN,
        SWITCHBOARD_TWILIO_URL="http://127.0.0.1:9",
    )
    assert offline.status == 1
    assert "Could not reach Twilio at 127.0.0.1:9" in offline.error_line

    empty = run("history")
    assert (empty.status, empty.out.strip()) == (0, "No calls yet.")
    assert run("history", "--limit", "0").status == 2

    path = user_dirs.data / "switchboard" / "history.sqlite3"
    path.write_bytes(b"not a database\n" * 100)
    broken = run("history", "--csv")
    assert broken.status == 1
    assert str(path) in broken.error_line
    assert path.read_bytes() == b"not a database\n" * 100
