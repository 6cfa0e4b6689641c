"""The Waiting table: incoming callers on hold for the operator, how long, and their identity.

In team mode it also shows who is handling each caller: "you", or another operator, whose
callers are greyed and cannot be taken.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QGuiApplication, QPalette

from console.core.number_text import display_number
from console.models.record_table_model import Column, RecordTableModel
from webhook.events import CallerWaiting

CALL_SID_MIME = "application/x-switchboard-call-sid"  # a dragged waiting caller: its CallSid
WAITING_COLUMN = 1
HANDLER_COLUMN = 2  # team mode only: who is handling the caller (before the number called)
LEFT_KEPT = 500  # callers who left lately, remembered so a stale list cannot bring them back


@dataclass(frozen=True)
class WaitingCaller:
    """A caller on hold: who (From), which of our numbers (To), since when, suggested identity."""

    call_sid: str
    from_: str
    to: str
    since: datetime  # timezone-aware
    identity: str = ""
    room: str = ""  # the room they wait to start (wait_for_room), joining by themselves

    @classmethod
    def from_event(cls, event: CallerWaiting) -> WaitingCaller:
        """The caller the webhook reported as put on hold."""
        return cls(event.call_sid, event.from_, event.to, event.since, event.identity, event.room)


def format_waiting(seconds: int) -> str:
    """How long someone has waited: 45s, 3m 12s, 1h 05m."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def handling_text(operator: str) -> str:
    """What the Waiting table says of a caller another operator holds."""
    return f"{operator} is handling this"


def call_sid_mime(call_sid: str) -> QMimeData:
    """Drag data naming one waiting caller."""
    data = QMimeData()
    data.setData(CALL_SID_MIME, call_sid.encode("utf-8"))
    return data


def call_sid_of(data: QMimeData | None) -> str:
    """The CallSid carried by drag data, or '' when it carries none."""
    if data is None or not data.hasFormat(CALL_SID_MIME):
        return ""
    return bytes(data.data(CALL_SID_MIME).data()).decode("utf-8", "replace").strip()


