"""Injected latency and errors on a chosen share of REST requests, for benchmarks and drills."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass

from sandbox.errors import TwilioApiError

# Twilio codes for the HTTP statuses a fault can answer with.
CODES = {400: 20001, 401: 20003, 404: 20404, 429: 20429, 500: 20500, 503: 20503}


@dataclass(frozen=True)
class FaultPlan:
    """What to do to requests: error_share of them fail with status, delay_share are slowed."""

    error_status: int = 500
    error_share: float = 0.0
    delay_seconds: float = 0.0
    delay_share: float = 0.0
    path_prefix: str = ""

    def as_json(self) -> dict:
        """The plan as the control API shows it."""
        return asdict(self)


class FaultInjector:
    """Decides, per request, whether to delay it and whether to fail it."""

    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self.plan = FaultPlan()

    def set_plan(self, plan: FaultPlan, seed: int | None = None) -> None:
        """Replace the plan (and reseed, when a seed is given)."""
        if not (0 <= plan.error_share <= 1 and 0 <= plan.delay_share <= 1):
            raise TwilioApiError(400, 20001, "Shares must be between 0 and 1")
        if plan.delay_seconds < 0 or plan.delay_seconds > 120:
            raise TwilioApiError(400, 20001, "Delay must be between 0 and 120 seconds")
        if not 400 <= plan.error_status <= 599:
            raise TwilioApiError(400, 20001, "ErrorStatus must be an HTTP error status")
        with self._lock:
            self.plan = plan
            if seed is not None:
                self._random.seed(seed)

    def decide(self, path: str) -> tuple[float, TwilioApiError | None]:
        """(seconds to delay, error to answer or None) for a request to path."""
        with self._lock:
            plan = self.plan
            if plan.path_prefix and not path.startswith(plan.path_prefix):
                return 0.0, None
            delay = plan.delay_seconds if self._random.random() < plan.delay_share else 0.0
            failing = self._random.random() < plan.error_share
        if not failing:
            return delay, None
        status = plan.error_status
        code = CODES.get(status, 20500)
        return delay, TwilioApiError(status, code, f"Injected fault: HTTP {status}")
