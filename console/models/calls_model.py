"""The calls table: this session's calls, who called whom, live status, duration and reason."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from console.core.calls.call_reasons import call_reason, reason_tooltip
from console.core.calls.records import Call
from console.core.number_text import display_number
from console.models.record_table_model import Column, RecordTableModel

STATUS_COLUMN, ERROR_COLUMN, DURATION_COLUMN = 1, 2, 3
KEEP_FINISHED = 500  # rows of calls that ended, beyond which the oldest leave the table
EVICT_BATCH = 50  # they leave this many at a time: one redraw of the table, not one per call


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
    """Why the call failed or ended, in one line ('' for a call that went as it should)."""
    return call_reason(call.status, call.error_code, call.error_message)


def error_tooltip(call: Call) -> str:
    """Twilio's message and error page, or the reason at length."""
    return reason_tooltip(call.status, call.error_code, call.error_message)


def other_party(call: Call) -> str:
    """The far end: the callee of a call the console placed, the caller of one it took."""
    return call.from_ if call.direction == "inbound" else call.to


def our_line(call: Call) -> str:
    """The account's number on the call: the caller ID we used, or the number that was called."""
    return call.to if call.direction == "inbound" else call.from_


def parties(call: Call) -> str:
    """Who called whom, for a tooltip."""
    return f"{display_number(call.from_)} called {display_number(call.to)}"


def direction(call: Call) -> str:
    """inbound or outbound (Twilio's outbound-api and outbound-dial are both outbound)."""
    return "inbound" if call.direction == "inbound" else "outbound"


class CallsModel(RecordTableModel[Call]):
    """Calls of this session, newest last, keyed by Call SID."""

    def __init__(self, clock: Callable[[], datetime] | None = None, parent=None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        # What an operator scans first comes first: who, how it went, why; then where.
        columns = [
            Column[Call](
                "Number",
                lambda c: display_number(other_party(c)),
                chars=19,
                tip=parties,
                status=direction,
            ),
            Column[Call]("Status", lambda c: c.status, chars=11, status=lambda c: c.status),
            Column[Call]("Error", describe_error, chars=22, tip=error_tooltip, stretch=4),
            Column[Call](
                "Duration", lambda c: format_duration(call_seconds(c, self._now())), chars=6
            ),
            Column[Call]("Room", lambda c: c.room, chars=12, stretch=1),
            Column[Call]("Identity", lambda c: c.identity or "(assigned)", chars=10, stretch=1),
            Column[Call]("Line", lambda c: display_number(our_line(c)), chars=18, tip=parties),
        ]
        super().__init__(columns, key=lambda c: c.sid, parent=parent)

    def upsert(self, call: Call) -> None:
        """Add a call, or replace the one with the same SID; the oldest finished ones go.

        A shift places thousands of calls: the table keeps the live ones and the last
        KEEP_FINISHED that ended (History keeps them all). The older ones leave together once
        EVICT_BATCH more have ended: removing a top row shifts and redraws the whole table.
        """
        self.put(call)
        if not call.finished or self.rowCount() <= KEEP_FINISHED + EVICT_BATCH:
            return
        finished = [row for row, record in enumerate(self._records) if record.finished]
        if len(finished) > KEEP_FINISHED + EVICT_BATCH:
            self.remove_rows(finished[: len(finished) - KEEP_FINISHED])

    def call(self, sid: str) -> Call | None:
        """The call with this SID, or None."""
        return self.record_at(self.row_of(sid))

    def tick(self) -> None:
        """Redraw the running durations (one change signal for the rows between live calls)."""
        live = [i for i, c in enumerate(self._records) if c.status == "in-progress"]
        if live:
            first = self.index(live[0], DURATION_COLUMN)
            self.dataChanged.emit(first, self.index(live[-1], DURATION_COLUMN))
