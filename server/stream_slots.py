"""How many event streams one server process holds open, so its threads still answer the team.

Each open stream holds one of the process's team threads (server/lanes.py; Twilio's webhooks
have their own) for as long as its console is connected. Without a limit, enough streams (many
consoles, or one token opening stream after stream) would take every one of them, and the team
API would wait behind them. So a process keeps RESERVED team threads for the API, and one
operator may hold only PER_OPERATOR streams in it. A refused console is told why and when to
try again (a load balancer may send it to a process with room).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import NamedTuple

THREADS = 64  # threads a server process serves the team API and its streams with
RESERVED = 8  # of them, never taken by event streams
PER_OPERATOR = 4  # streams one operator may hold open in one process (a console needs one)
RETRY_SECONDS = 5  # what a refused stream is told to wait before trying again


def limit_for(threads: int) -> int:
    """The event streams a process serving with `threads` threads may hold open."""
    return max(1, threads - RESERVED)


class Refusal(NamedTuple):
    """Why a stream cannot be opened now, as an HTTP answer."""

    status: int
    message: str


class StreamSlots:
    """The process's open streams, counted in all and per operator (thread-safe)."""

    def __init__(self, limit: int, per_operator: int = PER_OPERATOR) -> None:
        self.limit, self.per_operator = limit, per_operator
        self._lock = threading.Lock()
        self._held: Counter[int] = Counter()

    @property
    def open(self) -> int:
        """Streams held right now."""
        with self._lock:
            return self._held.total()

    def take(self, operator_id: int) -> Refusal | None:
        """Hold a slot for one of operator_id's streams; the refusal when there is none."""
        with self._lock:
            if self._held[operator_id] >= self.per_operator:
                return Refusal(429, (
                    f"This operator already has {self.per_operator} event streams open on this "
                    "server process; close a console, or try again shortly."
                ))  # fmt: skip
            if self._held.total() >= self.limit:
                return Refusal(503, (
                    f"This server process already serves {self.limit} event streams; "
                    "try again shortly (another process may have room)."
                ))  # fmt: skip
            self._held[operator_id] += 1
            return None

    def give_back(self, operator_id: int) -> None:
        """Free the slot of one of operator_id's streams (once per take)."""
        with self._lock:
            if self._held[operator_id] <= 0:
                raise ValueError(f"operator {operator_id} holds no stream slot")
            self._held[operator_id] -= 1
            if not self._held[operator_id]:
                del self._held[operator_id]
