"""The rooms' simulated media: the track each participant publishes, who hears whom, recordings.

Every phone participant publishes one audio track when it joins. Subscribe Rules decide who
receives it; the room's Recording Rules decide whether it is recorded. Both are enforced
declaratively, as Twilio does: whenever tracks come or go, or rules change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.ids import new_sid
from sandbox.models import Participant, Recording, Room, Track
from sandbox.track_rules import selected, subscribed

CONTAINER, CODEC = "mka", "PCMU"  # a phone's audio: G.711 µ-law in Matroska audio
EPOCH = datetime(2015, 1, 1, tzinfo=UTC)  # the point recording offsets count from

# (room, event, participant or None, extra fields) -> None; the state lock is held.
Emit = Callable[[Room, str, Participant | None, dict[str, str]], None]


@dataclass(frozen=True)
class Hearing:
    """Whom one connected participant hears: the identities whose audio reaches them."""

    participant: Participant
    hears: tuple[str, ...]


def recording_uri(recording: Recording) -> str:
    """The relative URL of a recording's metadata, as room callbacks carry it."""
    return f"/v1/Recordings/{recording.sid}"


class RoomMedia:
    """Publishes participants' tracks and keeps every room's recordings in step with its rules.

    Its methods run with the sandbox state's lock held.
    """

    def __init__(self, now: Callable[[], datetime], emit: Emit) -> None:
        self._now = now
        self._emit = emit
        self.recordings: dict[str, Recording] = {}
        self._recording: dict[str, Recording] = {}  # track SID -> its recording in progress

    # -- tracks --------------------------------------------------------------------------------

    def publish(self, room: Room, participant: Participant, people: list[Participant]) -> None:
        """A participant joined: it publishes its audio track (unnamed: the name is its SID)."""
        sid = new_sid("MT")
        participant.tracks.append(Track(sid, sid, "audio", participant.sid, participant.identity))
        self.sync_recordings(room, people)

    def unpublish(self, room: Room, participant: Participant, people: list[Participant]) -> None:
        """A participant is leaving: its tracks are gone, and so are their recordings."""
        participant.tracks = []
        self.sync_recordings(room, [p for p in people if p.sid != participant.sid])

    @staticmethod
    def tracks_of(people: list[Participant]) -> list[Track]:
        """The tracks published by these participants, in order."""
        return [track for person in people for track in person.tracks]

    def hearing(self, people: list[Participant]) -> list[Hearing]:
        """For each connected participant, the identities whose audio tracks they receive."""
        tracks = [t for t in self.tracks_of(people) if t.kind == "audio"]
        result = []
        for person in people:
            heard = subscribed(person.subscribe_rules, tracks, person.sid)
            names = dict.fromkeys(t.publisher_identity for t in heard)  # in order, once each
            result.append(Hearing(person, tuple(names)))
        return result

    # -- recordings ----------------------------------------------------------------------------

    @staticmethod
    def rules_in_force(room: Room) -> list[dict]:
        """The room's Recording Rules; record-on-connect rooms start from "include all"."""
        if room.recording_rules_set is not None:
            return room.recording_rules
        return [{"type": "include", "all": True}] if room.record_on_connect else []

    def sync_recordings(self, room: Room, people: list[Participant]) -> None:
        """Start a recording for each track the rules now take in; complete the others."""
        tracks = self.tracks_of(people) if room.status == "in-progress" else []
        wanted = {t.sid for t in selected(self.rules_in_force(room), tracks)}
        for recording in [r for r in self._recording.values() if r.room_sid == room.sid]:
            if recording.track.sid not in wanted:
                self._complete(room, recording)
        by_sid = {p.sid: p for p in people}
        for track in tracks:
            if track.sid in wanted and track.sid not in self._recording:
                self._start(room, by_sid[track.publisher_sid], track)

    def of_room(self, room_sid: str) -> list[Recording]:
        """A room's recordings, oldest first."""
        found = [r for r in self.recordings.values() if r.room_sid == room_sid]
        return sorted(found, key=lambda r: r.created)

    def _start(self, room: Room, participant: Participant, track: Track) -> None:
        now = self._now()
        offset = int((room.created - EPOCH).total_seconds() * 1000)
        recording = Recording(
            new_sid("RT"), room.sid, participant.sid, participant.identity, track, now, offset
        )
        self.recordings[recording.sid] = self._recording[track.sid] = recording
        self._emit(room, "recording-started", None, self._fields(recording))

    def _complete(self, room: Room, recording: Recording) -> None:
        recording.ended = self._now()
        del self._recording[recording.track.sid]
        fields = self._fields(recording)
        fields.update(
            MediaUri=f"{recording_uri(recording)}/Media",
            Duration=str(recording.duration),
            Size=str(recording.size),
        )
        self._emit(room, "recording-completed", None, fields)

    @staticmethod
    def _fields(recording: Recording) -> dict[str, str]:
        track = recording.track
        return {
            "RecordingSid": recording.sid,
            "RecordingUri": recording_uri(recording),
            "SourceSid": track.sid,
            "TrackName": track.name,
            "Type": track.kind,
            "Container": CONTAINER,
            "Codec": CODEC,
            "OffsetFromTwilioVideoEpoch": str(recording.offset_ms),
            "ParticipantSid": recording.participant_sid,
            "ParticipantIdentity": recording.participant_identity,
        }
