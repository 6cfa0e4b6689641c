"""Checks, every minute, that Twilio can reach the webhook: locally, or through the tunnel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from console.tasks import TaskRunner

if TYPE_CHECKING:
    from console.core.runtime import Runtime
    from console.core.self_check import CheckResult, TunnelWatcher

INTERVAL_MS = 60_000


class HealthMonitor(QObject):
    """Runs the check on the task runner; `checked` carries the problem ("" when healthy)."""

    checked = Signal(str)

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._runtime: Runtime | None = None
        self.watcher: TunnelWatcher | None = None
        self.problem = ""
        self.checks_done = 0
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.check_now)

    def start(self, runtime: Runtime, watcher: TunnelWatcher | None) -> None:
        """Check now and every minute; with a watcher, through the tunnel (reconnecting it)."""
        self._runtime, self.watcher = runtime, watcher
        self.timer.start()
        self.check_now()

    def stop(self) -> None:
        """No more checks."""
        self.timer.stop()

    @Slot()
    def check_now(self) -> None:
        """Start one check in the background."""
        if self.watcher is not None:
            self._runner.submit(self.watcher.check, self._on_tunnel_checked, self._on_failed)
        elif self._runtime is not None:
            self._runner.submit(self._runtime.check_health, self._on_checked, self._on_failed)

    def _on_checked(self, problem: str) -> None:
        self.problem = problem
        self.checks_done += 1
        self.checked.emit(problem)

    def _on_tunnel_checked(self, result: CheckResult) -> None:
        self._on_checked("" if result.ok else result.reason)

    def _on_failed(self, error: object) -> None:
        self._on_checked(f"health check failed: {error}")