class WaitingModel(RecordTableModel[WaitingCaller]):
    """Callers on hold, oldest first, keyed by CallSid; rows drag out as CALL_SID_MIME."""

    def __init__(self, clock: Callable[[], datetime] | None = None, parent=None) -> None:
        self._now = clock or (lambda: datetime.now(UTC))
        self._pending: set[str] = set()
        self._claims: dict[str, str] = {}  # team mode: call_sid → the operator handling them
        self._left: dict[str, None] = {}  # callers taken off the list lately, oldest first
        self.operator = ""  # team mode: this console's operator ("" when working alone)
        columns = [
            Column[WaitingCaller](
                "Caller", lambda w: display_number(w.from_), chars=19, tip=self._tip, stretch=1
            ),
            Column[WaitingCaller](
                "Waiting", self._waiting_text, chars=11, status=self._state, tip=self._tip
            ),
            Column[WaitingCaller](
                "Number", lambda w: display_number(w.to), chars=18, tip=self._tip, stretch=1
            ),
        ]
        super().__init__(columns, key=lambda w: w.call_sid, parent=parent)

    @property
    def team(self) -> bool:
        """Whether the table shows a team's line (with who is handling each caller)."""
        return bool(self.operator)

    def set_operator(self, name: str) -> None:
        """Team mode: this console works as name; a Handled by column joins the table."""
        if self.team or not name:
            return
        column = HANDLER_COLUMN
        self.beginInsertColumns(QModelIndex(), column, column)
        self.operator = name
        self._columns.insert(
            column,
            Column[WaitingCaller]("Handled by", self._handler_text, chars=20, tip=self._tip),
        )
        self.endInsertColumns()

    def _handler_text(self, caller: WaitingCaller) -> str:
        holder = self._claims.get(caller.call_sid, "")
        if not holder:
            return ""
        return "you" if holder == self.operator else handling_text(holder)

    def _state(self, caller: WaitingCaller) -> str:
        return "connecting" if caller.call_sid in self._pending else "waiting"

    def _tip(self, caller: WaitingCaller) -> str:
        waited = format_waiting(int((self._now() - caller.since).total_seconds()))
        joins = f"; joins as {caller.identity}" if caller.identity else ""
        if caller.room:
            joins += f"; waiting for {caller.room} to start, and joins it then by themselves"
        state = "; connecting…" if caller.call_sid in self._pending else ""
        holder = self._claims.get(caller.call_sid, "")
        if holder:
            state += (
                "; you are handling this"
                if holder == self.operator
                else (f"; {handling_text(holder)}, so you cannot take it")
            )
        return (
            f"{display_number(caller.from_)} called {display_number(caller.to)} and has "
            f"waited {waited}{joins}{state}"
        )

    def _waiting_text(self, caller: WaitingCaller) -> str:
        if caller.call_sid in self._pending:
            return "connecting…"
        waited = format_waiting(int((self._now() - caller.since).total_seconds()))
        return f"{waited} · waiting for {caller.room} to start" if caller.room else waited

    def add(self, caller: WaitingCaller) -> None:
        """List a caller (a repeated CallSid replaces its row), keeping the oldest first.

        Only the caller's row changes (other rows, their selection and the scroll stay put)."""
        self._left.pop(caller.call_sid, None)
        row = self.row_of(caller.call_sid)
        if row >= 0 and self.record_at(row).since == caller.since:
            self.put(caller)  # the same place in the line
            return
        if row >= 0:
            self.remove_at(row)
        times = [w.since for w in self.records()]  # oldest first
        self.insert(bisect.bisect_right(times, caller.since), caller)

    def remove(self, call_sid: str) -> bool:
        """Take a caller off the list (put in a room, or hung up); False if not listed."""
        self._pending.discard(call_sid)
        self._claims.pop(call_sid, None)
        self._left[call_sid] = None  # a list read before they left must not bring them back
        while len(self._left) > LEFT_KEPT:
            del self._left[next(iter(self._left))]
        row = self.row_of(call_sid)
        if row < 0:
            return False
        self.remove_at(row)
        return True

    def set_line(
        self,
        callers: Sequence[WaitingCaller],
        claims: Mapping[str, str],
        listed_before: Set[str] = frozenset(),
        claims_kept: Set[str] = frozenset(),
    ) -> None:
        """Team mode: show the team's line as the server listed it, with who handles whom.

        Events are newer than the list: callers listed since the list was asked for (not in
        listed_before) stay, those who left meanwhile (even one who came and went while it
        was read) stay gone, and the claims in claims_kept (changed meanwhile) stay as they are.
        """
        current = {w.call_sid: w for w in self.records()}
        gone = (set(listed_before) - set(current)) | set(self._left)
        listed = {w.call_sid: w for w in callers if w.call_sid not in gone}
        listed |= {sid: w for sid, w in current.items() if sid not in listed_before}
        self._claims = {
            sid: who
            for sid in listed
            if (who := self._claims.get(sid, "") if sid in claims_kept else claims.get(sid, ""))
        }
        self._pending &= set(listed)
        self.set_records(sorted(listed.values(), key=lambda w: w.since))

    def joined(self, room: str, identity: str) -> list[WaitingCaller]:
        """Callers waiting for room who just joined it as identity (or a free variant of it)
        leave the list; returns them."""
        left = [
            w
            for w in self.records()
            if w.room == room
            and w.identity
            and (identity == w.identity or identity.startswith(f"{w.identity}-"))
        ]
        for caller in left[:1]:  # one participant is one caller
            self.remove(caller.call_sid)
        return left[:1]

    def caller(self, call_sid: str) -> WaitingCaller | None:
        """The waiting caller with this CallSid, or None."""
        return self.record_at(self.row_of(call_sid))

    def set_pending(self, call_sid: str, pending: bool) -> None:
        """Mark a caller as being connected (a redirect is in flight), or not any more."""
        row = self.row_of(call_sid)
        if row < 0 or (call_sid in self._pending) == pending:
            return
        if pending:
            self._pending.add(call_sid)
        else:
            self._pending.discard(call_sid)
        cell = self.index(row, WAITING_COLUMN)
        self.dataChanged.emit(cell, cell)

    def is_pending(self, call_sid: str) -> bool:
        """Whether a redirect for this caller is in flight."""
        return call_sid in self._pending

    def set_claim(self, call_sid: str, operator: str) -> None:
        """Team mode: operator now handles this caller ('' when nobody does)."""
        if self._claims.get(call_sid, "") == operator:
            return
        if operator:
            self._claims[call_sid] = operator
        else:
            self._claims.pop(call_sid, None)
        row = self.row_of(call_sid)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self._columns) - 1))

    def holder(self, call_sid: str) -> str:
        """The operator handling this caller ('' when nobody is, or working alone)."""
        return self._claims.get(call_sid, "")

    def held_by_other(self, call_sid: str) -> str:
        """The other operator handling this caller, whom this console cannot take; or ''."""
        holder = self._claims.get(call_sid, "")
        return holder if holder and holder != self.operator else ""

    def held_by_me(self) -> list[str]:
        """The callers this console's operator is handling (team mode)."""
        return [sid for sid, who in self._claims.items() if self.operator and who == self.operator]

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid():
            caller = self.record_at(index.row())
            if caller is not None and self.held_by_other(caller.call_sid):
                return QBrush(  # greyed: another operator has it
                    QGuiApplication.palette().color(
                        QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
                    )
                )
        return super().data(index, role)

    def tick(self) -> None:
        """Redraw the waiting times."""
        if self.rowCount():
            last = self.index(self.rowCount() - 1, WAITING_COLUMN)
            self.dataChanged.emit(self.index(0, WAITING_COLUMN), last)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else flags

    def mimeTypes(self) -> list[str]:
        return [CALL_SID_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData | None:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        caller = self.record_at(rows[0]) if rows else None
        return call_sid_mime(caller.call_sid) if caller else None

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction
