"""`switchboard team-demo --no-console` as a real command: a working team, then nothing left."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import pytest
import requests

from console.core.gateways.team_gateway import TeamGateway
from server.local_postgres import PostgresMissing, find_bin_dir
from tests.helpers import wait_until
from tests.helpers.processes import RunningCommand
from tests.server.conftest import _unavailable


def _descendants(pid: int) -> set[int]:
    """Every process started under pid, read from /proc (threads' children included)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found |= {child, *_descendants(child)}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_the_demo_serves_two_operators_and_leaves_nothing_behind():
    try:
        find_bin_dir()
    except PostgresMissing as error:
        _unavailable(str(error))
    demo = RunningCommand("team-demo", "--no-console", env={"SWITCHBOARD_DATABASE_URL": ""})
    try:
        root = Path(demo.wait_for_line(r"PostgreSQL data: (\S+)", timeout=90)[1])
        server = demo.wait_for_line(r"Team server: (http://\S+)", timeout=90)[1]
        tokens = {}
        for _ in range(2):
            line = demo.wait_for_line(r"(\w+)'s console: .*SWITCHBOARD_TOKEN=(\S+)", timeout=10)
            tokens[line[1]] = line[2]
        ring = shlex.split(demo.wait_for_line(r"^\s+curl ", timeout=10).string)
        demo.wait_for_line("Press Ctrl-C", timeout=10)
        assert any("throwaway demo tokens" in line for line in demo.lines)

        for name, token in tokens.items():
            me = requests.get(
                f"{server}/team/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            assert me.json()["operator"] == name
        ada = TeamGateway(server, tokens["ada"])
        number = ada.list_numbers()[0].number
        call = ada.dial("+15551234567", number, "Demo", "caller")
        assert call.sid.startswith("CA")

        def joined() -> bool:
            room = ada.find_room("Demo")
            return room is not None and any(
                p.identity == "caller" for p in ada.list_participants(room.sid)
            )

        wait_until(joined, timeout=30, interval=0.2)
        ada.close()

        # The printed curl command rings the team: the caller waits for an operator.
        login = tuple(ring[ring.index("-u") + 1].split(":"))  # the sandbox's test credentials
        form = dict(ring[n + 1].split("=", 1) for n, w in enumerate(ring) if w.startswith("--"))
        rang = requests.post(ring[-1], auth=login, data=form, timeout=10)
        assert rang.ok, rang.text
        grace = {"Authorization": f"Bearer {tokens['grace']}"}
        waiting = wait_until(
            lambda: requests.get(f"{server}/team/v1/waiting", headers=grace, timeout=10).json()[
                "waiting"
            ],
            timeout=20,
            interval=0.2,
        )
        assert waiting[0]["call_sid"] == rang.json()["sid"]

        started = _descendants(demo.process.pid)
        assert len(started) >= 4  # the sandbox, the server and its two workers
        postmaster = int((root / "data" / "postmaster.pid").read_text().split()[0])
        assert _alive(postmaster)
    finally:
        status = demo.terminate(timeout=60)
    assert status == 0, demo.lines
    wait_until(lambda: not any(_alive(pid) for pid in started), timeout=10, interval=0.1)
    wait_until(lambda: not _alive(postmaster), timeout=10, interval=0.1)
    assert not root.exists()


@pytest.mark.slow
def test_sigterm_while_starting_stops_what_had_started():
    try:
        find_bin_dir()
    except PostgresMissing as error:
        _unavailable(str(error))
    demo = RunningCommand("team-demo", "--no-console", env={"SWITCHBOARD_DATABASE_URL": ""})
    demo.wait_for_line(r"Starting PostgreSQL", timeout=30)  # the sandbox is starting
    started = _descendants(demo.process.pid)
    demo.process.send_signal(signal.SIGTERM)
    assert demo.process.wait(60) == 0
    with pytest.raises(AssertionError, match="process ended"):
        demo.wait_for_line("never printed", timeout=10)  # reads the rest of what it printed
    assert not any("ready" in line for line in demo.lines)
    assert "Team demo stopped: everything it started is gone." in demo.lines
    wait_until(lambda: not any(_alive(pid) for pid in started), timeout=10, interval=0.1)
