"""Writes what Twilio reports (call statuses, room events, callers put on hold) to the database.

It runs inside the request, before Twilio gets its 2xx: an acknowledged callback is in
PostgreSQL, or, while the database is down, in this process's spool file, to be written when
it returns. Once one write finds the database away, the rest go straight to the spool until
the gate's probe sees it back (server/database_gate.py). A background thread drains the spool,
and the spools of processes that died, on every round. Status callbacks that arrive together are
written together, in one statement, on a connection kept for them (server/group_commit.py,
server/status_writes.py, server/kept_connection.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from flask import has_request_context, request

from server import audit, call_store, event_log, mutes, room_recordings, status_writes
from server.database import UNREACHABLE, Database, DatabaseError
from server.database_gate import DatabaseGate
from server.group_commit import GroupCommit
from server.kept_connection import KeptConnection
from server.spool import Refused, Spool, drain_orphans
from webhook.events import CallerWaiting, CallStatusEvent, Event, EventDispatcher, RoomEvent

log = logging.getLogger(__name__)

WRITE_TIMEOUT = 2.0  # seconds a callback waits for a connection before it is spooled
DRAIN_SECONDS = 1.0  # how often the spool (and dead processes' spools) are looked at
# What a record's own data can make the database (or its decoding) refuse: never written, however
# often it is tried. A lost connection, a timeout or a schema problem is not among them.
REFUSALS = (psycopg.DataError, psycopg.IntegrityError, KeyError, TypeError, ValueError)
Record = dict[str, Any]
NEWCOMER = "participant-connected"


def to_record(event: Event) -> Record | None:
    """The event as a JSON-able record, or None for events the server does not keep."""
    if isinstance(event, CallStatusEvent):
        return {"type": "call_status", "fields": dict(event.fields)}
    if isinstance(event, RoomEvent):
        return {"type": "room", "fields": dict(event.fields)}
    if isinstance(event, CallerWaiting):
        return {
            "type": "waiting",
            "call_sid": event.call_sid,
            "from": event.from_,
            "to": event.to,
            "since": event.since.isoformat(),
            "identity": event.identity,
        }
    return None  # RequestLogged, RoutesLoaded: for a console's log, not for the team


def apply(connection: psycopg.Connection, account: str, record: Record) -> int | None:
    """Write one record (each in one transaction); the id of the event it logged, if any."""
    kind = record.get("type")
    if kind == "call_status":
        return status_writes.write_one(connection, account, record)
    if kind == "room":
        with connection.transaction():
            return _room(connection, account, record["fields"])
    if kind == "waiting":
        with connection.transaction():
            return _waiting(connection, account, record)
    if kind == audit.TYPE:  # an operator's action, spooled while the database was away
        event_id = audit.write(connection, account, record)
        audit.note_activity(connection, account, record)
        return event_id
    log.warning("ignored a record of unknown type %r", kind)
    return None


def callback_key(fields: dict[str, str]) -> str:
    """What tells one room callback from another: a digest of all its fields (Twilio's
    Timestamp and SequenceNumber among them), the same for a retry or a replay of it."""
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _room(connection: psycopg.Connection, account: str, fields: dict[str, str]) -> int | None:
    """Record a room callback once (a replayed or retried one is recognised and skipped)."""
    from psycopg.types.json import Jsonb

    kind = fields.get("StatusCallbackEvent", "")
    room_sid = fields.get("RoomSid", "")
    inserted = connection.execute(
        "INSERT INTO room_events (account, room_sid, room_name, kind, participant_identity, "
        "fields, callback_key) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (
            account,
            room_sid,
            fields.get("RoomName", ""),
            kind,
            fields.get("ParticipantIdentity", ""),
            Jsonb(fields),
            callback_key(fields),
        ),
    ).rowcount
    if not inserted:
        return None
    if kind == "room-ended":
        mutes.forget_room(connection, account, room_sid)
        room_recordings.room_ended(connection, account, room_sid)
    return event_log.append(connection, account, "room.event", fields)


def _waiting(connection: psycopg.Connection, account: str, record: Record) -> int | None:
    since = datetime.fromisoformat(record["since"])
    inserted = connection.execute(
        'INSERT INTO waiting (account, call_sid, from_, "to", identity, since) '
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (account, record["call_sid"], record["from"], record["to"], record["identity"], since),
    ).rowcount
    if not inserted:
        return None
    from console.core.calls.records import Call

    call = Call(record["call_sid"], record["to"], record["from"], "", "inbound")
    call_store.record_call(connection, account, call, created_at=since)
    data = {k: record[k] for k in ("call_sid", "from", "to", "since", "identity")}
    return event_log.append(connection, account, "waiting.added", data)


def _with_call_context(record: Record) -> Record:
    """A status record with the room and identity its signed status URL names (the team dials
    with them in it), so the first status of a call already has them."""
    if record["type"] == "call_status" and has_request_context() and request.query_string:
        for name in ("room", "identity"):
            value = request.args.get(name, "")
            if value:
                record[name] = value
    return record


Welcome = Callable[[str, str, str, frozenset[str]], object]


class Recorder:
    """The webhook's event consumer on the server: database first, spool when it is down.

    welcome(room_sid, participant_sid, identity, muted) gives someone who joined a room with
    mutes the rules that keep the muted out (server/mutes.py), once their callback is recorded.
    """

    def __init__(
        self,
        database: Database,
        account: str,
        spool: Spool,
        gate: DatabaseGate,
        welcome: Welcome | None = None,
    ) -> None:
        self.database = database
        self.account = account
        self.spool = spool
        self.gate = gate
        self._welcome = welcome
        self._problem = ""  # the last drain failure logged, so a repeat is not logged again
        self._statuses: GroupCommit[Record, int | None] = GroupCommit(self._write_statuses)
        self._status_writer = KeptConnection(database.pool)  # one batch at a time uses it
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._drain_loop, name="spool-drain", daemon=True)
        self._thread.start()
        gate.on_ready(self._wake.set)  # the database is back: drain at once

    def consume(self, event: Event) -> None:
        """Record one event before the request is answered (raises only if even the spool fails)."""
        record = to_record(event)
        if record is None:
            return
        record = _with_call_context(record)
        if record["type"] != "call_status":
            self.keep(record)
            return
        if self.gate.ready and not self.spool.pending:
            try:
                self._write_status(record)  # with the others that arrive meanwhile
                return
            except DatabaseError as error:
                self.gate.trip(error)  # the next callbacks go straight to the spool
        self.keep_later(record)

    def keep(self, record: Record) -> None:
        """Write one record now, or spool it while the database is away (or others wait in
        the spool, so the order holds); raises only if even the spool fails."""
        if self.gate.ready and not self.spool.pending:
            try:
                self.write(record, timeout=WRITE_TIMEOUT)
                return
            except DatabaseError as error:
                self.gate.trip(error)  # the next callbacks go straight to the spool
        self.keep_later(record)

    def keep_later(self, record: Record) -> None:
        """Spool one record, to be written when the database returns."""
        self.spool.append(record)
        self._wake.set()

    def write(self, record: Record, timeout: float | None = None) -> None:
        """Write one record in its own transaction; DatabaseError when that is not possible."""
        muted: frozenset[str] = frozenset()
        try:
            with self.database.pool.connection(timeout=timeout) as connection:
                apply(connection, self.account, record)
                if self._welcome is not None and _joined(record):
                    muted = mutes.of_room(connection, self.account, record["fields"]["RoomSid"])
        except UNREACHABLE as error:
            raise self.database.error(error, "cannot be reached") from None
        if muted and self._welcome is not None:
            fields = record["fields"]
            self._welcome(
                fields["RoomSid"], fields.get("ParticipantSid", ""),
                fields.get("ParticipantIdentity", ""), muted,
            )  # fmt: skip

    def _write_status(self, record: Record) -> None:
        try:
            self._statuses.write(record)
        except TimeoutError as error:  # a write ahead is stuck: spool (a second write is harmless)
            raise self.database.error(error, "is not answering") from None

    def _write_statuses(self, records: Sequence[Record]) -> list[int | Exception | None]:
        """Write a batch of status callbacks in one statement; DatabaseError when impossible."""

        def write(connection: psycopg.Connection) -> list[int | Exception | None]:
            return status_writes.write_many(connection, self.account, records)

        try:
            return self._status_writer.run(write, timeout=WRITE_TIMEOUT)
        except UNREACHABLE as error:
            raise self.database.error(error, "cannot be reached") from None

    def _write_soon(self, record: Record) -> None:
        """Write a spooled record; Refused when its data is what the database refuses."""
        try:
            self.write(record, timeout=WRITE_TIMEOUT)
        except REFUSALS as error:
            what = f"{record.get('type')} event {_subject(record)}".strip()
            refused = self.database.error(error, f"refused the spooled {what}")
            raise Refused(str(refused)) from None

    def close(self, timeout: float = 2.0) -> None:
        """Stop the drain thread (what is still spooled stays on disk for the next process)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if not self._status_writer.close(timeout):
            log.warning("a status write was still waiting on the database at shutdown")
        self.spool.close()

    def _drain_loop(self) -> None:
        while not self._stop.is_set():
            if self.gate.ready:
                self._drain_once()
            self._wake.wait(DRAIN_SECONDS)
            self._wake.clear()

    def _drain_once(self) -> None:
        """Write this process's spool, then any a dead process left (failures are logged)."""
        try:
            if self.spool.pending:
                written = self.spool.drain(self._write_soon)
                if written:
                    log.info("wrote %d spooled event(s) to the database", written)
            drain_orphans(self.spool.directory, self._write_soon, own=self.spool.path)
            self._problem = ""
        except DatabaseError as error:
            self.gate.trip(error)  # still away: the probe wakes this thread when it is back
        except Exception as error:
            problem = str(self.database.error(error))
            if problem != self._problem:
                log.warning("a spooled event could not be written; it stays spooled: %s", problem)
            self._problem = problem


def _subject(record: Record) -> str:
    """The call or room a record is about, to name it in a warning."""
    fields = record.get("fields") or {}
    return str(record.get("call_sid") or fields.get("CallSid") or fields.get("RoomSid") or "")


def _joined(record: Record) -> bool:
    """Whether the record is someone joining a room."""
    fields = record.get("fields") or {}
    return (
        record.get("type") == "room"
        and fields.get("StatusCallbackEvent") == NEWCOMER
        and bool(fields.get("RoomSid"))
    )


class InlineDispatcher(EventDispatcher):
    """The webhook's dispatcher, delivering in the request thread: the 2xx follows the write."""

    def __init__(self, consume: Callable[[Event], object]) -> None:
        super().__init__(consume)
        self._consume = consume

    @property
    def wanted(self) -> bool:
        """No: the server keeps no per-request log (callbacks are submitted all the same)."""
        return False

    def submit(self, event: Event) -> None:
        """Record the event now; an exception answers the request with 500."""
        self._consume(event)

    def close(self, timeout: float = 1.0) -> None:
        """Nothing is queued: every event was delivered in its request."""
