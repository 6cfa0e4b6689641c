"""The call history's one interface, whichever engine holds it: its records, protocol and CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Protocol, TextIO

from console.core.calls.records import Call
from webhook.events import CallStatusEvent

DEFAULT_LIMIT = 200
EXPORT_BATCH = 2000  # calls an export reads at a time, and how often it reports progress
Statuses = str | Iterable[str] | None  # one status, several, or any
Progress = Callable[[int], object]  # told how many calls an export has written so far
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?!\d+$)")  # spreadsheet formulas, but not "+15551234567"


@dataclass(frozen=True)
class HistoryEntry:
    """One call as the history holds it; status is the latest known, final_status '' until done."""

    sid: str
    direction: str
    from_: str
    to: str
    room: str
    identity: str
    display_name: str
    created_at: datetime
    status: str
    final_status: str
    duration: int | None
    error_code: str
    error_message: str


@dataclass(frozen=True)
class StatusRecord:
    """One status a call went through, when it was first seen, and Twilio's SequenceNumber."""

    status: str
    at: datetime
    sequence: int | None


FIELDS = tuple(field.name for field in fields(HistoryEntry))
CSV_COLUMNS = tuple(name.rstrip("_") for name in FIELDS)  # from_ is "from" in the file
OPERATOR_COLUMN = "operator"  # a team's CSV: who placed or took each call, after the rest


class HistoryReader(Protocol):
    """What the History window and `switchboard history` read, from any history: this
    desktop's SQLite file, the team's PostgreSQL, or the team server's API."""

    def search(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[HistoryEntry]:
        """Calls newest first: text (case-insensitive, any script) in any number, room,
        identity, name, SID or error; status is the latest known (one or several); direction
        "outbound" also matches "outbound-api" and "outbound-dial"; limit None: every call."""
        ...

    def statuses_of(self, sid: str) -> list[StatusRecord]:
        """Every status one call went through, oldest first."""
        ...

    def export_csv(
        self,
        file: TextIO,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
    ) -> int:
        """Write every call search() finds with these filters (all of them when limit is None)
        to file as CSV, newest first, a batch at a time so memory stays flat; progress hears
        the count so far after each batch. CSV_COLUMNS first; a team's history adds
        OPERATOR_COLUMN last. Returns the calls written."""
        ...

    def close(self) -> None:
        """Let go of what the history holds open."""
        ...


class HistoryStore(HistoryReader, Protocol):
    """A history calls are recorded in: the desktop's SQLite file (console.core.calls.history)
    or the team's PostgreSQL (server.call_store). One test suite runs on both."""

    def record_call(
        self, call: Call, display_name: str = "", created_at: datetime | None = None
    ) -> None:
        """Record a call placed or received and its current status; a second call fills gaps."""
        ...

    def record_status(
        self,
        sid: str,
        status: str,
        at: datetime,
        duration: int | None = None,
        error_code: str = "",
        error_message: str = "",
        sequence: int | None = None,
    ) -> bool:
        """Record one status of a call; False when it was already recorded (a duplicate)."""
        ...

    def record_event(self, event: CallStatusEvent, room: str = "", identity: str = "") -> bool:
        """Record a status callback with the call's From, To and Direction; False if known."""
        ...

    def each_entry(
        self,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> Iterator[HistoryEntry]:
        """search()'s calls one at a time (every match unless limit says otherwise), read
        EXPORT_BATCH at a time: a year of calls in flat memory."""
        ...


def status_call(
    sid: str,
    status: str,
    duration: int | None = None,
    error_code: str = "",
    error_message: str = "",
    sequence: int | None = None,
) -> Call:
    """One status of a call as a Call record, as record_status stores it on either engine."""
    seq = -1 if sequence is None else sequence
    code = str(error_code) if error_code else ""
    return Call(sid, "", "", status, "", duration or 0, code, error_message, sequence=seq)


def stamp(moment: datetime | None) -> str:
    """A moment as the history writes it: ISO 8601 in UTC, to the microsecond."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (phone numbers stay as they are)."""
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA.match(text) else text


def csv_cells(entry: HistoryEntry) -> list[str]:
    """One history row's CSV cells, in CSV_COLUMNS order."""
    values = [getattr(entry, name) for name in FIELDS]
    return [safe_cell(stamp(v) if isinstance(v, datetime) else v) for v in values]


def write_csv(
    rows: Iterable[HistoryEntry],
    file: TextIO,
    operators: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write history rows as CSV (header first), one at a time, with each row's operator last
    when operators is set; progress hears the count every EXPORT_BATCH rows and at the end.
    Returns how many rows were written."""
    writer = csv.writer(file)
    writer.writerow([*CSV_COLUMNS, OPERATOR_COLUMN] if operators else CSV_COLUMNS)
    count = 0
    for entry in rows:
        cells = csv_cells(entry)
        if operators:
            cells.append(safe_cell(getattr(entry, "operator", "")))
        writer.writerow(cells)
        count += 1
        if progress is not None and count % EXPORT_BATCH == 0:
            progress(count)
    if progress is not None:
        progress(count)
    return count
