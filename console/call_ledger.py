"""This session's calls: their statuses from Twilio's callbacks, and why each one ended."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal, Slot

from console.core.calls.call_reasons import EndingWitness, call_reason
from console.core.calls.records import Call
from console.models.calls_model import CallsModel
from console.tasks import TaskRunner
from webhook.events import CallStatusEvent, RoomEvent

if TYPE_CHECKING:
    from console.core.calls.history import CallHistory

log = logging.getLogger(__name__)

EARLY_EVENTS_KEPT = 500  # calls whose callbacks may beat their create's answer
WITNESS_MEMORY = timedelta(minutes=2)  # older room events explain no ended call (live ones kept)
WITNESS_PRUNE_EVERY = 100  # finished calls between two prunings of those room events
ROOMS_SETTLE_MS = 250  # a burst of callbacks asks for one refresh at its start and one at its end


class CallLedger(QObject):
    """Keeps the Calls table in step with status and room callbacks, and says why calls ended.

    The reasons the console adds (a callee who hung up, a duplicate identity, a room that
    ended) are recorded in the history too, off the GUI thread.
    """

    logged = Signal(str)  # one line for the event log
    rooms_changed = Signal()  # calls joined or left rooms: the rooms want refreshing (throttled)

    def __init__(
        self, runner: TaskRunner, clock: Callable[[], datetime], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._now = clock
        self.history: CallHistory | None = None
        self.calls_model = CallsModel(clock=clock, parent=self)
        self.witness = EndingWitness()
        self._early_events: dict[str, list[CallStatusEvent]] = defaultdict(list)
        self._finished_since_prune = 0
        self._since_rooms_changed = QElapsedTimer()
        self._rooms_later = QTimer(self, singleShot=True)
        self._rooms_later.timeout.connect(self.on_rooms_later_timeout)

    def _rooms_touched(self) -> None:
        """Ask for a refresh now, or once at the end of a burst of callbacks (never more often
        than every ROOMS_SETTLE_MS: a busy shift must not keep the refresh running flat out)."""
        clock = self._since_rooms_changed
        if not clock.isValid() or clock.elapsed() >= ROOMS_SETTLE_MS:
            clock.start()
            self.rooms_changed.emit()
        elif not self._rooms_later.isActive():
            self._rooms_later.start(ROOMS_SETTLE_MS - clock.elapsed())

    @Slot()
    def on_rooms_later_timeout(self) -> None:
        self._since_rooms_changed.start()
        self.rooms_changed.emit()

    def list_call(self, call: Call) -> Call:
        """Show a call the console now handles, with any callbacks that came before it."""
        self.calls_model.upsert(call)
        for event in self._early_events.pop(call.sid, []):
            self._apply_status(event)
        return call

    def operator_ends(self, call_sids: list[str]) -> None:
        """The operator asked for these calls to end: they need no reason."""
        for sid in call_sids:
            self.witness.operator_ended(sid)

    def operator_failed_to_end(self, call_sids: list[str]) -> None:
        """The request to end these calls failed: whatever ends them later is not the operator."""
        for sid in call_sids:
            self.witness.operator_forgot(sid)

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        """A status callback arrived: update the call's row."""
        if not event.call_sid:  # the tunnel self-check's signed probe, not a call
            return
        if self.calls_model.call(event.call_sid) is None:
            if len(self._early_events) >= EARLY_EVENTS_KEPT:  # calls that were never ours
                self._early_events.pop(next(iter(self._early_events)))
            self._early_events[event.call_sid].append(event)
            return
        self._apply_status(event)

    def _apply_status(self, event: CallStatusEvent) -> None:
        call = self.calls_model.call(event.call_sid)
        if call is None or event.sequence_number < call.sequence or call.finished:
            return
        changes: dict[str, object] = {"status": event.status, "sequence": event.sequence_number}
        if event.status == "in-progress" and call.answered_at is None:
            changes["answered_at"] = self._now()
        if event.is_final:
            changes["ended_at"] = self._now()
            changes["duration"] = _int(event.get("CallDuration"))
        if event.error_code:
            changes["error_code"] = event.error_code
            changes["error_message"] = event.get("ErrorMessage")
        updated = replace(call, **changes)
        if updated.finished:
            updated = self._explained(updated)
        self.calls_model.upsert(updated)
        line = f"Call {call.to} → {call.room}: {event.status}"
        if updated.error_code or updated.error_message:
            reason = call_reason(updated.status, updated.error_code, updated.error_message)
            line += f" ({reason})"
        self.logged.emit(line)
        if event.status in ("in-progress", "completed"):
            self._rooms_touched()
        if updated.finished:
            self._note_finished()

    def _explained(self, call: Call) -> Call:
        """A finished call with the reason the console saw (recorded in the history too)."""
        explained = self.witness.explained(call)
        history = self.history
        if history is not None and explained.error_message and explained != call:
            sid, status, at = call.sid, call.status, call.ended_at or self._now()
            code, message = explained.error_code, explained.error_message
            self.runner.submit(
                lambda: history.record_status(
                    sid, status, at, error_code=code, error_message=message
                ),
                None,
                self._on_reason_not_recorded,
            )
        return explained

    def _on_reason_not_recorded(self, error: object) -> None:
        log.warning("could not record why a call ended in the history: %s", error)

    def _note_finished(self) -> None:
        self._finished_since_prune += 1
        if self._finished_since_prune >= WITNESS_PRUNE_EVERY:
            self._finished_since_prune = 0
            moment = self._now() - WITNESS_MEMORY
            self.witness.forget_before(moment, self.calls_model.records())

    def _reexplain(self, room: str) -> None:
        """Room events arrived after some calls in room ended: their reasons may be clearer now."""
        calls = self.calls_model.records()
        for call in self.witness.reexplained(calls, room, self._now()):
            self.calls_model.upsert(self._explained(self.calls_model.call(call.sid) or call))

    @Slot(object)
    def on_bridge_room_event(self, event: RoomEvent) -> None:
        """A room callback arrived: note who joined or what ended, and refresh at once."""
        who = f" {event.participant_identity}" if event.participant_identity else ""
        self.logged.emit(f"Room {event.room_name}: {event.kind}{who}")
        if event.kind == "participant-connected":
            self.witness.participant_joined(
                event.room_name,
                event.participant_identity,
                event.get("ParticipantSid"),
                self._now(),
            )
            self._reexplain(event.room_name)
        elif event.kind == "room-ended":
            self.witness.room_ended(event.room_name, self._now())
            self._reexplain(event.room_name)
        self._rooms_touched()


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
