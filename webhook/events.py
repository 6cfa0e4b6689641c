"""Immutable, typed event objects for Twilio callbacks, and their off-thread delivery."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

log = logging.getLogger(__name__)

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


def _frozen(fields: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(fields))


@dataclass(frozen=True)
class CallbackEvent:
    """A callback Twilio sent, with every form field it carried."""

    fields: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _frozen(self.fields))

    def get(self, name: str, default: str = "") -> str:
        """The value of one form field, or default."""
        return self.fields.get(name, default)


@dataclass(frozen=True)
class CallStatusEvent(CallbackEvent):
    """A call progress callback (POST /voice/status)."""

    @property
    def call_sid(self) -> str:
        return self.get("CallSid")

    @property
    def status(self) -> str:
        return self.get("CallStatus")

    @property
    def sequence_number(self) -> int:
        try:
            return int(self.get("SequenceNumber", "0"))
        except ValueError:
            return 0

    @property
    def error_code(self) -> str:
        return self.get("ErrorCode")

    @property
    def is_final(self) -> bool:
        """Whether the call has ended (completed, busy, no-answer, failed, canceled)."""
        return self.status in FINAL_CALL_STATUSES


@dataclass(frozen=True)
class RoomEvent(CallbackEvent):
    """A Video room status callback (POST /video/status)."""

    @property
    def kind(self) -> str:
        return self.get("StatusCallbackEvent")

    @property
    def room_sid(self) -> str:
        return self.get("RoomSid")

    @property
    def room_name(self) -> str:
        return self.get("RoomName")

    @property
    def participant_identity(self) -> str:
        return self.get("ParticipantIdentity")


@dataclass(frozen=True)
class RequestLogged:
    """One request the webhook answered: for the operator's event log."""

    method: str
    path: str
    status: int
    detail: str = ""


@dataclass(frozen=True)
class CallerWaiting:
    """An incoming call was put on hold for the operator (sent once, when the hold begins).

    The caller stays on hold until the operator redirects the call (calls(sid).update(twiml=…))
    or hangs up; a hang-up arrives as a CallStatusEvent with a final status for call_sid.
    """

    call_sid: str
    from_: str
    to: str
    since: datetime  # timezone-aware UTC: when the webhook put the call on hold
    identity: str = ""  # the identity the routes file suggests for this caller
    room: str = ""  # wait_for_room: the room the caller joins by themselves once it starts


@dataclass(frozen=True)
class RoutesLoaded:
    """The webhook (re)read its routes file; error is '' when the new rules are in force."""

    path: str
    error: str = ""


Event = CallStatusEvent | RoomEvent | RequestLogged | CallerWaiting | RoutesLoaded


class EventDispatcher:
    """Hands events to a consumer on its own thread, so Twilio's answer never waits for it."""

    def __init__(self, on_event: Callable[[Event], object] | None) -> None:
        self._on_event = on_event
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def wanted(self) -> bool:
        """Whether anyone consumes events (a standalone webhook may have no consumer)."""
        return self._on_event is not None

    def submit(self, event: Event) -> None:
        """Queue an event for the consumer; returns at once."""
        if self._on_event is None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="webhook-events", daemon=True
                )
                self._thread.start()
        self._queue.put(event)

    def close(self, timeout: float = 1.0) -> None:
        """Deliver what is queued, then stop the delivery thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._on_event(event)  # type: ignore[misc]
            except Exception:
                log.exception("event consumer failed on %s", type(event).__name__)
