"""A clock whose time can run faster than the wall clock, so tests can skip through rings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    """Simulated time: `speed` simulated seconds pass per real second."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._origin_real = time.monotonic()
        self._origin_sim = start.astimezone(UTC) if start is not None else datetime.now(UTC)
        self._speed_listeners: list[Callable[[], object]] = []

    def on_speed_change(self, listener: Callable[[], object]) -> None:
        """Call listener (with no lock held) after every change of speed."""
        self._speed_listeners.append(listener)

    @property
    def speed(self) -> float:
        """How many simulated seconds pass per real second."""
        return self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, keeping the simulated time continuous."""
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        with self._lock:
            self._origin_sim = self._now_locked()
            self._origin_real = time.monotonic()
            self._speed = float(speed)
        for listener in list(self._speed_listeners):
            listener()

    def advance(self, seconds: float) -> None:
        """Skip simulated time ahead (waits already begun still take their real time)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._origin_sim += timedelta(seconds=seconds)

    def now(self) -> datetime:
        """The simulated time, in UTC."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        elapsed = (time.monotonic() - self._origin_real) * self._speed
        return self._origin_sim + timedelta(seconds=elapsed)

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of simulated time take in real time."""
        return max(0.0, seconds) / self._speed

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> bool:
        """Wait `seconds` of simulated time; returns False if `wake` was set first."""
        real = self.real_seconds(seconds)
        if wake is None:
            time.sleep(real)
            return True
        return not wake.wait(real)
