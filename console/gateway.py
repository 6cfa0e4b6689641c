"""The one way the console talks to Twilio: wraps twilio.rest.Client, returns plain records."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from requests import RequestException
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from console.records import Call, Participant, PhoneNumber, Room

T = TypeVar("T")


class TwilioError(Exception):
    """A failed Twilio request, in words an operator can act on, with Twilio's code."""

    def __init__(self, message: str, code: int = 0, status: int = 0) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status

    def __str__(self) -> str:
        return f"{self.message} (Twilio error {self.code})" if self.code else self.message


def _translated(method: Callable[..., T]) -> Callable[..., T]:
    """Turn SDK and network exceptions into TwilioError."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except TwilioRestException as error:
            message = error.msg or f"Twilio answered HTTP {error.status}"
            raise TwilioError(message, int(error.code or 0), int(error.status or 0)) from None
        except RequestException as error:
            raise TwilioError(f"Could not reach Twilio: {type(error).__name__}") from None

    return wrapper


def _room(resource: Any, participant_count: int = 0) -> Room:
    return Room(
        sid=resource.sid,
        unique_name=resource.unique_name,
        status=resource.status,
        type=resource.type,
        created=resource.date_created,
        max_participants=int(resource.max_participants or 0),
        participant_count=participant_count,
    )


def _call(resource: Any) -> Call:
    return Call(
        sid=resource.sid,
        to=resource.to or "",
        from_=resource._from or "",
        status=resource.status,
        direction=resource.direction or "",
        duration=int(resource.duration or 0),
    )


class Gateway:
    """Every Twilio request the console makes; widgets never call the SDK directly."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @_translated
    def check_credentials(self) -> str:
        """Fetch the account; returns its friendly name, or raises TwilioError (e.g. 20003)."""
        return self._client.api.v2010.accounts(self._client.account_sid).fetch().friendly_name

    @_translated
    def list_rooms(self) -> list[Room]:
        """In-progress rooms, each with its count of connected participants."""
        rooms = self._client.video.v1.rooms.list(status="in-progress")
        return [_room(room, len(self._connected(room.sid))) for room in rooms]

    @_translated
    def create_room(
        self, unique_name: str, max_participants: int | None = None, status_callback: str = ""
    ) -> Room:
        """Create a group room (Connect/Room joins only in-progress group rooms)."""
        options: dict[str, Any] = {"unique_name": unique_name, "type": "group"}
        if max_participants:
            options["max_participants"] = max_participants
        if status_callback:
            options["status_callback"] = status_callback
        return _room(self._client.video.v1.rooms.create(**options))

    @_translated
    def find_room(self, unique_name: str) -> Room | None:
        """The in-progress room with this unique name, or None."""
        rooms = self._client.video.v1.rooms.list(
            status="in-progress", unique_name=unique_name, limit=1
        )
        return _room(rooms[0]) if rooms else None

    @_translated
    def end_room(self, room_sid: str) -> None:
        """Complete a room, which disconnects everyone in it."""
        self._client.video.v1.rooms(room_sid).update(status="completed")

    @_translated
    def list_participants(self, room_sid: str) -> list[Participant]:
        """The connected participants of a room."""
        return [
            Participant(
                sid=p.sid,
                room_sid=p.room_sid,
                identity=p.identity,
                status=p.status,
                kind="",  # the Video API does not say; the console knows its own calls
                connected_at=p.start_time,
            )
            for p in self._connected(room_sid)
        ]

    @_translated
    def disconnect_participant(self, room_sid: str, participant_sid: str) -> None:
        """Disconnect one participant (its call ends too)."""
        self._client.video.v1.rooms(room_sid).participants(participant_sid).update(
            status="disconnected"
        )

    @_translated
    def list_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers, for the caller-ID choice."""
        return [
            PhoneNumber(n.sid, n.phone_number, n.friendly_name or "", n.voice_url or "")
            for n in self._client.incoming_phone_numbers.list()
        ]

    @_translated
    def set_voice_url(self, number_sid: str, voice_url: str) -> PhoneNumber:
        """Point one of the account's numbers at a voice webhook; returns the updated number."""
        n = self._client.incoming_phone_numbers(number_sid).update(
            voice_url=voice_url, voice_method="POST"
        )
        return PhoneNumber(n.sid, n.phone_number, n.friendly_name or "", n.voice_url or "")

    @_translated
    def place_call(
        self, to: str, from_: str, url: str, status_callback: str, events: Iterable[str]
    ) -> Call:
        """Create one outbound call; never retried, since the first request may have succeeded."""
        return _call(
            self._client.calls.create(
                to=to,
                from_=from_,
                url=url,
                status_callback=status_callback,
                status_callback_event=list(events),
            )
        )

    @_translated
    def hang_up(self, call_sid: str) -> None:
        """End a call: completed if answered, canceled if still ringing."""
        self._client.calls(call_sid).update(status="completed")

    def _connected(self, room_sid: str) -> list[Any]:
        return self._client.video.v1.rooms(room_sid).participants.list(status="connected")
