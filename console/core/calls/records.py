"""Plain domain records the gateway returns, so widgets never see SDK objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Room:
    """An in-progress (or ended) Video room."""

    sid: str
    unique_name: str
    status: str
    type: str
    created: datetime | None
    max_participants: int
    participant_count: int = 0
    recording: bool = False  # the room's Recording Rules take its tracks in


@dataclass(frozen=True)
class Participant:
    """Someone in a room; kind is 'phone', 'sip' or 'video'."""

    sid: str
    room_sid: str
    identity: str
    status: str
    kind: str
    connected_at: datetime | None
    call_sid: str = ""
    call_status: str = ""
    muted: bool = False  # nobody else in the room receives their audio (Subscribe Rules)


CALL_EVENTS = ("initiated", "ringing", "answered", "completed")  # status callbacks we ask for
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True)
class Call:
    """A voice call the console placed or saw."""

    sid: str
    to: str
    from_: str
    status: str
    direction: str
    duration: int = 0
    error_code: str = ""
    error_message: str = ""
    room: str = ""
    identity: str = ""
    placed_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    sequence: int = -1

    @property
    def finished(self) -> bool:
        """Whether the call has reached a final status."""
        return self.status in FINAL_CALL_STATUSES


@dataclass(frozen=True)
class Recording:
    """One recorded track of a room: processing while it records, then completed."""

    sid: str
    room_sid: str
    track_name: str
    kind: str  # audio or video
    status: str
    duration: int  # seconds (0 while it records)
    size: int  # bytes (0 while it records)
    created: datetime | None
    participant_sid: str = ""
    identity: str = ""  # whose track, when the console knows the participant

    @property
    def recording(self) -> bool:
        """Whether the track is still being recorded."""
        return self.status == "processing"


@dataclass(frozen=True)
class PhoneNumber:
    """A number the account owns, usable as caller ID."""

    sid: str
    number: str
    friendly_name: str
    voice_url: str = ""
    status_callback: str = ""
