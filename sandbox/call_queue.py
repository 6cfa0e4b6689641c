"""Twilio's calls-per-second limit: API calls wait in line and start in order, `rate` a second."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from sandbox.clock import Clock

DEFAULT_RATE = 1.0  # Twilio's default for an account: 1 call per second
MAX_WAIT_SLICE = 0.1  # real seconds; a clock or rate change is noticed at least this often


class CallQueue:
    """The account's outbound call queue, timed by the sandbox clock (simulated seconds).

    Each call waits for its turn in wait_turn(); the first in line starts when 1/rate seconds
    have passed since the one before it started. A call that leaves the line (canceled) or a
    closed queue lets its waiter go with False.
    """

    def __init__(self, clock: Clock, rate: float = DEFAULT_RATE) -> None:
        if rate <= 0:
            raise ValueError("calls per second must be positive")
        self._clock = clock
        self._rate = float(rate)
        self._turns = threading.Condition()
        self._line: deque[str] = deque()
        self._last_start: datetime | None = None
        self._closed = False

    @property
    def rate(self) -> float:
        """Calls started per simulated second at most."""
        return self._rate

    def set_rate(self, rate: float) -> None:
        """Change the rate; calls already in line follow the new one."""
        if rate <= 0:
            raise ValueError("calls per second must be positive")
        with self._turns:
            self._rate = float(rate)
            self._turns.notify_all()

    def join(self, sid: str) -> float:
        """Put a call at the back of the line; returns its expected wait in simulated seconds."""
        with self._turns:
            self._line.append(sid)
            return self._wait_locked(len(self._line) - 1)

    def waiting(self) -> list[str]:
        """The SIDs in line, first first."""
        with self._turns:
            return list(self._line)

    def leave(self, sid: str) -> bool:
        """Take a call out of the line (it was canceled); whether it was waiting."""
        with self._turns:
            if sid not in self._line:
                return False
            self._line.remove(sid)
            self._turns.notify_all()
            return True

    def wait_turn(self, sid: str) -> bool:
        """Block until the call may start (True), or it left the line or the queue closed."""
        with self._turns:
            while True:
                if self._closed or sid not in self._line:
                    return False
                if self._line[0] == sid:
                    wait = self._wait_locked(0)
                    if wait <= 0:
                        self._line.popleft()
                        self._last_start = self._clock.now()
                        self._turns.notify_all()
                        return True
                    self._turns.wait(min(self._clock.real_seconds(wait), MAX_WAIT_SLICE))
                else:
                    self._turns.wait()  # whoever moves the line notifies

    def close(self) -> None:
        """Let every waiting call go (the account is shutting down)."""
        with self._turns:
            self._closed = True
            self._line.clear()
            self._turns.notify_all()

    def _wait_locked(self, position: int) -> float:
        interval = 1.0 / self._rate
        if self._last_start is None:
            first = 0.0
        else:
            due = self._last_start + timedelta(seconds=interval)
            first = max(0.0, (due - self._clock.now()).total_seconds())
        return first + position * interval
