"""Rooms, participants, calls and numbers behind one lock, with Twilio's rules for rooms."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from sandbox.clock import Clock
from sandbox.errors import TwilioApiError, UnknownResource
from sandbox.ids import new_sid, random_identity
from sandbox.models import DEFAULT_ROOM_TIMEOUT, Call, CallError, Participant, PhoneNumber, Room
from sandbox.room_media import RoomMedia

MAX_PARTICIPANTS = 50
MAX_PHONE_PARTICIPANTS = 35
MAX_NAME_LENGTH = 128
ROOM_TYPES = ("group", "go", "peer-to-peer", "group-small")

# (room sid, url, fields, method) -> None; must not block.
RoomEventSink = Callable[[str, str, dict[str, str], str], None]


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Video callbacks carry."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SandboxState:
    """Everything the sandbox knows; every method takes the one lock."""

    def __init__(self, account_sid: str, clock: Clock, room_events: RoomEventSink) -> None:
        self.account_sid = account_sid
        self.clock = clock
        self.lock = threading.RLock()
        self.rooms: dict[str, Room] = {}
        self.participants: dict[str, Participant] = {}
        self.calls: dict[str, Call] = {}
        self.numbers: dict[str, PhoneNumber] = {}
        self.caller_ids: dict[str, PhoneNumber] = {}
        self.errors: list[CallError] = []
        self._room_events = room_events
        self.media = RoomMedia(clock.now, self._emit)
        self.rooms_changed: Callable[[], None] = lambda: None  # rooms came, went or emptied

    # -- numbers -------------------------------------------------------------------------------

    def add_number(self, number: str, friendly_name: str, verified_only: bool = False) -> None:
        """Give the account a number, or a verified caller ID when verified_only."""
        now = self.clock.now()
        record = PhoneNumber(new_sid("PN"), number, friendly_name, now, now)
        with self.lock:
            (self.caller_ids if verified_only else self.numbers)[record.sid] = record

    def number_by_value(self, number: str) -> PhoneNumber | None:
        """The owned number with this E.164 value, if any."""
        with self.lock:
            return next((n for n in self.numbers.values() if n.phone_number == number), None)

    def is_caller_id(self, number: str) -> bool:
        """Whether the account may call from this number."""
        with self.lock:
            known = list(self.numbers.values()) + list(self.caller_ids.values())
            return any(n.phone_number == number for n in known)

    # -- errors --------------------------------------------------------------------------------

    def record_error(self, call_sid: str, code: int, message: str, url: str = "") -> CallError:
        """Note an error where tests and the operator can see it."""
        error = CallError(call_sid, code, message, url, self.clock.now())
        with self.lock:
            self.errors.append(error)
            call = self.calls.get(call_sid)
            if call is not None and call.error is None and code in (11200, 12100):
                call.error = error
        return error

    # -- rooms ---------------------------------------------------------------------------------

    def create_room(
        self,
        unique_name: str,
        room_type: str = "group",
        max_participants: int = MAX_PARTICIPANTS,
        status_callback: str = "",
        status_callback_method: str = "POST",
        *,
        empty_room_timeout: int = DEFAULT_ROOM_TIMEOUT,
        unused_room_timeout: int = DEFAULT_ROOM_TIMEOUT,
        record_on_connect: bool = False,
        recording_rules: list[dict] | None = None,
    ) -> Room:
        """Create an in-progress room; its UniqueName must be free among in-progress rooms.

        It ends by itself after unused_room_timeout minutes if nobody joins, or
        empty_room_timeout minutes after the last participant left.
        """
        if room_type not in ROOM_TYPES:
            raise TwilioApiError(400, 53108, f"RoomType is not valid: {room_type!r}")
        if not 1 <= max_participants <= MAX_PARTICIPANTS:
            raise TwilioApiError(400, 53107, "Room MaxParticipants is out of range")
        if len(unique_name) > MAX_NAME_LENGTH:
            raise TwilioApiError(400, 53101, "Room name is too long")
        now = self.clock.now()
        sid = new_sid("RM")
        with self.lock:
            if unique_name and self._in_progress_room_named(unique_name) is not None:
                raise TwilioApiError(400, 53113, "Room exists")
            room = Room(
                sid=sid,
                unique_name=unique_name or sid,
                type=room_type,
                status="in-progress",
                created=now,
                updated=now,
                max_participants=max_participants,
                status_callback=status_callback,
                status_callback_method=status_callback_method,
                empty_room_timeout=empty_room_timeout,
                unused_room_timeout=unused_room_timeout,
                idle_since=now,
                record_on_connect=record_on_connect,
            )
            if recording_rules is not None:
                room.recording_rules, room.recording_rules_set = recording_rules, now
            self.rooms[sid] = room
            self._emit(room, "room-created")
        self.rooms_changed()
        return room

    def _in_progress_room_named(self, name: str) -> Room | None:
        return next(
            (r for r in self.rooms.values() if r.unique_name == name and r.status == "in-progress"),
            None,
        )

    def find_room(self, sid_or_name: str) -> Room:
        """A room by SID, or an in-progress room by UniqueName; UnknownResource if none."""
        with self.lock:
            room = self.rooms.get(sid_or_name) or self._in_progress_room_named(sid_or_name)
            if room is None:
                raise UnknownResource(f"Room {sid_or_name}")
            return room

    def end_room(self, room: Room) -> Room:
        """Complete a room and disconnect everyone in it (53112 if it is not in progress)."""
        with self.lock:
            if room.status != "in-progress":
                raise TwilioApiError(400, 53112, "Status is invalid: the Room is not in-progress")
            for participant in self.participants_of(room.sid, "connected"):
                self._disconnect(participant, room, hang_up=True)
            now = self.clock.now()
            room.status = "completed"
            room.end_time = room.updated = now
            room.idle_since = None
            self._emit(room, "room-ended")
        self.rooms_changed()
        return room

    def list_rooms(self, status: str | None, unique_name: str | None) -> list[Room]:
        """Rooms, newest first, filtered like GET /v1/Rooms."""
        with self.lock:
            rooms = [
                r
                for r in self.rooms.values()
                if (status is None or r.status == status)
                and (unique_name is None or r.unique_name == unique_name)
            ]
        return sorted(rooms, key=lambda r: r.created, reverse=True)

    # -- participants --------------------------------------------------------------------------

    def participants_of(self, room_sid: str, status: str | None = None) -> list[Participant]:
        """The room's participants in order of arrival, optionally by status."""
        with self.lock:
            found = [
                p
                for p in self.participants.values()
                if p.room_sid == room_sid and (status is None or p.status == status)
            ]
        return sorted(found, key=lambda p: p.created)

    def find_participant(self, room: Room, sid_or_identity: str) -> Participant:
        """A participant by SID, or by identity (the connected one first); UnknownResource."""
        with self.lock:
            found = self.participants.get(sid_or_identity)
            if found is not None and found.room_sid == room.sid:
                return found
            same = [p for p in self.participants_of(room.sid) if p.identity == sid_or_identity]
            same.sort(key=lambda p: (p.status == "connected", p.created), reverse=True)
            if not same:
                raise UnknownResource(f"Participant {sid_or_identity}")
            return same[0]

    def join(self, room_name: str, identity: str, call: Call) -> Participant | None:
        """Put a call into an in-progress group room, as <Connect><Room> does.

        Returns None when there is no such room (the call moves on to the next verb); raises
        TwilioApiError 53105 when the room is full.
        """
        with self.lock:
            room = self._in_progress_room_named(room_name) or self.rooms.get(room_name)
            if room is None or room.status != "in-progress" or room.type != "group":
                return None
            if call.ended or call.pending is not None:
                return None
            connected = self.participants_of(room.sid, "connected")
            identity = identity or random_identity()
            earlier = [p for p in connected if p.identity == identity]
            others = [p for p in connected if p.identity != identity]
            phones = [p for p in others if p.call_sid]
            if len(others) >= room.max_participants or len(phones) >= MAX_PHONE_PARTICIPANTS:
                raise TwilioApiError(400, 53105, "Room contains too many Participants")
            for old in earlier:
                message = "Participant disconnected because of duplicate identity"
                self.record_error(old.call_sid, 53205, message)
                self._disconnect(old, room, hang_up=True)
            now = self.clock.now()
            participant = Participant(
                new_sid("PA"), room.sid, identity, now, now, call_sid=call.sid
            )
            self.participants[participant.sid] = participant
            room.idle_since, room.ever_joined = None, True
            self._emit(room, "participant-connected", participant)
            self.media.publish(room, participant, [*others, participant])
        self.rooms_changed()
        return participant

    def disconnect(self, participant: Participant, hang_up: bool = True) -> Participant:
        """Disconnect a participant; its call ends too unless the call is what ended."""
        with self.lock:
            if participant.status == "connected":
                self._disconnect(participant, self.rooms[participant.room_sid], hang_up)
            return participant

    def _disconnect(self, participant: Participant, room: Room, hang_up: bool) -> None:
        people = self.participants_of(room.sid, "connected")
        self.media.unpublish(room, participant, people)
        now = self.clock.now()
        participant.status = "disconnected"
        participant.end_time = participant.updated = now
        room.updated = now
        if room.status == "in-progress" and all(p.sid == participant.sid for p in people):
            room.idle_since = now
            self.rooms_changed()
        self._emit(room, "participant-disconnected", participant)
        call = self.calls.get(participant.call_sid)
        if hang_up and call is not None and not call.ended:
            request_hangup(call, "completed")

    def participant_of_call(self, call_sid: str) -> Participant | None:
        """The connected participant a call carries, if any."""
        with self.lock:
            return next(
                (
                    p
                    for p in self.participants.values()
                    if p.call_sid == call_sid and p.status == "connected"
                ),
                None,
            )

    # -- room callbacks ------------------------------------------------------------------------

    def set_recording_rules(self, room: Room, rules: list[dict]) -> Room:
        """Replace a room's Recording Rules; recordings start and stop to match at once."""
        with self.lock:
            room.recording_rules, room.recording_rules_set = rules, self.clock.now()
            self.media.sync_recordings(room, self.participants_of(room.sid, "connected"))
        return room

    def set_subscribe_rules(self, participant: Participant, rules: list[dict]) -> Participant:
        """Replace a participant's Subscribe Rules (what it receives follows at once)."""
        with self.lock:
            now = self.clock.now()
            participant.subscribe_rules = rules
            participant.subscribe_rules_created = participant.subscribe_rules_created or now
            participant.subscribe_rules_updated = now
        return participant

    def _emit(
        self,
        room: Room,
        event: str,
        participant: Participant | None = None,
        extra: dict[str, str] | None = None,
    ) -> None:
        if not room.status_callback:
            return
        room.sequence += 1
        now = self.clock.now()
        fields = {
            "AccountSid": self.account_sid,
            "RoomName": room.unique_name,
            "RoomSid": room.sid,
            "RoomStatus": "completed" if event == "room-ended" else room.status,
            "RoomType": room.type,
            "StatusCallbackEvent": event,
            "Timestamp": iso(now),
            "SequenceNumber": str(room.sequence - 1),
        }
        if event == "room-ended":
            fields["RoomDuration"] = str(int((now - room.created).total_seconds()))
        if participant is not None:
            fields["ParticipantSid"] = participant.sid
            fields["ParticipantIdentity"] = participant.identity
            fields["ParticipantStatus"] = participant.status
            if participant.status == "disconnected":
                duration = (participant.end_time or now) - participant.created
                fields["ParticipantDuration"] = str(int(duration.total_seconds()))
        fields.update(extra or {})
        self._room_events(room.sid, room.status_callback, fields, room.status_callback_method)


def request_hangup(call: Call, status: str) -> None:
    """Ask a call's player to end the call with this status (caller holds the state lock)."""
    if call.pending is None or call.pending[0] != "hangup":
        call.pending = ("hangup", status)
    call.wake.set()
