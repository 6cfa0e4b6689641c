"""A part of `switchboard team-demo` (sandbox, team server, console) as a child process."""

from __future__ import annotations

import contextlib
import queue
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

START_TIMEOUT = 90.0  # seconds a part may take to say it is ready
STOP_TIMEOUT = 15.0  # seconds a part may take to stop after SIGTERM, before SIGKILL


class DemoFailed(RuntimeError):
    """A part of the demo could not start; the message says which and why."""


class DemoStopped(Exception):
    """Ctrl-C or SIGTERM arrived while the demo was starting."""


class Part:
    """A started part of the demo: its output goes to a log file, and its lines can be awaited."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._watching = True
        self.process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C reaches the demo, which stops the parts in order
        )
        assert self.process.stdout is not None
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            for line in stream:
                out.write(line)
                out.flush()
                if self._watching:
                    self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, pattern: str, stop: threading.Event) -> re.Match:
        """The first line matching pattern; DemoFailed when the part ends or takes too long."""
        regex, deadline = re.compile(pattern), time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if stop.is_set():
                raise DemoStopped
            try:
                line = self._lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                raise DemoFailed(f"the {self.name} stopped while starting:\n{self.tail()}")
            if match := regex.search(line):
                return match
        raise DemoFailed(f"the {self.name} did not start in {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def ready(self) -> None:
        """Stop keeping lines to await (the log file still gets them all)."""
        self._watching = False
        with contextlib.suppress(queue.Empty):
            while True:
                self._lines.get_nowait()

    def tail(self, lines: int = 20) -> str:
        """The last lines the part printed."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL when it has not stopped in time."""
        end_process(self.process)


def end_process(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL when the process has not stopped in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)
