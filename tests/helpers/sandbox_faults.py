"""The sandbox's fault plan and settings over its control API, and a recording stand-in for
time.sleep."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import requests


@dataclass
class Faults:
    """The sandbox's fault plan, set and cleared over its control API."""

    url: str
    auth: tuple[str, str]

    def set(self, **plan: object) -> None:
        answer = requests.post(f"{self.url}/sandbox/Faults", data=plan, auth=self.auth, timeout=5)
        assert answer.status_code == 200, answer.text

    def clear(self) -> None:
        answer = requests.delete(f"{self.url}/sandbox/Faults", auth=self.auth, timeout=5)
        assert answer.status_code == 204


def ring_long(sandbox_url: str, auth: tuple[str, str]) -> None:
    """Callees ring for minutes: a dialed call stays ringing through the test."""
    answer = requests.post(
        f"{sandbox_url}/sandbox/Settings", data={"RingDelay": "600"}, auth=auth, timeout=5
    )
    assert answer.status_code == 200, answer.text


class Sleeper:
    """The gateway's sleep: records each delay, and runs `then` once, at the first one.

    Sleeps that overlap (the refresh retries on helper threads) wait for one another, so no
    sleep returns before `then` has done its work, as none would return before a real wait.
    """

    def __init__(self, then: Callable[[], object] | None = None) -> None:
        self.delays: list[float] = []
        self.then = then
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)
            if self.then is not None:
                then, self.then = self.then, None
                then()
