"""`switchboard self-test` as a real process: every step passes, or the first failure is named."""

from __future__ import annotations

import re
import socket

from tests.helpers.processes import RunningCommand

STEPS = (
    "assets found",
    "dial request checked",
    "sandbox and webhook started on loopback",
    "webhook health check",
    "room created",
    "call placed",
    "participant seen in the room",
    "status callback received",
    "call hung up",
    "room ended",
    "everything stopped",
)


def private_env(user_dirs) -> dict[str, str]:
    """HOME and the XDG dirs in the test's tmp dir, so anything written there shows."""
    return {
        "HOME": str(user_dirs.root),
        "XDG_CONFIG_HOME": str(user_dirs.config),
        "XDG_DATA_HOME": str(user_dirs.data),
    }


def files_under(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def ports_in(line: str) -> list[int]:
    return [int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", line)]


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_self_test_passes_every_step_and_exits_zero(user_dirs):
    before = files_under(user_dirs.root)
    command = RunningCommand("self-test", env=private_env(user_dirs))
    try:
        for step in STEPS:
            command.wait_for_line(rf"^\[(ok|FAIL)\] {re.escape(step)}: ")
            assert command.lines[-1].startswith("[ok] "), command.lines
        command.wait_for_line(r"^Self-test passed in \d+\.\d s$")
        status = command.process.wait(20)
    finally:
        command.process.kill()
    assert status == 0, command.lines
    assert not any(line.startswith("[FAIL]") for line in command.lines)
    steps = [line for line in command.lines if line.startswith("[ok] ")]
    assert [line[5:].split(":")[0] for line in steps] == list(STEPS)
    assert "+15551234567 as self-test" in steps[STEPS.index("call placed")]
    assert "initiated" in steps[STEPS.index("status callback received")]
    started = steps[STEPS.index("sandbox and webhook started on loopback")]
    assert len(ports_in(started)) == 2
    assert all(refuses_connections(port) for port in ports_in(started))
    assert files_under(user_dirs.root) == before, "self-test wrote settings or secrets"


def test_a_step_that_times_out_fails_the_run_and_still_stops_the_servers(user_dirs):
    # the sandbox rings for 0.2 s, so nobody can have joined the room 0.01 s after the dial
    command = RunningCommand("self-test", "--timeout", "0.01", env=private_env(user_dirs))
    try:
        started = command.wait_for_line(r"^\[ok\] sandbox and webhook started on loopback: ")
        failed = command.wait_for_line(r"^\[FAIL\] (.+?): (.+)$")
        command.wait_for_line(r"^Self-test FAILED$")
        status = command.process.wait(20)
    finally:
        command.process.kill()
    assert status == 1
    assert failed.group(1) == "participant seen in the room"
    reason = r"no participant 'self-test' in SelfTest-[0-9a-f]{8} within 0\.01 s"
    assert re.fullmatch(reason, failed.group(2)), failed.group(2)
    assert not any(line.startswith("[ok] status callback") for line in command.lines)
    ports = ports_in(started.string)
    assert len(ports) == 2
    assert all(refuses_connections(port) for port in ports)
