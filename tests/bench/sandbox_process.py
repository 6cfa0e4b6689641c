"""Starts tests/bench/seeded_sandbox.py as its own process and hands back a client for it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RemoteSandbox:
    """Where the sandbox process answers, and its account's credentials."""

    url: str
    account_sid: str
    auth_token: str


@contextmanager
def seeded_sandbox(
    rooms: int = 0, people: int = 0, latency: float = 0.0, ring_delay: float = 0.0
) -> Iterator[RemoteSandbox]:
    """A sandbox process with rooms of video participants and latency on every request."""
    command = [
        sys.executable,
        "-m",
        "tests.bench.seeded_sandbox",
        f"--rooms={rooms}",
        f"--people={people}",
        f"--latency={latency}",
        f"--ring-delay={ring_delay}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        words = process.stdout.readline().split()
        if not words or words[0] != "ready":
            raise RuntimeError("the seeded sandbox did not start")
        yield RemoteSandbox(*words[1:4])
    finally:
        process.terminate()
        process.wait(10)
