"""What the team API asks of Twilio, through the console's gateway (the official SDK)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from urllib.parse import urlencode

from console.core.calls.records import CALL_EVENTS, Call
from console.core.gateways.gateway import Gateway, TwilioError
from webhook.names import free_identity
from webhook.twiml import join_room

ROOM_EXISTS = 53113  # Twilio's answer when a room of that name is already in progress
DUPLICATE_IDENTITY = 53205


class IdentityTaken(TwilioError):
    """Moving this participant would disconnect someone of the same identity in the room."""

    def __init__(self, identity: str, room: str) -> None:
        super().__init__(
            f"{identity} is already in {room}; moving would disconnect them",
            DUPLICATE_IDENTITY,
            409,
        )


class IdentityInUse(Exception):
    """Dialing would put a second participant of this identity in the room (Twilio would
    disconnect the first, error 53205); suggestion is a free variant."""

    def __init__(self, identity: str, room: str, suggestion: str) -> None:
        super().__init__(
            f"{identity} is already connected in {room}, or being dialed into it. Dialing in a "
            f"second {identity} would disconnect the first one (Twilio error "
            f"{DUPLICATE_IDENTITY}); use {suggestion} instead."
        )
        self.identity, self.room, self.suggestion = identity, room, suggestion


class TeamTwilio:
    """Rooms, calls and numbers for the team, with the server's public URL in every callback."""

    def __init__(self, gateway: Gateway, public_url: Callable[[], str]) -> None:
        self.gateway = gateway
        self._public_url = public_url

    @property
    def public_url(self) -> str:
        """The URL Twilio reaches this server at (it may be set after the server started)."""
        return self._public_url().rstrip("/")

    def outbound_url(self, room: str, identity: str) -> str:
        """The signed URL Twilio fetches when the callee answers (room and identity inside)."""
        return f"{self.public_url}/voice/outbound?{urlencode({'room': room, 'identity': identity})}"

    def call_status_url(self, room: str = "", identity: str = "") -> str:
        """Where Twilio reports a call's progress; a dialed call's room and identity ride in
        the signed URL, so even a status that beats the dial's own record names them."""
        query = urlencode({"room": room, "identity": identity}) if room else ""
        return f"{self.public_url}/voice/status" + (f"?{query}" if query else "")

    @property
    def room_status_url(self) -> str:
        return f"{self.public_url}/video/status"

    def ensure_room(self, name: str) -> set[str]:
        """The identities connected in the room, creating it (group) when it is missing."""
        room = self.gateway.find_room(name)
        if room is not None:
            return {p.identity for p in self.gateway.list_participants(room.sid)}
        try:
            self.gateway.create_room(name, status_callback=self.room_status_url)
        except TwilioError as error:
            if error.code != ROOM_EXISTS:
                raise
        return set()

    def dial(
        self,
        to: str,
        from_: str,
        room: str,
        identity: str,
        dialing: Iterable[str] = (),
        replace: bool = False,
    ) -> Call:
        """Create the room if missing, then place the call (never sent twice).

        IdentityInUse, and no call, when identity is connected in the room or among dialing
        (the identities of calls into the room still ringing or in progress), unless replace:
        the operator chose to dial anyway, and the one in the room is disconnected (53205).
        """
        taken = self.ensure_room(room) | set(dialing)
        if identity and identity in taken and not replace:
            raise IdentityInUse(identity, room, free_identity(identity, taken))
        return self.gateway.place_call(
            to,
            from_,
            self.outbound_url(room, identity),
            self.call_status_url(room, identity),
            CALL_EVENTS,
        )

    def put_in_room(self, call_sid: str, room: str, identity: str) -> tuple[Call, str]:
        """Redirect a live call into room under a free variant of identity; (call, identity)."""
        free = free_identity(identity, self.ensure_room(room)) if identity else identity
        return self.gateway.redirect_call(call_sid, join_room(room, free)), free

    def move(self, call_sid: str, identity: str, destination: str) -> Call:
        """Redirect a connected call to another room, keeping its identity."""
        if identity in self.ensure_room(destination):
            raise IdentityTaken(identity, destination)
        return self.gateway.redirect_call(call_sid, join_room(destination, identity))
