"""Team API: the event stream, as server-sent events with ids (README, "Team", says why SSE).

A console sends the id of the last event it saw (the Last-Event-ID header, which browsers and
SSE clients send by themselves on reconnecting, or ?last_event_id=) and gets every later event,
in order, once. Without an id it starts from now (a "hello" event carries the newest id). One
whose id is older than the kept window gets a "reload" event and the stream ends: it reloads
its state and connects again without an id. A stream catching up from the log that finds the
log pruned past its position meanwhile gets a "reload" event too, and goes on from the newest id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

from server import event_log, operators, presence
from server.database import DatabaseError
from server.event_log import LoggedEvent
from server.operators import Operator
from server.stream_slots import RETRY_SECONDS
from server.team_context import ApiError, Team, error_response, operator, team, transaction

log = logging.getLogger(__name__)
bp = Blueprint("stream", __name__)

HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies open and finds dead clients
RETRY_MILLISECONDS = 2000  # how long an SSE client waits before reconnecting


def _message(kind: str, data: object, event_id: int | None = None) -> str:
    lines = [f"event: {kind}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def _event(event: LoggedEvent) -> str:
    return f"event: {event.kind}\nid: {event.id}\ndata: {event.as_text}\n\n"


def _last_event_id() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id") or ""
    if not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "Last-Event-ID must be an event id (a whole number).") from None
    if value < 0:
        raise ApiError(400, "Last-Event-ID must not be negative.")
    return value


@bp.get("/events")
def events() -> ResponseReturnValue:
    """The event stream: every call, room, waiting, claim and presence event, with ids."""
    last = _last_event_id()
    parts, who = team(), operator()
    refusal = parts.streams.take(who.id)
    if refusal is not None:  # the process keeps team threads for the API: server/stream_slots.py
        log.info("event stream of %s refused: %s", who.name, refusal.message)
        answer = error_response(refusal.status, refusal.message, "busy")
        answer.headers["Retry-After"] = str(RETRY_SECONDS)
        return answer
    try:
        with transaction() as connection:
            pruned = event_log.pruned_up_to(connection, parts.account)
            head = event_log.head(connection, parts.account)
            session = presence.open_session(connection, parts.account, who)
    except BaseException:
        parts.streams.give_back(who.id)
        raise
    heartbeat = float(current_app.config.get("STREAM_HEARTBEAT", HEARTBEAT_SECONDS))
    stream = _Stream(parts, who, session, heartbeat)
    if last is None:
        body = stream.run(head, first=_message("hello", {"operator": who.name, "id": head}, head))
    elif last < pruned or last > head:
        why = "older than the kept window" if last < pruned else "newer than this server's log"
        body = stream.end(_message("reload", {"reason": f"event {last} is {why}", "id": head}))
    else:
        body = stream.run(last)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    held = _Held(body, lambda: parts.streams.give_back(who.id))
    return Response(held, mimetype="text/event-stream", headers=headers)


class _Held:
    """A stream's body that gives its slot back when the server closes it (WSGI calls close()
    whether or not the body was ever read, which a generator's finally alone would miss)."""

    def __init__(self, body: Generator[str, None, None], release: Callable[[], object]) -> None:
        self._body, self._release = body, release
        self._lock = threading.Lock()
        self._released = False

    def __iter__(self) -> Iterator[str]:
        return self._body

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            with self._lock:
                released, self._released = self._released, True
            if not released:
                self._release()


class _Stream:
    """One open stream: runs in the server's thread for this connection until it closes."""

    def __init__(self, parts: Team, who: Operator, session: str, heartbeat: float) -> None:
        self.parts, self.who, self.session, self.heartbeat = parts, who, session, heartbeat

    def end(self, message: str) -> Iterator[str]:
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n" + message
        finally:
            self._close()

    def run(self, last: int, first: str = "") -> Iterator[str]:
        hub = self.parts.hub
        beat_at = time.monotonic() + self.heartbeat
        try:
            yield f"retry: {RETRY_MILLISECONDS}\n\n" + first
            while not hub.stopped:
                if self.who.id in hub.revoked:
                    yield _message("revoked", {"operator": self.who.name})
                    return
                batch = self._after(last)
                if batch is None:  # the log was pruned past last while catching up
                    head = self._head(last)
                    why = f"events after {last} were removed from the kept window"
                    yield _message("reload", {"reason": why, "id": head})
                    last = head
                    continue
                if batch:
                    yield "".join(_event(event) for event in batch)
                    last = batch[-1].id
                    continue
                hub.wait_after(last, timeout=max(0.0, beat_at - time.monotonic()))
                if time.monotonic() >= beat_at:
                    if not self._beat():
                        yield _message("revoked", {"operator": self.who.name})
                        return
                    yield ": keepalive\n\n"
                    beat_at = time.monotonic() + self.heartbeat
        finally:
            self._close()

    def _after(self, last: int) -> list[LoggedEvent] | None:
        """The events after last; None when the log was pruned past it (reload)."""
        batch = self.parts.hub.events_after(last)
        if batch is not None:
            return batch
        try:  # further back than the hub remembers: read the log
            with self.parts.database.connection() as connection:
                return event_log.catch_up(connection, self.parts.account, last)
        except DatabaseError:
            time.sleep(1.0)  # the hub has newer events but the log cannot be read: not a spin
            return []

    def _head(self, last: int) -> int:
        """The newest id, to go on from after a reload (last while the database is away)."""
        try:
            with self.parts.database.connection() as connection:
                return max(last, event_log.head(connection, self.parts.account))
        except DatabaseError:
            return last

    def _beat(self) -> bool:
        """Refresh presence; False when the operator's token was revoked."""
        try:
            with self.parts.database.connection() as connection:
                presence.heartbeat(connection, self.session)
                return operators.is_active(connection, self.who.id)
        except DatabaseError:
            return True  # the database is away: keep the stream, nothing can change meanwhile

    def _close(self) -> None:
        try:
            with self.parts.database.connection() as connection:
                presence.close_session(connection, self.parts.account, self.who, self.session)
        except DatabaseError as error:
            log.info("stream closed while the database is away: %s", error)
