"""What the operator's actions do: rooms, dialing, calls and webhook events, off the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from console.call_ledger import CallLedger
from console.core.calls.dial_input import DialRequest
from console.core.calls.records import CALL_EVENTS, Call, Participant, PhoneNumber, Room
from console.core.gateways.team_records import IdentityInRoom
from console.core.number_text import display_number
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.room_desk import RoomDesk
from console.tasks import TaskRunner
from webhook.names import free_identity

if TYPE_CHECKING:  # the runtime pulls in the SDK and Flask, which load in the background
    from console.core.calls.room_controls import RoomControls
    from console.core.gateways.gateway import Gateway
    from console.core.runtime import Runtime

log = logging.getLogger(__name__)

INVALID_TO_CODES = frozenset({21211, 21214, 21215, 21216, 21217, 13223, 13224})
INVALID_FROM_CODES = frozenset({21210, 21212})


def error_text(error: object) -> str:
    """An exception from a background job, in words for the operator."""
    from console.core.gateways.gateway import TwilioError

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
    action_done = Signal(str)  # what an action just did, for the status bar
    account_named = Signal(str)  # live mode: the account's friendly name
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
        self.room_controls: RoomControls | None = None
        self._read_back: set[str] = set()  # rooms whose mutes were read from Twilio
        self.runner = runner
        self._now = clock or (lambda: datetime.now(UTC))
        self.rooms_model = RoomsModel(clock=self._now, parent=self)
        self.participants_model = ParticipantsModel(number_of=self.number_of, parent=self)
        self.ledger = CallLedger(runner, self._now, parent=self)
        self.calls_model = self.ledger.calls_model
        self.ledger.logged.connect(self.log_written)
        self.ledger.rooms_changed.connect(self.refresh)
        self.selected_room: Room | None = None
        self._refreshing = False
        self._refresh_again = False
        self._dialing = False
        self.call_placed_for_list.connect(self.on_self_call_placed_for_list)
        self.room_desk = RoomDesk(self, parent=self)
        runner.destroyed.connect(self.on_runner_destroyed)

    def attach(self, runtime: Runtime) -> None:
        """Start working against this runtime's gateway and webhook."""
        from console.core.calls.room_controls import RoomControls

        self.runtime = runtime
        self.gateway = runtime.gateway
        self.room_controls = RoomControls(runtime.gateway)
        self.ledger.history = runtime.history

    @Slot()
    def on_runner_destroyed(self) -> None:
        """The session is over (its workers are gone): late timers and callbacks do nothing."""
        self.gateway = None
        self.room_controls = None

    def number_of(self, participant: Participant) -> str:
        """The number (or SIP address) a participant came in by, from the call the console knows."""
        call = self.calls_model.call(participant.call_sid) if participant.call_sid else None
        if call is None:
            return ""
        return call.from_ if call.direction == "inbound" else call.to

    def people_in(self, room: str) -> list[str]:
        """Identities and numbers of the live calls the console knows in a room."""
        found = []
        for call in self.calls_model.records():
            if call.room == room and not call.finished:
                found += [call.identity, call.from_, call.to]
        return [name for name in found if name]

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
            return self._with_controls(rooms), None, []
        people = self.gateway.list_participants(room.sid)
        controls = self.room_controls
        if controls is None:
            return rooms, room, people
        try:  # the selected room's controls: read from Twilio once, then kept in step
            if room.sid not in self._read_back:
                controls.read_back(room.sid)
                controls.read_recording(room.sid)
                self._read_back.add(room.sid)
            controls.keep_in_step(room.sid, people)
        except Exception as error:  # the lists still show; the next refresh tries again
            log.warning("could not keep the controls of %s in step: %s", room.unique_name, error)
        return self._with_controls(rooms), room, controls.book.marked(people, room.sid)

    def reread_controls(self, room_sid: str) -> None:
        """Someone else changed a room's mutes or recording: read them again on the next load."""
        self._read_back.discard(room_sid)
        self.refresh()

    def forget_room(self, room_sid: str) -> None:
        """A room ended: its mutes and recording state go with it."""
        self._read_back.discard(room_sid)
        if self.room_controls is not None:
            self.room_controls.book.forget(room_sid)

    def _with_controls(self, rooms: list[Room]) -> list[Room]:
        """Rooms with the recording flag the console knows (from its actions, the callbacks, and
        each room's rules, read when it is first selected): no request per room."""
        controls = self.room_controls
        if controls is None:
            return rooms
        return [replace(r, recording=bool(controls.book.recording(r.sid))) for r in rooms]

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
        ours = [
            c.sid
            for c in self.calls_model.records()
            if c.room == room.unique_name and not c.finished
        ]
        self._act(
            lambda: self.gateway.end_room(room.sid),
            f"Ended room {room.unique_name}",
            f"Could not end room {room.unique_name}",
            ours,
        )

    def disconnect(self, participant: Participant) -> None:
        """Disconnect one participant from its room."""
        self._act(
            lambda: self.gateway.disconnect_participant(participant.room_sid, participant.sid),
            f"Disconnected {participant.identity}",
            f"Could not disconnect {participant.identity}",
            [participant.call_sid] if participant.call_sid else [],
        )

    def hang_up(self, call: Call) -> None:
        """Hang up a call placed this session."""
        party = display_number(call.from_ if call.direction == "inbound" else call.to)
        self._act(
            lambda: self.gateway.hang_up(call.sid),
            f"Hung up {party}",
            f"Could not hang up {party}",
            [call.sid],
        )

    def _act(
        self, job: Callable[[], object], done: str, failed: str, ending: list[str] | None = None
    ) -> None:
        """Run job; ending lists the calls it ends, which then need no reason."""
        self.ledger.operator_ends(ending or [])

        def on_done(_: object) -> None:
            self.log_written.emit(done)
            self.action_done.emit(done)
            self.refresh()

        def on_error(error: object) -> None:
            self.ledger.operator_failed_to_end(ending or [])
            self.error_reported.emit(f"{failed}: {error_text(error)}")

        self.runner.submit(job, on_done, on_error)

    def load_numbers(self) -> None:
        """Fetch the account's numbers for the caller-ID choice."""

        def on_error(error: object) -> None:
            self.error_reported.emit(f"Could not load the account's numbers: {error_text(error)}")

        self.runner.submit(self.gateway.list_numbers, self._on_numbers, on_error)

    def load_account_name(self) -> None:
        """Learn the account's friendly name, for the status bar (a failure is only logged)."""

        def on_error(error: object) -> None:
            log.warning("could not read the account's name: %s", error)

        self.runner.submit(self.gateway.check_credentials, self.account_named.emit, on_error)

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
        self.action_done.emit("Dial cancelled: no call was placed")

    def place(self, request: DialRequest) -> None:
        """Create the room if missing, then create the call; never retried."""
        self._dialing = True
        self.runner.submit(
            lambda: self.place_now(request),
            lambda call: self._on_placed(request, call),
            lambda error: self._on_place_error(request, error),
        )

    def _on_place_error(self, request: DialRequest, error: object) -> None:
        if isinstance(error, IdentityInRoom) and not request.anyway:
            # The team server saw the identity taken (another operator's dial, perhaps):
            # the same choice as when the console saw it itself.
            self.identity_conflict.emit(request, error.suggestion)
            return
        self._on_dial_error(error)

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
            request.to, request.from_, url, runtime.call_status_url, CALL_EVENTS, request.anyway
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
        self.ledger.list_call(call)

    def _list_call(self, request: DialRequest, call: Call) -> Call:
        placed = replace(call, room=request.room, identity=request.identity, placed_at=self._now())
        return self.ledger.list_call(placed)

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
