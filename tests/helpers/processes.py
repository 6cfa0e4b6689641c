"""Runs `switchboard` subcommands as real processes and reads what they print."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence


class RunningCommand:
    """A switchboard subprocess whose output lines can be awaited."""

    def __init__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        program: Sequence[str] = (sys.executable, "-m", "console"),
        clean_env: bool = False,
    ) -> None:
        """Run program with args; env adds to this process's environment, or is all of it."""
        self.process = subprocess.Popen(
            [*program, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(env or {}) if clean_env else {**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout: float = 20) -> re.Match:
        """Wait until a printed line matches pattern; fail with everything printed so far."""
        regex = re.compile(pattern)
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matched {pattern!r}: {self.lines}") from None
            if line is None:
                raise AssertionError(f"process ended before {pattern!r}: {self.lines}")
            self.lines.append(line)
            if match := regex.search(line):
                return match

    def terminate(self, timeout: float = 10) -> int:
        """Send SIGTERM and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)
