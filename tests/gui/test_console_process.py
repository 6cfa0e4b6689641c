"""`switchboard` as an operator starts it: a real process that opens the window, exits cleanly."""

from __future__ import annotations

import socket
import time

import pytest

from console.cli import build_parser
from tests.helpers.processes import RunningCommand


def test_no_subcommand_means_the_window():
    assert build_parser().parse_args([]).command is None
    assert build_parser().parse_args(["--sandbox"]).sandbox is True


def test_opens_in_sandbox_mode_and_exits_zero_on_sigterm(user_dirs):
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(user_dirs.config),
        "XDG_DATA_HOME": str(user_dirs.data),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    app = RunningCommand(env=env)
    try:
        ready = app.wait_for_line(
            r"Switchboard ready: (\w+) mode, webhook http://127\.0\.0\.1:(\d+)"
        )
        assert ready.group(1) == "sandbox"
        port = int(ready.group(2))
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the webhook is listening
        started = time.monotonic()
        status = app.terminate(timeout=10)
        print(f"shutdown took {time.monotonic() - started:.2f} s")
    finally:
        app.process.kill()
    assert status == 0, app.lines
    with pytest.raises(OSError):  # the webhook stopped with the console
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
