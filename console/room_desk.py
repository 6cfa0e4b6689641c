"""The operator's room controls (mute, record, recordings) and room callbacks, off the GUI thread.

Room callbacks update the Rooms and Participants lists at once; the periodic refresh stays as
a safety net for anything a callback did not say.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal, Slot

from console.core.calls.records import Participant, Recording, Room
from console.models.participants_model import ParticipantsModel
from console.models.rooms_model import RoomsModel
from console.tasks import TaskRunner
from webhook.events import RoomEvent

if TYPE_CHECKING:
    from console.core.calls.room_controls import RoomControls

log = logging.getLogger(__name__)


class DeskHost(Protocol):
    """What the desk works with: the controller's models, runner, controls and signals."""

    runner: TaskRunner
    rooms_model: RoomsModel
    participants_model: ParticipantsModel
    selected_room: Room | None
    room_controls: RoomControls | None
    log_written: Signal
    action_done: Signal
    error_reported: Signal

    def forget_room(self, room_sid: str) -> None: ...


def _said(error: object) -> str:
    from console.core.gateways.gateway import TwilioError

    return str(error) if isinstance(error, TwilioError) else f"Unexpected error: {error}"


class RoomDesk(QObject):
    """Mutes, records and lists recordings for the operator; keeps the lists in step with
    room callbacks."""

    recordings_loaded = Signal(str, list)  # room SID, [Recording]
    recordings_changed = Signal(str)  # room SID: a recording started or completed
    participant_joined = Signal(str, str)  # room name, identity: a room callback said so

    def __init__(self, host: DeskHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host

    # -- actions -------------------------------------------------------------------------------

    @Slot(object, bool)
    def set_muted(self, participant: Participant, muted: bool = True) -> None:
        """Mute (or unmute) a participant for everyone else in its room."""
        host, controls = self.host, self.host.room_controls
        if controls is None:
            return
        who, room_sid = participant.identity, participant.room_sid
        verb = "Muted" if muted else "Unmuted"

        def on_done(people: list[Participant]) -> None:
            self._show_marks(room_sid, people)
            host.log_written.emit(f"{verb} {who}")
            host.action_done.emit(f"{verb} {who}")

        def on_error(error: object) -> None:
            what = "mute" if muted else "unmute"
            host.error_reported.emit(f"Could not {what} {who}: {_said(error)}")

        host.runner.submit(lambda: controls.set_muted(room_sid, who, muted), on_done, on_error)

    @Slot(object, bool)
    def set_recording(self, room: Room, recording: bool = True) -> None:
        """Start (or stop) recording every track of a room."""
        host, controls = self.host, self.host.room_controls
        if controls is None:
            return
        done = f"{'Recording' if recording else 'Stopped recording'} {room.unique_name}"

        def on_done(_: object) -> None:
            self._show_recording(room.sid, recording)
            host.log_written.emit(done)
            host.action_done.emit(done)

        def on_error(error: object) -> None:
            what = "record" if recording else "stop recording"
            host.error_reported.emit(f"Could not {what} {room.unique_name}: {_said(error)}")

        host.runner.submit(lambda: controls.set_recording(room.sid, recording), on_done, on_error)

    def load_recordings(self, room: Room) -> None:
        """Fetch a room's recordings; recordings_loaded carries them."""
        host, controls = self.host, self.host.room_controls
        if controls is None:
            return

        def on_done(found: list[Recording]) -> None:
            self.recordings_loaded.emit(room.sid, found)

        def on_error(error: object) -> None:
            host.error_reported.emit(
                f"Could not list the recordings of {room.unique_name}: {_said(error)}"
            )

        host.runner.submit(lambda: controls.recordings(room.sid), on_done, on_error)

    # -- the lists -----------------------------------------------------------------------------

    def _selected(self, room_sid: str) -> bool:
        room = self.host.selected_room
        return room is not None and room.sid == room_sid

    def _show_marks(self, room_sid: str, people: list[Participant]) -> None:
        """Redraw the muted marks of the selected room's participants."""
        if not self._selected(room_sid):
            return
        muted = {p.identity for p in people if p.muted}
        model = self.host.participants_model
        for person in model.records():
            if person.muted != (person.identity in muted):
                model.put(replace(person, muted=person.identity in muted))

    def _show_recording(self, room_sid: str, recording: bool) -> None:
        model = self.host.rooms_model
        room = model.record_at(model.row_of(room_sid))
        if room is not None and room.recording != recording:
            model.put(replace(room, recording=recording))

    # -- room callbacks ------------------------------------------------------------------------

    @Slot(object)
    def on_bridge_room_event(self, event: RoomEvent) -> None:
        """A room callback: update the lists at once and keep the room's controls in step."""
        kind, room_sid = event.kind, event.room_sid
        if kind == "room-ended":
            self._room_ended(room_sid)
        elif kind == "participant-disconnected":
            model = self.host.participants_model
            row = model.row_of(event.get("ParticipantSid"))
            if self._selected(room_sid) and row >= 0:
                model.remove_at(row)
        elif kind == "participant-connected":
            self.participant_joined.emit(event.room_name, event.participant_identity)
            self._newcomer(event)
        elif kind == "recording-started":
            controls = self.host.room_controls
            if controls is not None:
                controls.book.set_recording(room_sid, True)
            self._show_recording(room_sid, True)
            self.recordings_changed.emit(room_sid)
        elif kind == "recording-completed":
            self._reread_recording(room_sid)
            self.recordings_changed.emit(room_sid)

    def _room_ended(self, room_sid: str) -> None:
        host = self.host
        host.forget_room(room_sid)
        row = host.rooms_model.row_of(room_sid)
        if row >= 0:
            host.rooms_model.remove_at(row)
        if self._selected(room_sid):
            host.participants_model.set_records([])

    def _newcomer(self, event: RoomEvent) -> None:
        """Someone joined: post their rules, so whoever is muted stays muted for them too."""
        host, controls = self.host, self.host.room_controls
        room_sid, who = event.room_sid, event.participant_identity
        if controls is None:
            return
        joined = Participant(event.get("ParticipantSid"), room_sid, who, "", "", None)

        def on_done(given: list[str]) -> None:
            if given:
                host.log_written.emit(f"{who} joined {event.room_name}: the muted stay muted")

        def on_error(error: object) -> None:
            host.error_reported.emit(f"Could not keep {who} from hearing the muted: {_said(error)}")

        host.runner.submit(lambda: controls.welcome(room_sid, joined), on_done, on_error)

    def _reread_recording(self, room_sid: str) -> None:
        """A recording completed: a track left, or someone stopped recording (here or not)."""
        controls = self.host.room_controls
        if controls is None:
            return

        def on_error(error: object) -> None:
            log.warning("could not read the recording rules of %s: %s", room_sid, error)

        self.host.runner.submit(
            lambda: controls.read_recording(room_sid),
            lambda recording: self._show_recording(room_sid, recording),
            on_error,
        )
