"""`switchboard sandbox` and `webhook` as real processes, and commands run against them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

from console.core.preferences import Preferences
from tests.helpers.processes import RunningCommand

SID = "AC" + "cd" * 16
TOKEN = "fedcba9876543210" * 2


@dataclass
class Finished:
    """What a finished command printed, and how it exited."""

    status: int
    out: str
    err: str

    @property
    def error_line(self) -> str:
        """The one line the command wrote to stderr (asserting there is exactly one)."""
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        assert "Traceback" not in self.err
        return lines[0]


@dataclass
class Stack:
    """`switchboard sandbox` and `switchboard webhook` running, and how to run commands."""

    env: dict[str, str]
    sandbox_url: str
    webhook_url: str
    data_dir: Path

    def run(self, *args: str, **extra_env: str) -> Finished:
        done = subprocess.run(
            [sys.executable, "-m", "console", *args],
            capture_output=True,
            text=True,
            env={**self.env, **extra_env},
            timeout=120,
        )
        return Finished(done.returncode, done.stdout, done.stderr)


def base_env(user_dirs) -> dict[str, str]:
    """This test's own config, data and keyring: nothing of the operator's is touched."""
    return {
        **os.environ,
        "XDG_CONFIG_HOME": str(user_dirs.config),
        "XDG_DATA_HOME": str(user_dirs.data),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def save_webhook_port(user_dirs, port: int) -> None:
    """Set the window's webhook port preference, where `switchboard` (native QSettings) reads it."""
    path = user_dirs.config / "Switchboard" / "Switchboard.conf"
    preferences = Preferences(QSettings(str(path), QSettings.Format.IniFormat))
    preferences.webhook_port = port
    preferences.sync()


@contextlib.contextmanager
def running_stack(user_dirs) -> Iterator[Stack]:
    """Start the sandbox and the webhook as commands; the webhook port is saved in Settings."""
    env = base_env(user_dirs) | {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}
    sandbox = RunningCommand("sandbox", "--port", "0", "--ring-delay", "0.2", env=env)
    webhook = RunningCommand("webhook", "--port", "0", env=env)
    try:
        url = sandbox.wait_for_line(r"listening on (http://127\.0\.0\.1:\d+)").group(1)
        hook = webhook.wait_for_line(r"listening on (http://127\.0\.0\.1:(\d+))")
        save_webhook_port(user_dirs, int(hook.group(2)))
        env["SWITCHBOARD_TWILIO_URL"] = url
        yield Stack(env, url, hook.group(1), user_dirs.data)
    finally:
        sandbox.terminate()
        webhook.terminate()
