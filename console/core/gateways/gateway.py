"""The one way the console talks to Twilio: wraps twilio.rest.Client, returns plain records."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from requests import ConnectionError as RequestsConnectionError
from requests import ConnectTimeout, RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from console.core.calls.records import Call, Participant, PhoneNumber, Recording, Room

if TYPE_CHECKING:
    from console.core.gateways.fanout import FanOut

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_DELAYS = (0.2, 0.4, 0.8)  # seconds before each retry of a read: at most 4 tries
RECONCILE_DELAYS = (1.0, 2.0, 4.0)  # after a create went unanswered: list now, then after each
CLOCK_SKEW = timedelta(seconds=2)  # our clock vs Twilio's date_created (whole seconds)
AMBIGUOUS_STATUSES = frozenset({502, 504})  # a proxy gave up: the create may have gone through
CALL_LIST_LIMIT = 200
PLACED_MEMORY = 1000  # SIDs of calls this gateway placed, remembered for reconciling


class TwilioError(Exception):
    """A failed Twilio request, in words an operator can act on, with Twilio's code."""

    def __init__(self, message: str, code: int = 0, status: int = 0) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status
        self.maybe_sent = False  # a write Twilio may have carried out though it did not say so

    def __str__(self) -> str:
        return f"{self.message} (Twilio error {self.code})" if self.code else self.message


def _http_status(error: BaseException) -> int:
    """The HTTP status of an SDK error (list pages raise a bare TwilioException), else 0."""
    if isinstance(error, TwilioRestException):
        return int(error.status or 0)
    response = error.args[1] if isinstance(error, TwilioException) and len(error.args) > 1 else None
    return int(getattr(response, "status_code", 0) or 0)


def _where(error: BaseException) -> str:
    """' at host:port' for a network error that says where it was going, else ''."""
    url = getattr(getattr(error, "request", None), "url", None)  # requests
    if url:
        return f" at {urlsplit(url).netloc}"
    host, port = getattr(error, "host", None), getattr(error, "port", None)  # aiohttp
    return f" at {host}:{port}" if host and port else ""


