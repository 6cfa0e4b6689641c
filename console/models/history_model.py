"""The history table: one row a call, newest first, as the call history holds it."""

from __future__ import annotations

from console.core.calls.call_reasons import call_reason, reason_tooltip
from console.core.calls.history import HistoryEntry
from console.core.number_text import display_number
from console.models.calls_model import format_duration
from console.models.record_table_model import Column, RecordTableModel


def when(entry: HistoryEntry) -> str:
    """When the call was placed or received, in local time."""
    return entry.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def direction(entry: HistoryEntry) -> str:
    """inbound or outbound (Twilio's outbound-api and outbound-dial are both outbound)."""
    return entry.direction.split("-", 1)[0]


def duration(entry: HistoryEntry) -> str:
    """mm:ss once the call ended; empty while it goes on."""
    return "" if entry.duration is None else format_duration(entry.duration)


def error(entry: HistoryEntry) -> str:
    """Why the call failed or ended, as the Calls table says it ('' when it went well)."""
    return call_reason(entry.final_status or entry.status, entry.error_code, entry.error_message)


def error_tip(entry: HistoryEntry) -> str:
    """Twilio's message and error page, or the reason at length."""
    return reason_tooltip(entry.final_status or entry.status, entry.error_code, entry.error_message)


def operator(entry: HistoryEntry) -> str:
    """Who placed or took the call, in a team's history ('' in a desktop's)."""
    return str(getattr(entry, "operator", ""))


class HistoryModel(RecordTableModel[HistoryEntry]):
    """Calls from the history, keyed by Call SID; a team's history adds who handled each."""

    def __init__(self, parent=None, *, operators: bool = False) -> None:
        columns = [
            Column[HistoryEntry]("When", when, chars=19),
            *([Column[HistoryEntry]("Operator", operator, chars=12)] if operators else []),
            Column[HistoryEntry]("Direction", direction, chars=9),
            Column[HistoryEntry]("From", lambda e: display_number(e.from_), chars=18, stretch=1),
            Column[HistoryEntry]("To", lambda e: display_number(e.to), chars=18, stretch=1),
            Column[HistoryEntry]("Room", lambda e: e.room, chars=14, stretch=1),
            Column[HistoryEntry]("Identity", lambda e: e.identity, chars=12, stretch=1),
            Column[HistoryEntry]("Status", lambda e: e.status, chars=11, status=lambda e: e.status),
            Column[HistoryEntry]("Duration", duration, chars=8),
            Column[HistoryEntry]("Error", error, chars=24, tip=error_tip, stretch=2),
        ]
        super().__init__(columns, key=lambda e: e.sid, parent=parent)
