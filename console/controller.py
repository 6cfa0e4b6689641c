"""What the operator's actions do: rooms, dialing, calls and webhook events, off the GUI thread."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from console.core.dial_input import DialRequest
from console.core.records import CALL_EVENTS, Call, Participant, PhoneNumber, Room
from console.models.calls_model import CallsModel
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.tasks import TaskRunner
from webhook.events import CallStatusEvent, RoomEvent
from webhook.names import free_identity

if TYPE_CHECKING:  # the runtime pulls in the SDK and Flask, which load in the background
    from console.core.gateway import Gateway
    from console.core.runtime import Runtime

log = logging.getLogger(__name__)

EARLY_EVENTS_KEPT = 500  # calls whose callbacks may beat their create's answer
INVALID_TO_CODES = frozenset({21211, 21214, 21215, 21216, 21217, 13223, 13224})
INVALID_FROM_CODES = frozenset({21210, 21212})


def error_text(error: object) -> str:
    """An exception from a background job, in words for the operator."""
    from console.core.gateway import TwilioError

    if isinstance(error, TwilioError):
        return str(error)
    return f"Unexpected error: {error}"


def field_of(error: object) -> str:
    """Which dial-pad field a failed dial points at."""
    code = getattr(error, "code", 0)
    if code in INVALID_TO_CODES:
        return "number"
    if code in INVALID_FROM_CODES:
        return "from"
    if code in (53105, 53113):
        return "room"
    return ""


class ConsoleController(QObject):
    """Owns the models and turns operator actions and webhook events into gateway calls."""

    numbers_loaded = Signal(list)
    rooms_loaded = Signal(list)
    dial_busy_changed = Signal(bool)
    dial_failed = Signal(str, str)  # field ("" when none fits), message
    dial_placed = Signal(object)  # Call
    identity_conflict = Signal(object, str)  # DialRequest, a free identity
    error_reported = Signal(str)  # a failed action, in words
    log_written = Signal(str)  # one line for the event log
    call_placed_for_list = Signal(object, object)  # DialRequest, Call: emitted on a worker

    def __init__(
        self,
        runner: TaskRunner,
        clock: Callable[[], datetime] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runtime: Runtime | None = None
        self.gateway: Gateway | None = None
        self.runner = runner
        self._now = clock or (lambda: datetime.now(UTC))
        self.rooms_model = RoomsModel(clock=self._now, parent=self)
        self.participants_model = ParticipantsModel(parent=self)
        self.calls_model = CallsModel(clock=self._now, parent=self)
        self.selected_room: Room | None = None
        self._refreshing = False
        self._refresh_again = False
        self._dialing = False
        self._early_events: dict[str, list[CallStatusEvent]] = defaultdict(list)
        self.call_placed_for_list.connect(self.on_self_call_placed_for_list)

    def attach(self, runtime: Runtime) -> None:
        """Start working against this runtime's gateway and webhook."""
        self.runtime = runtime
        self.gateway = runtime.gateway

    # -- rooms ---------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Reload rooms, and the selected room's participants, in the background."""
        if self.gateway is None:
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        room = self.selected_room
        self.runner.submit(lambda: self._load(room), self._on_loaded, self._on_load_failed)

    def _load(self, room: Room | None) -> tuple[list[Room], Room | None, list[Participant]]:
        rooms = self.gateway.list_rooms()
        if room is None or all(r.sid != room.sid for r in rooms):
            return rooms, None, []
        return rooms, room, self.gateway.list_participants(room.sid)

    def _on_loaded(self, result: tuple[list[Room], Room | None, list[Participant]]) -> None:
        rooms, room, participants = result
        self.rooms_model.set_records(rooms)
        self.rooms_loaded.emit(rooms)
        if self.selected_room is not None and room is not None:
            if room.sid == self.selected_room.sid:
                self.participants_model.set_records(self._enriched(room, participants))
        elif self.selected_room is not None and all(r.sid != self.selected_room.sid for r in rooms):
            self.participants_model.set_records([])
        self._refresh_finished()

    def _on_load_failed(self, error: object) -> None:
        self.error_reported.emit(f"Could not refresh rooms: {error_text(error)}")
        self._refresh_finished()

    def _refresh_finished(self) -> None:
        self._refreshing = False
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def select_room(self, room: Room | None) -> None:
        """Show this room's participants (None clears the list)."""
        changed = (room and room.sid) != (self.selected_room and self.selected_room.sid)
        self.selected_room = room
        if changed:
            self.participants_model.set_records([])
            if room is not None:
                self.refresh()

    def _enriched(self, room: Room, participants: list[Participant]) -> list[Participant]:
        """Participants with kind and call status filled in from the calls we placed."""
        ours = {c.identity: c for c in self.calls_model.records() if c.room == room.unique_name}
        result = []
        for person in participants:
            call = ours.get(person.identity)
            if call is None:
                result.append(person)
                continue
            party = call.from_ if call.direction == "inbound" else call.to
            kind = "sip" if party.lower().startswith("sip:") else "phone"
            result.append(replace(person, kind=kind, call_sid=call.sid, call_status=call.status))
        return result

    def create_room(self, name: str, max_participants: int = 0) -> None:
        """Create a group room in the background."""
        callback = self.runtime.room_status_url
        self._act(
            lambda: self.gateway.create_room(name, max_participants or None, callback),
            f"Created room {name}",
            f"Could not create room {name}",
        )

    def end_room(self, room: Room) -> None:
        """End a room, disconnecting everyone in it."""
        self._act(
            lambda: self.gateway.end_room(room.sid),
            f"Ended room {room.unique_name}",
            f"Could not end room {room.unique_name}",
        )

    def disconnect(self, participant: Participant) -> None:
        """Disconnect one participant from its room."""
        self._act(
            lambda: self.gateway.disconnect_participant(participant.room_sid, participant.sid),
            f"Disconnected {participant.identity}",
            f"Could not disconnect {participant.identity}",
        )

    def hang_up(self, call: Call) -> None:
        """Hang up a call placed this session."""
        self._act(
            lambda: self.gateway.hang_up(call.sid),
            f"Hung up {call.to}",
            f"Could not hang up {call.to}",
        )

    def _act(self, job: Callable[[], object], done: str, failed: str) -> None:
        def on_done(_: object) -> None:
            self.log_written.emit(done)
            self.refresh()

        def on_error(error: object) -> None:
            self.error_reported.emit(f"{failed}: {error_text(error)}")

        self.runner.submit(job, on_done, on_error)

    def load_numbers(self) -> None:
        """Fetch the account's numbers for the caller-ID choice."""

        def on_error(error: object) -> None:
            self.error_reported.emit(f"Could not load the account's numbers: {error_text(error)}")

        self.runner.submit(self.gateway.list_numbers, self._on_numbers, on_error)

    def _on_numbers(self, numbers: list[PhoneNumber]) -> None:
        self.numbers_loaded.emit(numbers)

    # -- dialing -------------------------------------------------------------------------------

    @property
    def dialing(self) -> bool:
        """Whether a dial request is in flight."""
        return self._dialing

    def _set_dialing(self, busy: bool) -> None:
        self._dialing = busy
        self.dial_busy_changed.emit(busy)

    def dial(self, request: DialRequest) -> None:
        """Check the identity is free in the room, then place the call (exactly once)."""
        if self._dialing:
            return
        self._set_dialing(True)
        self.runner.submit(
            lambda: self._identities_in(request.room),
            lambda taken: self._on_identities(request, taken),
            self._on_dial_error,
        )

    def _identities_in(self, room_name: str) -> set[str]:
        room = self.gateway.find_room(room_name)
        if room is None:
            return set()
        return {p.identity for p in self.gateway.list_participants(room.sid)}

    def _on_identities(self, request: DialRequest, taken: set[str]) -> None:
        if request.identity and request.identity in taken:
            self.identity_conflict.emit(request, free_identity(request.identity, taken))
            return
        self.place(request)

    def cancel_dial(self) -> None:
        """The operator backed out of a dial that was waiting for a decision."""
        self._set_dialing(False)

    def place(self, request: DialRequest) -> None:
        """Create the room if missing, then create the call; never retried."""
        self._dialing = True
        self.runner.submit(
            lambda: self.place_now(request),
            lambda call: self._on_placed(request, call),
            self._on_dial_error,
        )

    def place_now(self, request: DialRequest) -> Call:
        """Blocking, for worker threads: create the room if missing, place the call, record it."""
        assert self.runtime is not None and self.gateway is not None
        runtime, gateway = self.runtime, self.gateway
        if gateway.find_room(request.room) is None:
            try:
                gateway.create_room(request.room, status_callback=runtime.room_status_url)
            except Exception as error:
                if getattr(error, "code", 0) != 53113:  # created meanwhile: fine
                    raise
        url = runtime.outbound_url(request.room, request.identity)
        call = gateway.place_call(
            request.to, request.from_, url, runtime.call_status_url, CALL_EVENTS
        )
        if runtime.history is not None:  # recorded before the window hears of it
            placed = replace(call, room=request.room, identity=request.identity)
            try:
                runtime.history.record_call(placed)
            except Exception:  # the call is placed all the same: never report it failed
                log.exception("could not record call %s in the history", call.sid)
        return call

    def place_from_list(self, request: DialRequest) -> Call:
        """place_now for a dial list (worker thread); the call also shows under Calls."""
        call = self.place_now(request)
        self.call_placed_for_list.emit(request, call)  # queued to the GUI thread
        return call

    @Slot(object, object)
    def on_self_call_placed_for_list(self, request: DialRequest, call: Call) -> None:
        """A dial list placed a call: list it with the session's calls."""
        self._list_call(request, call)
        self.refresh()

    def list_call(self, call: Call) -> None:
        """Show a call the console now handles (e.g. an incoming caller it put in a room)."""
        self.calls_model.upsert(call)
        for event in self._early_events.pop(call.sid, []):
            self._apply_status(event)

    def _list_call(self, request: DialRequest, call: Call) -> Call:
        call = replace(call, room=request.room, identity=request.identity, placed_at=self._now())
        self.calls_model.upsert(call)
        for event in self._early_events.pop(call.sid, []):
            self._apply_status(event)
        return call

    def _on_placed(self, request: DialRequest, call: Call) -> None:
        call = self._list_call(request, call)
        self.log_written.emit(f"Dialing {request.to} into {request.room} ({call.sid})")
        self._set_dialing(False)
        self.dial_placed.emit(call)
        self.refresh()

    def _on_dial_error(self, error: object) -> None:
        self._set_dialing(False)
        message = error_text(error)
        self.dial_failed.emit(field_of(error), message)
        self.error_reported.emit(f"Dial failed: {message}")

    # -- webhook events ------------------------------------------------------------------------

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
        if event.status in ("completed", "busy", "no-answer", "failed", "canceled"):
            changes["ended_at"] = self._now()
            changes["duration"] = _int(event.get("CallDuration"))
        if event.error_code:
            changes["error_code"] = event.error_code
            changes["error_message"] = event.get("ErrorMessage")
        updated = replace(call, **changes)
        self.calls_model.upsert(updated)
        line = f"Call {call.to} → {call.room}: {event.status}"
        if event.error_code:
            line += f" (error {event.error_code}: {event.get('ErrorMessage')})"
        self.log_written.emit(line)
        if event.status in ("in-progress", "completed"):
            self.refresh()

    @Slot(object)
    def on_bridge_room_event(self, event: RoomEvent) -> None:
        """A room callback arrived: refresh at once."""
        who = f" {event.participant_identity}" if event.participant_identity else ""
        self.log_written.emit(f"Room {event.room_name}: {event.kind}{who}")
        self.refresh()


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
