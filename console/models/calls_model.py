"""The calls table: the calls placed this session, with live status, duration and error."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from console.core.records import Call
from console.models.record_table_model import Column, RecordTableModel

DURATION_COLUMN = 4


def format_duration(seconds: int) -> str:
    """mm:ss, or h:mm:ss past an hour."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    return (
        f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
        if hours
        else f"{rest // 60:02d}:{rest % 60:02d}"
    )


def call_seconds(call: Call, now: datetime) -> int:
    """Seconds since the callee answered: Twilio's figure once the call ended, else live."""
    if call.finished:
        return call.duration
    if call.answered_at is None:
        return 0
    return int((now - call.answered_at).total_seconds())


def describe_error(call: Call) -> str:
    """Twilio's error code and message, as one line."""
    if not call.error_code and not call.error_message:
        return ""
    if call.error_code:
        return f"{call.error_code}: {call.error_message}".rstrip(": ")
    return call.error_message


class CallsModel(RecordTableModel[Call]):
    """Calls of this session, newest last, keyed by Call SID."""

    def __init__(self, clock: Callable[[], datetime] | None = None, parent=None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        columns = [
            Column[Call]("To", lambda c: c.to, chars=17),
            Column[Call]("Room", lambda c: c.room, chars=14),
            Column[Call]("Identity", lambda c: c.identity or "(assigned by Twilio)", chars=14),
            Column[Call]("Status", lambda c: c.status, chars=11),
            Column[Call](
                "Duration", lambda c: format_duration(call_seconds(c, self._now())), chars=8
            ),
            Column[Call]("Error", describe_error),
        ]
        super().__init__(columns, key=lambda c: c.sid, parent=parent)

    def upsert(self, call: Call) -> None:
        """Add a call, or replace the one with the same SID."""
        records = self.records()
        row = self.row_of(call.sid)
        if row >= 0:
            records[row] = call
        else:
            records.append(call)
        self.set_records(records)

    def call(self, sid: str) -> Call | None:
        """The call with this SID, or None."""
        return self.record_at(self.row_of(sid))

    def tick(self) -> None:
        """Redraw the running durations."""
        live = [i for i, c in enumerate(self.records()) if c.status == "in-progress"]
        for row in live:
            cell = self.index(row, DURATION_COLUMN)
            self.dataChanged.emit(cell, cell)
