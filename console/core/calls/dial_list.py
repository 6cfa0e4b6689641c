"""Dial lists: rows checked before dialing, then dialed into one room at the account's pace."""

from __future__ import annotations

import csv
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from console.core.calls.dial_input import InvalidInput, check_identity, normalize_destination
from console.core.calls.records import FINAL_CALL_STATUSES, Call

if TYPE_CHECKING:
    from console.core.calls.history import HistoryEntry

log = logging.getLogger(__name__)

MAX_PARTICIPANTS = 50  # per room
MAX_PHONE_PARTICIPANTS = 35  # per room, of the 50
RETRYABLE_STATUSES = ("busy", "no-answer")
PENDING, DIALING, ERROR, SKIPPED = "pending", "dialing", "error", "skipped"
_HEADER = {
    "number": "number",
    "phone": "number",
    "to": "number",
    "identity": "identity",
    "name": "name",
    "display name": "name",
    "display_name": "name",
}
_RANK = {PENDING: 0, DIALING: 1, "queued": 2, "initiated": 2, "ringing": 3, "in-progress": 4}


@dataclass(frozen=True)
class DialEntry:
    """One person to dial: the E.164 number or sip: URI, their identity, and a name to show."""

    row: int
    to: str
    identity: str
    display_name: str = ""


@dataclass(frozen=True)
class BadRow:
    """A row that will not be dialed, and why (row numbers count from 1, header included)."""

    row: int
    reason: str
    text: str = ""


@dataclass(frozen=True)
class DialList:
    """The entries that can be dialed and the rows that cannot."""

    entries: tuple[DialEntry, ...]
    bad_rows: tuple[BadRow, ...]


@dataclass(frozen=True)
class EntryStatus:
    """Where one entry stands: pending, dialing, a call status, error or skipped."""

    entry: DialEntry
    status: str = PENDING
    call_sid: str = ""
    attempts: int = 0
    message: str = ""


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate
    return ","


def parse_dial_list(csv_text: str, region: str) -> DialList:
    """Check a CSV of number, identity and optional name (header optional) before dialing."""
    text = csv_text.lstrip("\ufeff")
    records = list(csv.reader(io.StringIO(text), delimiter=_delimiter(text)))
    numbered = [(i, [c.strip() for c in cells]) for i, cells in enumerate(records, 1)]
    numbered = [(row, cells) for row, cells in numbered if any(cells)]
    if not numbered:
        return DialList((), (BadRow(1, "The file has no rows."),))
    columns = {"number": 0, "identity": 1, "name": 2}
    header_row, header = numbered[0]
    named = [_HEADER.get(cell.lower()) for cell in header]
    has_header = "number" in named or "identity" in named
    if has_header:
        numbered = numbered[1:]
        columns = {name: named.index(name) for name in columns if name in named}
        missing = [name for name in ("number", "identity") if name not in columns]
        if missing:
            reason = f"The header has no {' or '.join(missing)} column."
            return DialList((), (BadRow(header_row, reason, ",".join(header)),))
    rows: list[tuple[int, str, str, str]] = []
    bad: list[BadRow] = []
    for row, cells in numbered:
        if not has_header and any(cells[3:]):
            reason = "Too many columns: expected number, identity and an optional name."
            bad.append(BadRow(row, reason, ",".join(cells)))
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in columns.items()}
        rows.append((row, values["number"], values["identity"], values.get("name", "")))
    checked = _check(rows, region)
    return DialList(checked.entries, tuple(sorted([*bad, *checked.bad_rows], key=_row)))


def _row(bad: BadRow) -> int:
    return bad.row


def entries_from_history(entries: Iterable[HistoryEntry], region: str) -> DialList:
    """A dial list from calls picked in the history: the other party, identity and name."""
    rows = []
    for row, entry in enumerate(entries, 1):
        number = entry.from_ if entry.direction == "inbound" else entry.to
        rows.append((row, number, entry.identity, entry.display_name))
    return _check(rows, region)


def _check(rows: Iterable[tuple[int, str, str, str]], region: str) -> DialList:
    entries: list[DialEntry] = []
    bad: list[BadRow] = []
    numbers: dict[str, int] = {}
    identities: dict[str, int] = {}
    phones = 0
    for row, number_text, identity_text, name in rows:
        text = ",".join(v for v in (number_text, identity_text, name) if v)
        reason = ""
        if not number_text:
            reason = "Missing column: number."
        elif not identity_text:
            reason = "Missing column: identity."
        if reason:
            bad.append(BadRow(row, reason, text))
            continue
        try:
            number = normalize_destination(number_text, region)
            identity = check_identity(identity_text)
        except InvalidInput as error:
            what = "number" if error.field == "number" else "identity"
            bad.append(BadRow(row, f"Invalid {what}: {error.message}", text))
            continue
        is_phone = not number.startswith("sip:")
        if identity in identities:
            reason = f"Duplicate identity “{identity}” (row {identities[identity]})."
        elif number in numbers:
            reason = f"Duplicate number {number} (row {numbers[number]})."
        elif len(entries) >= MAX_PARTICIPANTS:
            reason = f"A room holds at most {MAX_PARTICIPANTS} participants."
        elif is_phone and phones >= MAX_PHONE_PARTICIPANTS:
            reason = f"A room holds at most {MAX_PHONE_PARTICIPANTS} phone participants."
        if reason:
            bad.append(BadRow(row, reason, text))
            continue
        identities[identity], numbers[number] = row, row
        phones += is_phone
        entries.append(DialEntry(row, number, identity, name))
    return DialList(tuple(entries), tuple(bad))


