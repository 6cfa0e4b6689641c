"""A dial list's runner on the TaskRunner, with its statuses carried to the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal, Slot

from console.core.calls.dial_list import DialEntry, DialListRunner, EntryStatus
from console.core.calls.records import Call
from console.tasks import TaskRunner

Place = Callable[[DialEntry, str, str], Call]  # place(entry, room, from_) -> the placed Call


class DialSession(QObject):
    """One list's DialListRunner and its passes on the TaskRunner.

    It belongs to the TaskRunner, not to the dialog, so a pass running on a worker always has
    a live object to report to; once released it deletes itself when no pass runs.
    """

    status_changed = Signal(object)  # EntryStatus, emitted from whichever thread learnt it
    pass_finished = Signal(object)  # None, or the exception a pass ended with

    def __init__(
        self, tasks: TaskRunner, entries: Sequence[DialEntry], place: Place, cps: float
    ) -> None:
        super().__init__(tasks)
        self._tasks, self._place = tasks, place
        self.dialer = DialListRunner(
            entries, self._place_entry, calls_per_second=cps, on_status=self._report
        )
        self.room = self.from_ = ""
        self.running = self.cancelling = self._released = False
        self._retired: set[str] = set()  # SIDs of calls an entry was dialed again after

    def _place_entry(self, entry: DialEntry) -> Call:
        return self._place(entry, self.room, self.from_)  # on a worker; set before the pass

    def _report(self, state: EntryStatus) -> None:
        self.status_changed.emit(state)  # queued to the GUI thread when a worker emits

    def start(self, room: str, from_: str) -> None:
        """Dial every pending entry into room from from_, on a worker."""
        self.room, self.from_ = room, from_
        self.running, self.cancelling = True, False
        self._tasks.submit(self.dialer.run, self.on_pass_done, self.on_pass_failed)

    def retry(self, statuses: Sequence[str]) -> int:
        """Make entries with these statuses pending again; returns how many (GUI thread)."""
        calls = {s.call_sid for s in self.dialer.states() if s.status in statuses and s.call_sid}
        self._retired |= calls
        return len(self.dialer.retry_entries(statuses))

    def update_call(self, call_sid: str, status: str, message: str = "") -> None:
        """A call's new status; other calls, and calls dialed again since, are ignored."""
        if call_sid in self._retired:
            return
        ours = self.running or any(s.call_sid == call_sid for s in self.dialer.states())
        if ours:  # between passes every create has returned: an unknown SID is not ours
            self.dialer.update_call(call_sid, status, message)

    def cancel(self) -> None:
        """Dial no further entries in this pass."""
        if self.running:
            self.cancelling = True
            self.dialer.cancel()

    @Slot(object)
    def on_pass_done(self, _: object) -> None:
        self._finish(None)

    @Slot(object)
    def on_pass_failed(self, error: object) -> None:
        self._finish(error)

    def _finish(self, error: object) -> None:
        self.running = self.cancelling = False
        if self._released:
            self.deleteLater()
        else:
            self.pass_finished.emit(error)

    @Slot()
    def release(self) -> None:
        """Stop dialing; delete this session now, or when the pass under way returns."""
        self._released = True
        self.dialer.cancel()
        if not self.running:
            self.deleteLater()
