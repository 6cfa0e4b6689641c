"""The sandbox's mutable records of rooms, participants, calls and numbers (guarded by a lock)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

CALL_TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


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
    start_time: datetime | None = None
    end_time: datetime | None = None
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
