"""`switchboard` as an operator starts it: a real process that opens the window, exits cleanly."""

from __future__ import annotations

import socket
import time

import pytest

from console.commands.cli import build_parser, main, opens_window
from tests.helpers.processes import RunningCommand


def test_no_subcommand_means_the_window():
    assert build_parser().parse_args([]).command is None
    assert build_parser().parse_args(["--sandbox"]).sandbox is True


@pytest.mark.parametrize(
    ("argv", "window"),
    [
        ([], True),
        (["--sandbox", "-v"], True),
        (["--help"], False),
        (["-h"], False),
        (["doctor", "--json"], False),
        (["--sandbox", "rooms"], False),
    ],
)
def test_the_window_skips_the_subcommand_parsers(argv, window):
    assert opens_window(argv) is window
    if window:
        args = build_parser(commands=False).parse_args(argv)
        assert args.command is None and args.sandbox is ("--sandbox" in argv)


def test_help_still_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    listed = capsys.readouterr().out
    for command in ("webhook", "sandbox", "screenshot", "self-test", "doctor", "rooms", "dial"):
        assert command in listed


def test_an_unknown_option_is_refused_without_a_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--no-such-option"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


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