def _rank(status: str) -> int:
    return (
        9 if status in FINAL_CALL_STATUSES or status in (ERROR, SKIPPED) else _RANK.get(status, 4)
    )


class DialListRunner:
    """Dials a list's entries into one room, paced at calls_per_second, each at most once a pass.

    `place` dials one entry and returns the Call (the caller builds the URL for the room and
    identity, and creates the room first). Statuses reach `on_status` from the thread that
    learnt them: run()'s thread for placing, the caller's for update_call(). cancel() stops
    before the next entry; a create already sent is never abandoned, and placed calls go on.
    """

    def __init__(
        self,
        entries: Iterable[DialEntry],
        place: Callable[[DialEntry], Call],
        *,
        calls_per_second: float = 1.0,
        on_status: Callable[[EntryStatus], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if calls_per_second <= 0:
            raise ValueError("calls_per_second must be positive")
        self._entries = list(entries)
        for field in ("to", "identity"):
            values = [getattr(entry, field) for entry in self._entries]
            if len(set(values)) != len(values):
                raise ValueError(
                    f"two entries share a {field}; check the list with parse_dial_list"
                )
        self._place = place
        self._interval = 1.0 / calls_per_second
        self._on_status = on_status
        self._clock = clock
        self._cancelled = threading.Event()
        self._sleep = sleep or self._cancelled.wait  # cancel() cuts a pacing wait short
        self._lock = threading.Lock()
        self._states = [EntryStatus(entry) for entry in self._entries]
        self._by_sid: dict[str, int] = {}
        self._early: dict[str, tuple[str, str]] = {}
        self._running = False
        self._next_at: float | None = None  # the earliest moment the next create may be sent

    def states(self) -> list[EntryStatus]:
        """Every entry's status, in list order."""
        with self._lock:
            return list(self._states)

    def progress(self) -> tuple[int, int]:
        """(entries past dialing, all entries), for a progress bar."""
        with self._lock:
            done = sum(s.status not in (PENDING, DIALING) for s in self._states)
            return done, len(self._states)

    def cancel(self) -> None:
        """Dial no further entries; the ones not reached become "skipped"."""
        self._cancelled.set()

    def run(self) -> list[EntryStatus]:
        """Dial every pending entry once, in order, paced; returns the statuses at the end."""
        with self._lock:
            if self._running:
                raise RuntimeError("the dial list is already running")
            self._running = True
            self._cancelled.clear()
            todo = [i for i, state in enumerate(self._states) if state.status == PENDING]
        placed: set[int] = set()
        try:
            for index in todo:
                if self._next_at is not None and (wait := self._next_at - self._clock()) > 0:
                    self._sleep(wait)
                if self._cancelled.is_set():
                    break
                if index in placed:  # never twice in one pass, whatever happens
                    continue
                placed.add(index)
                self._next_at = self._clock() + self._interval  # kept for the next pass too
                self._dial(index)
        finally:
            for index in todo:
                if index not in placed:
                    self._update(index, status=SKIPPED)
            with self._lock:
                self._running = False
                self._early.clear()  # every create has returned: these were not our calls
        return self.states()

    def _dial(self, index: int) -> None:
        attempts = self.states()[index].attempts + 1
        self._update(index, status=DIALING, attempts=attempts, call_sid="", message="")
        try:
            call = self._place(self._entries[index])
        except Exception as error:  # one failed entry never stops the list
            log.info("dialing row %s failed: %s", self._entries[index].row, error)
            self._update(index, status=ERROR, message=str(error))
            return
        with self._lock:
            self._by_sid[call.sid] = index
            early = self._early.pop(call.sid, None)
        self._update(index, status=call.status or "queued", call_sid=call.sid)
        if early is not None:
            self.update_call(call.sid, *early)

    def update_call(self, call_sid: str, status: str, message: str = "") -> EntryStatus | None:
        """A call's new status (from a callback or a poll); never moves an entry backwards."""
        with self._lock:
            index = self._by_sid.get(call_sid)
            if index is None:
                self._early[call_sid] = (status, message)  # its create has not returned yet
                return None
        return self._update(index, status=status, message=message, only_forward=True)

    def retry_entries(self, statuses: Sequence[str] = RETRYABLE_STATUSES) -> list[DialEntry]:
        """Make entries that ended with one of statuses pending again; run() then dials them."""
        with self._lock:
            if self._running:
                raise RuntimeError("wait for the dial list to finish before retrying")
            again = [i for i, state in enumerate(self._states) if state.status in statuses]
            for index in again:  # a late callback for the old call must not touch the new one
                self._by_sid.pop(self._states[index].call_sid, None)
        for index in again:
            self._update(index, status=PENDING, call_sid="", message="")
        return [self._entries[index] for index in again]

    def _update(self, index: int, only_forward: bool = False, **changes: object) -> EntryStatus:
        with self._lock:
            state = self._states[index]
            if only_forward and _rank(str(changes["status"])) <= _rank(state.status):
                return state
            state = self._states[index] = replace(state, **changes)
        if self._on_status is not None:
            self._on_status(state)
        return state