def _translate(error: BaseException) -> TwilioError:
    """An SDK or network exception as a TwilioError."""
    if isinstance(error, TwilioRestException):
        message = error.msg or f"Twilio answered HTTP {error.status}"
        return TwilioError(message, int(error.code or 0), int(error.status or 0))
    if not isinstance(error, TwilioException):  # network trouble, from requests or aiohttp
        return TwilioError(f"Could not reach Twilio{_where(error)}: {type(error).__name__}")
    status = _http_status(error)
    try:
        body = json.loads(error.args[1].text) if status else {}
    except (AttributeError, TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    message = str(body.get("message") or (f"Twilio answered HTTP {status}" if status else error))
    return TwilioError(message, int(body.get("code") or 0), status)


def _transient(error: BaseException) -> bool:
    """Whether a read is worth retrying: network trouble, 429 Too Many Requests, or a 5xx."""
    if not isinstance(error, TwilioException):
        return True
    status = _http_status(error)
    return status == 429 or status >= 500


def _maybe_sent(error: BaseException) -> bool:
    """Whether a failed create may still have reached Twilio (so it must not be sent again)."""
    if isinstance(error, ConnectTimeout):
        return False  # no connection was ever made
    if isinstance(error, RequestsConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return not isinstance(reason, NewConnectionError)  # refused or unresolved: not sent
    if isinstance(error, RequestException):
        return True  # read timeout, connection reset mid-answer, ...
    return _http_status(error) in AMBIGUOUS_STATUSES


def _translated(method: Callable[..., T]) -> Callable[..., T]:
    """Turn SDK and network exceptions into TwilioError (writes: never retried)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except (TwilioException, RequestException) as error:
            translated = _translate(error)
            translated.maybe_sent = _maybe_sent(error)
            raise translated from None

    return wrapper


def _read(method: Callable[..., T]) -> Callable[..., T]:
    """A read (GET): retried with backoff on 429, 5xx and network errors, then translated."""

    @functools.wraps(method)
    def wrapper(self: Gateway, *args: Any, **kwargs: Any) -> T:
        tries = 0
        while True:
            try:
                return method(self, *args, **kwargs)
            except (TwilioException, RequestException) as error:
                tries += 1
                self._sleep(self._retry_delay(method.__name__, error, tries))

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


def _number(resource: Any) -> PhoneNumber:
    return PhoneNumber(
        resource.sid,
        resource.phone_number,
        resource.friendly_name or "",
        resource.voice_url or "",
        resource.status_callback or "",
    )


def _call(resource: Any) -> Call:
    return Call(
        sid=resource.sid,
        to=resource.to or "",
        from_=resource._from or "",
        status=resource.status,
        direction=resource.direction or "",
        duration=int(resource.duration or 0),
        placed_at=resource.date_created,
    )


def _rules(found: Any) -> list[dict[str, Any]]:
    """Subscribe or Recording Rules as Twilio sent them, without the filters a rule leaves null."""
    return [
        {name: value for name, value in rule.items() if value is not None}
        for rule in (found.rules or [])
        if isinstance(rule, dict)
    ]


def _recording(resource: Any) -> Recording:
    grouping = resource.grouping_sids if isinstance(resource.grouping_sids, dict) else {}
    return Recording(
        sid=resource.sid,
        room_sid=resource.room_sid or "",
        track_name=resource.track_name or resource.source_sid or "",
        kind=str(resource.type or ""),
        status=str(resource.status or ""),
        duration=int(resource.duration or 0),
        size=int(resource.size or 0),
        created=resource.date_created,
        participant_sid=grouping.get("participant_sid", ""),
    )


REFRESH_REQUESTS = 16  # requests in flight at once when counting the participants of rooms


async def _count_connected(client: Client, room_sid: str) -> int:
    """The number of connected participants in a room, read with the asyncio client."""
    return len(await client.video.v1.rooms(room_sid).participants.list_async(status="connected"))


class Gateway:
    """Every Twilio request the console makes; widgets never call the SDK directly."""

    def __init__(
        self,
        client: Client,
        *,
        sleep: Callable[[float], object] = time.sleep,
        clock: Callable[[], datetime] | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        reconcile_delays: Sequence[float] = RECONCILE_DELAYS,
    ) -> None:
        self._client = client
        self._closed = threading.Event()  # once set, a failed read is not tried again
        # A wait between retries ends early when the gateway closes (the app is shutting down).
        self._sleep = self._closed.wait if sleep is time.sleep else sleep
        self._clock = clock or (lambda: datetime.now(UTC))
        self.retry_delays = tuple(retry_delays)
        self.reconcile_delays = tuple(reconcile_delays)
        self._placed: deque[str] = deque(maxlen=PLACED_MEMORY)  # never mistaken for a lost one
        self._placed_lock = threading.Lock()  # workers place calls concurrently
        self._fanout: FanOut | None = None  # the refresh's event-loop thread, from the first
        self._fanout_lock = threading.Lock()

    @_read
    def check_credentials(self) -> str:
        """Fetch the account; returns its friendly name, or raises TwilioError (e.g. 20003)."""
        return self._client.api.v2010.accounts(self._client.account_sid).fetch().friendly_name

    def list_rooms(self) -> list[Room]:
        """In-progress rooms, each with its count of connected participants.

        The counts are fetched side by side (one request a room), so a refresh of many rooms
        takes about as long as the slowest few requests, not the sum of all of them.
        """
        rooms = self._in_progress_rooms()
        if not rooms:
            return []
        from console.core.gateways.fanout import Reads

        counts = self._side_by_side().run(
            Reads(
                _count_connected,
                [room.sid for room in rooms],
                REFRESH_REQUESTS,
                functools.partial(self._retry_delay, "counting participants"),
                self._sleep,
            )
        )
        return [_room(room, count) for room, count in zip(rooms, counts, strict=True)]

    def _side_by_side(self) -> FanOut:
        with self._fanout_lock:
            if self._fanout is None:
                from console.core.gateways.fanout import (
                    FanOut,  # aiohttp loads at the first refresh
                )

                self._fanout = FanOut(self._client)
                weakref.finalize(self, self._fanout.close)  # a gateway dropped unclosed
            return self._fanout

    def close(self) -> None:
        """End the refresh's event-loop thread and its connections (if a refresh started it);
        reads still under way give up instead of retrying."""
        self._closed.set()
        if self._fanout is not None:
            self._fanout.close()

    def _retry_delay(self, what: str, error: BaseException, tries: int) -> float:
        """How long to wait before trying a failed read again; raises TwilioError to give up."""
        if self._closed.is_set() or not _transient(error) or tries > len(self.retry_delays):
            raise _translate(error) from None
        delay = self.retry_delays[tries - 1]
        log.info("%s failed (%s); retrying in %.1f s", what, error, delay)
        return delay

    @_read
    def _in_progress_rooms(self) -> list[Any]:
        return self._client.video.v1.rooms.list(status="in-progress")

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

    @_read
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

    @_read
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

    @_read
    def list_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers, for the caller-ID choice."""
        return [_number(n) for n in self._client.incoming_phone_numbers.list()]

    @_translated
    def set_voice_url(
        self, number_sid: str, voice_url: str, status_callback: str | None = None
    ) -> PhoneNumber:
        """Point one of the account's numbers at a voice webhook (and, if given, its call
        progress callback, which is how the console hears that a waiting caller hung up)."""
        options: dict[str, Any] = {"voice_url": voice_url, "voice_method": "POST"}
        if status_callback is not None:
            options.update(status_callback=status_callback, status_callback_method="POST")
        return _number(self._client.incoming_phone_numbers(number_sid).update(**options))

    def place_call(
        self,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        events: Iterable[str],
        anyway: bool = False,
    ) -> Call:
        """Create one outbound call, sent exactly once; if the answer is lost, find it by listing.

        anyway (the operator chose to dial over an identity already in the room) changes nothing
        here: Twilio itself disconnects the first participant of that identity.

        After a timeout (or a 502/504) the create may have gone through, so it is never sent
        again: calls To/From created since just before sending are listed instead. One match is
        returned; none or several raise TwilioError saying the outcome is unknown.
        """
        before = self._clock()
        try:
            resource = self._client.calls.create(
                to=to,
                from_=from_,
                url=url,
                status_callback=status_callback,
                status_callback_event=list(events),
            )
        except (TwilioException, RequestException) as error:
            if not _maybe_sent(error):
                raise _translate(error) from None
            log.warning("creating the call to %s got no answer (%s); reconciling", to, error)
            call = self._reconcile(to, from_, before, _translate(error))
        else:
            call = _call(resource)
        with self._placed_lock:
            self._placed.append(call.sid)
        return call

    def _reconcile(self, to: str, from_: str, before: datetime, cause: TwilioError) -> Call:
        since = before.replace(microsecond=0) - CLOCK_SKEW
        for delay in (0.0, *self.reconcile_delays):
            if delay:
                self._sleep(delay)
            try:
                found = self.list_calls(to=to, from_=from_, started_after=since)
            except TwilioError as error:
                log.warning("listing calls to reconcile failed: %s", error)
                continue
            with self._placed_lock:
                known = set(self._placed)
            ours = [c for c in found if c.direction.startswith("outbound") and c.sid not in known]
            if len(ours) == 1:
                log.info("the call to %s was placed after all: %s", to, ours[0].sid)
                return ours[0]
            if ours:
                sids = ", ".join(c.sid for c in ours)
                raise TwilioError(
                    f"Creating the call to {to} got no answer ({cause}) and {len(ours)} calls "
                    f"from {from_} to {to} were placed since: {sids}. Check which is yours in "
                    "Twilio's call log before dialing again."
                )
        raise TwilioError(
            f"Creating the call to {to} got no answer ({cause}); the outcome is unknown. "
            f"Check Twilio's call log for a call from {from_} to {to} before dialing again."
        )

    @_read
    def list_calls(
        self,
        to: str | None = None,
        from_: str | None = None,
        started_after: datetime | None = None,
        limit: int = CALL_LIST_LIMIT,
    ) -> list[Call]:
        """Calls newest first, optionally To/From one party and created at or after a moment.

        The moment is compared with date_created here (start_time is empty until dialed).
        """
        options: dict[str, Any] = {"limit": limit}
        if to:
            options["to"] = to
        if from_:
            options["from_"] = from_
        calls = [_call(c) for c in self._client.calls.list(**options)]
        if started_after is None:
            return calls
        if started_after.tzinfo is None:
            started_after = started_after.replace(tzinfo=UTC)
        return [c for c in calls if c.placed_at is not None and c.placed_at >= started_after]

    @_read
    def fetch_call(self, sid: str) -> Call:
        """One call as Twilio has it now (status, duration)."""
        return _call(self._client.calls(sid).fetch())

    def call_error_codes(self, sid: str) -> list[int]:
        """Twilio error codes logged for a call (its Notifications), newest first."""
        return [code for code, _ in self.call_errors(sid)]

    @_read
    def call_errors(self, sid: str) -> list[tuple[int, str]]:
        """(code, message) of each error Twilio logged for a call (Notifications), newest first."""
        notes = self._client.calls(sid).notifications.list(limit=20)
        return [
            (int(n.error_code), _notification_text(n.message_text))
            for n in notes
            if str(n.error_code or "").isdigit()
        ]

    @_translated
    def hang_up(self, call_sid: str) -> None:
        """End a call: completed if answered, canceled if still ringing."""
        self._client.calls(call_sid).update(status="completed")

    @_translated
    def redirect_call(self, call_sid: str, twiml: str) -> Call:
        """Give a live call new instructions (e.g. join a room); 21220 once it is not live."""
        return _call(self._client.calls(call_sid).update(twiml=twiml))

    @_read
    def subscribe_rules(self, room_sid: str, participant: str) -> list[dict[str, Any]]:
        """A participant's Subscribe Rules (participant: its SID or identity)."""
        rules = self._client.video.v1.rooms(room_sid).participants(participant).subscribe_rules
        return _rules(rules.fetch())

    @_translated
    def set_subscribe_rules(
        self, room_sid: str, participant: str, rules: Sequence[dict[str, Any]]
    ) -> None:
        """Replace what a participant receives (Track Subscription API): every rule at once."""
        subscribe = self._client.video.v1.rooms(room_sid).participants(participant).subscribe_rules
        subscribe.update(rules=list(rules))

    @_read
    def recording_rules(self, room_sid: str) -> list[dict[str, Any]]:
        """A room's Recording Rules (none: nothing is recorded)."""
        return _rules(self._client.video.v1.rooms(room_sid).recording_rules.fetch())

    @_translated
    def set_recording_rules(self, room_sid: str, rules: Sequence[dict[str, Any]]) -> None:
        """Replace a room's Recording Rules: recordings start and stop to match."""
        self._client.video.v1.rooms(room_sid).recording_rules.update(rules=list(rules))

    @_read
    def list_recordings(self, room_sid: str) -> list[Recording]:
        """A room's recordings, one a recorded track."""
        return [_recording(r) for r in self._client.video.v1.rooms(room_sid).recordings.list()]

    def _connected(self, room_sid: str) -> list[Any]:
        return self._client.video.v1.rooms(room_sid).participants.list(status="connected")


def _notification_text(message_text: str | None) -> str:
    """The Msg of a Notification's URL-encoded message_text ('' when it has none)."""
    fields = parse_qs(message_text or "")
    return " ".join(fields.get("Msg", [""])[0].split())
