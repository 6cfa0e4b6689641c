"""The sandbox's mutable records of rooms, participants, tracks, recordings, calls and numbers.

All of them are guarded by the state's lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CALL_TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
AUDIO_BYTES_PER_SECOND = 8000  # a phone's audio, PCMU at 64 kbit/s
CONTAINER_BYTES = 1024  # the Matroska header of a recording
DEFAULT_ROOM_TIMEOUT = 5  # minutes, for empty_room_timeout and unused_room_timeout


@dataclass
class Room:
    """A Video room."""

    sid: str
    unique_name: str
    type: str
    status: str
    created: datetime
    updated: datetime
    max_participants: int = 50
    status_callback: str = ""
    status_callback_method: str = "POST"
    end_time: datetime | None = None
    sequence: int = 0
    empty_room_timeout: int = DEFAULT_ROOM_TIMEOUT  # minutes after the last participant left
    unused_room_timeout: int = DEFAULT_ROOM_TIMEOUT  # minutes after creation if nobody joined
    idle_since: datetime | None = None  # when it last became empty (its creation at first)
    ever_joined: bool = False
    record_on_connect: bool = False
    recording_rules: list[dict] = field(default_factory=list)
    recording_rules_set: datetime | None = None  # when RecordingRules were last given

    @property
    def idle_deadline(self) -> datetime | None:
        """When an in-progress room ends by itself if nobody joins before; None while occupied."""
        if self.status != "in-progress" or self.idle_since is None:
            return None
        minutes = self.empty_room_timeout if self.ever_joined else self.unused_room_timeout
        return self.idle_since + timedelta(minutes=minutes)


@dataclass
class Track:
    """A track a participant publishes; a phone participant publishes one audio track."""

    sid: str
    name: str
    kind: str
    publisher_sid: str
    publisher_identity: str
    priority: str = "standard"


@dataclass
class Participant:
    """Someone in a room; phone participants keep the SID of the call that carries them."""

    sid: str
    room_sid: str
    identity: str
    created: datetime
    updated: datetime
    status: str = "connected"
    end_time: datetime | None = None
    call_sid: str = ""
    tracks: list[Track] = field(default_factory=list)
    subscribe_rules: list[dict] | None = None  # None: Twilio's default, subscribe to all
    subscribe_rules_created: datetime | None = None
    subscribe_rules_updated: datetime | None = None


@dataclass
class Recording:
    """One track's recording: from when the room's rules took the track in until they let go."""

    sid: str
    room_sid: str
    participant_sid: str
    participant_identity: str
    track: Track
    created: datetime
    offset_ms: int  # the room's start, in ms since an epoch common to every room
    ended: datetime | None = None

    @property
    def status(self) -> str:
        """processing while it records, completed once the track stopped being recorded."""
        return "processing" if self.ended is None else "completed"

    @property
    def seconds(self) -> float:
        """How long it recorded (0 while it still records)."""
        return 0.0 if self.ended is None else (self.ended - self.created).total_seconds()

    @property
    def duration(self) -> int:
        """Whole seconds, rounded; a sub-second recording counts 1, as Twilio's do."""
        if self.ended is None:
            return 0
        return max(1, round(self.seconds))

    @property
    def size(self) -> int:
        """Bytes of the recorded audio with its container (0 while it records)."""
        if self.ended is None:
            return 0
        return CONTAINER_BYTES + int(self.seconds * AUDIO_BYTES_PER_SECOND)


@dataclass
class CallError:
    """An error the sandbox hit while playing a call (12100, 11200, 53205 …)."""

    call_sid: str
    code: int
    message: str
    url: str
    date: datetime


@dataclass
class Call:
    """A voice call, outbound-api or inbound, with what its player needs to be interrupted."""

    sid: str
    to: str
    from_: str
    direction: str
    created: datetime
    updated: datetime
    status: str = "queued"
    url: str = ""
    method: str = "POST"
    twiml: str = ""
    status_callback: str = ""
    status_callback_method: str = "POST"
    status_callback_events: frozenset[str] = frozenset({"completed"})
    timeout: int = 60
    phone_number_sid: str | None = None
    start_time: datetime | None = None  # when Twilio began dialing (after the CPS queue)
    answered: datetime | None = None  # when the callee answered; durations count from here
    end_time: datetime | None = None
    queue_seconds: float = 0.0  # expected wait in the CPS queue, then the wait it had
    digits: str = ""
    sequence: int = 0
    error: CallError | None = None
    heard: list[tuple[str, str]] = field(default_factory=list)  # ("Say", text) / ("Play", url)
    # Requests from outside the player: ('hangup', status) or ('redirect', url, method, twiml).
    pending: tuple | None = None
    wake: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def ended(self) -> bool:
        """Whether the call reached a final status."""
        return self.status in CALL_TERMINAL

    @property
    def duration(self) -> int | None:
        """Whole seconds from answer to hang-up; None while live or if it never connected."""
        if self.answered is None or self.end_time is None:
            return None
        return int((self.end_time - self.answered).total_seconds())


@dataclass
class PhoneNumber:
    """A number the sandbox account owns (IncomingPhoneNumbers) or has verified (caller IDs)."""

    sid: str
    phone_number: str
    friendly_name: str
    created: datetime
    updated: datetime
    voice_url: str = ""
    voice_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
