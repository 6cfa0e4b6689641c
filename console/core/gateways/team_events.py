"""The team server's event stream, read on its own thread and delivered as webhook events.

The stream is server-sent events with ids (server/api_stream.py). This client remembers the id
of the last event it delivered and, after any drop, connects again with backoff, sending it as
Last-Event-ID: the server then sends every later event once, in order. An event whose id is not
newer than the last one is never delivered twice. A "reload" answer (away longer than the kept
window) calls on_reload, so the console refreshes everything, and the stream goes on from the
newest id. Call statuses, room events and waiting callers arrive as the same objects the
embedded webhook delivers (webhook/events.py), so the event bridge takes them unchanged.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import requests
import sseclient

from console.core.gateways.team_gateway import api_url
from webhook.events import CallerWaiting, CallStatusEvent, Event, RoomEvent

log = logging.getLogger(__name__)

BACKOFF = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # seconds before each reconnect, then the last
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 45.0  # the server sends a comment every 15 s: silence this long is a dead line

# The stream's states. Turned away: the server is up but has no room for this console's
# stream now (HTTP 429/503, say); it says when to try again, and the stream does.
CONNECTING, CONNECTED, RECONNECTING, TURNED_AWAY, REFUSED, CLOSED = (
    "connecting",
    "connected",
    "reconnecting",
    "turned-away",
    "refused",
    "closed",
)


@dataclass(frozen=True)
class TeamEvent:
    """A team event with no webhook counterpart (claims, presence, actions, ...)."""

    id: int
    kind: str
    data: Mapping[str, Any]


def _call_status(data: Mapping[str, Any], at: str) -> CallStatusEvent:
    fields = {
        "CallSid": data.get("sid", ""),
        "CallStatus": data.get("status", ""),
        "Direction": data.get("direction", ""),
        "From": data.get("from", ""),
        "To": data.get("to", ""),
        "ErrorCode": data.get("error_code", ""),
        "ErrorMessage": data.get("error_message", ""),
    }
    if (sequence := data.get("sequence", -1)) is not None and int(sequence) >= 0:
        fields["SequenceNumber"] = str(sequence)
    if data.get("duration") is not None:
        fields["CallDuration"] = str(data["duration"])
    if at:
        fields["Timestamp"] = format_datetime(datetime.fromisoformat(at))
    return CallStatusEvent(fields={k: str(v or "") for k, v in fields.items()})


def _caller_waiting(data: Mapping[str, Any]) -> CallerWaiting:
    return CallerWaiting(
        call_sid=str(data.get("call_sid", "")),
        from_=str(data.get("from", "")),
        to=str(data.get("to", "")),
        since=datetime.fromisoformat(str(data["since"])),
        identity=str(data.get("identity", "") or ""),
    )


def webhook_event(kind: str, payload: Mapping[str, Any]) -> Event | None:
    """The webhook event a logged team event stands for, or None when it has none."""
    data = payload.get("data") or {}
    if kind == "call.status":
        return _call_status(data, str(payload.get("at", "")))
    if kind == "room.event":
        return RoomEvent(fields={k: str(v) for k, v in data.items()})
    if kind == "waiting.added":
        return _caller_waiting(data)
    return None


class TeamEventStream:
    """Reads the event stream on a daemon thread; start() once, close() to end it."""

    def __init__(
        self,
        server: str,
        token: str,
        on_event: Callable[[Event], object],
        *,
        on_reload: Callable[[], object] | None = None,
        on_team_event: Callable[[TeamEvent], object] | None = None,
        on_state: Callable[[str, str], object] | None = None,
        last_event_id: int | None = None,
        backoff: Sequence[float] = BACKOFF,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.url = api_url(server, "/events")
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        self._on_event, self._on_reload = on_event, on_reload
        self._on_team_event, self._on_state = on_team_event, on_state
        self.last_event_id = last_event_id
        self.backoff = tuple(backoff)
        self._read_timeout = read_timeout
        self.state = CLOSED
        self.connections = 0  # streams opened so far (the first, then each reconnect)
        self._wait_at_least = 0.0  # what a refusal's Retry-After asked for, before the next try
        self._stop = threading.Event()
        self._session = requests.Session()
        self._response: requests.Response | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="team-events", daemon=True)

    def __repr__(self) -> str:  # never the token
        return f"TeamEventStream({self.url!r}, last_event_id={self.last_event_id})"

    @property
    def running(self) -> bool:
        """Whether its thread still reads or waits to reconnect (not after a refusal)."""
        return self._thread.is_alive()

    def start(self) -> TeamEventStream:
        """Open the stream on its thread."""
        self._thread.start()
        return self

    def close(self, timeout: float = 2.0) -> None:
        """Drop the connection and end the thread (at once, even while it waits for data)."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            _sever(response)  # the reading thread wakes; then the response closes unhindered
        self._thread.join(timeout)
        self._session.close()
        self._set_state(CLOSED)

    def _set_state(self, state: str, detail: str = "") -> None:
        if state == self.state and not detail:
            return
        self.state = state
        if self._on_state is not None:
            try:
                self._on_state(state, detail)
            except Exception:
                log.exception("the stream's state consumer failed")

    def _run(self) -> None:
        failures = 0
        self._set_state(CONNECTING)  # until the first answer; after it, the state it left
        while not self._stop.is_set():
            try:
                ended = self._read_once()
            except (requests.RequestException, OSError, ValueError, AttributeError) as error:
                ended = (RECONNECTING, f"the stream broke: {type(error).__name__}")
            finally:
                with self._lock:
                    response, self._response = self._response, None
                if response is not None:
                    response.close()
            if ended is None or self._stop.is_set():
                return  # refused, or closed
            state, why = ended
            if state == RECONNECTING and why == "":
                failures = 0  # it carried events: the shortest wait again
            delay = max(self.backoff[min(failures, len(self.backoff) - 1)], self._wait_at_least)
            self._wait_at_least = 0.0
            failures += 1
            log.info("team event stream: %s; reconnecting in %.2f s", why or "ended", delay)
            self._set_state(state, why)
            if self._stop.wait(delay):
                return

    def _read_once(self) -> tuple[str, str] | None:
        """One connection: None when the stream must not reconnect (refused), else the state
        it leaves the stream in and why it ended ('' when it delivered at least one event,
        which resets the backoff)."""
        headers = dict(self._headers)
        if self.last_event_id is not None:
            headers["Last-Event-ID"] = str(self.last_event_id)
        response = self._session.get(
            self.url,
            headers=headers,
            stream=True,
            timeout=(CONNECT_TIMEOUT, self._read_timeout),
        )
        with self._lock:
            self._response = response
        if self._stop.is_set():
            return None
        if response.status_code == 401:
            self._set_state(REFUSED, _message(response, "the operator token was refused"))
            return None
        if response.status_code != 200:  # e.g. 503/429: the process has no room for a stream
            self._wait_at_least = _retry_after(response)
            why = _message(response, "")
            return TURNED_AWAY, f"HTTP {response.status_code}" + (f": {why}" if why else "")
        self.connections += 1
        self._set_state(CONNECTED)
        delivered = False
        for message in sseclient.SSEClient(response.iter_content(chunk_size=None)).events():
            if self._stop.is_set():
                return None
            if message.event == "revoked":
                self._set_state(REFUSED, "this operator's token was revoked")
                return None
            delivered = self._handle(message) or delivered
        return RECONNECTING, ("" if delivered else "the stream ended")

    def _handle(self, message: sseclient.Event) -> bool:
        """Deliver one message; True when it moved the stream on."""
        try:
            payload = json.loads(message.data)
        except ValueError:
            log.warning("team event stream: an event cut short was dropped (it comes again)")
            return False
        if message.event == "hello":
            if self.last_event_id is None:
                self.last_event_id = int(payload.get("id") or 0)
            return True
        if message.event == "reload":
            self.last_event_id = int(payload.get("id") or 0)
            if self._on_reload is not None:
                self._call(self._on_reload)
            return True
        if not message.id:
            return False
        event_id = int(message.id)
        if self.last_event_id is not None and event_id <= self.last_event_id:
            return False  # seen already: nothing twice
        try:
            event = webhook_event(message.event, payload)
        except (KeyError, TypeError, ValueError) as error:  # a newer server's shape: not fatal
            log.warning("team event %d (%s) was not understood: %r", event_id, message.event, error)
            event = None
        if event is not None:
            self._call(lambda: self._on_event(event))
        elif self._on_team_event is not None:
            data = payload.get("data") or {}
            self._call(lambda: self._on_team_event(TeamEvent(event_id, message.event, data)))
        self.last_event_id = event_id
        return True

    @staticmethod
    def _call(consume: Callable[[], object]) -> None:
        try:
            consume()
        except Exception:
            log.exception("a team event consumer failed")


def socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response reads from (None once the connection is gone)."""
    raw = response.raw
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:  # urllib3 let go of the connection: the reader still holds the socket
        reader = getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None)
        sock = getattr(reader, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _sever(response: requests.Response) -> None:
    """Shut the stream's socket down, so a read blocked on it returns at once.

    Closing the response alone would wait for the reading thread, which holds the buffered
    reader's lock until the server's next heartbeat.
    """
    sock = socket_of(response)
    if sock is not None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)


def _retry_after(response: requests.Response) -> float:
    """The seconds a refusal asks to wait (Retry-After), at most a minute; 0 when it names none."""
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return 0.0


def _message(response: requests.Response, default: str) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return default
