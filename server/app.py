"""The team server's Flask app: the webhook's routes recording into PostgreSQL, plus the team API.

Nothing a request needs lives only in this process: the call's room and identity travel in its
signed URL, everything else is in the database. Any number of processes can serve one team.

A process starts even while the database is away (gunicorn replaces a dead worker at any time,
and a worker that fails to start stops them all): it answers Twilio, spools what Twilio
reports, and answers the team API with 503 until the database gate has checked the schema
(server/database_gate.py). A schema it cannot serve still stops it from starting.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import platformdirs
from flask import Flask, request
from flask.typing import ResponseReturnValue

from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from server import mutes, secret_filter, team_api
from server.database import Database
from server.database_gate import DatabaseGate
from server.event_hub import EventHub
from server.event_log import LoggedEvent
from server.maintenance import Maintenance
from server.recorder import InlineDispatcher, Recorder
from server.routes_store import DatabaseRoutes
from server.spool import Spool
from server.stream_slots import THREADS, StreamSlots, limit_for
from server.team_context import TEAM_KEY, Team, error_response
from server.twilio_actions import TeamTwilio
from webhook.app import create_app as create_webhook_app
from webhook.callbacks import DISPATCHER_KEY
from webhook.incoming import ROUTES_KEY

log = logging.getLogger(__name__)

PARTS_KEY = "switchboard.server"
ROUTES_SOURCE = "postgresql:routes"  # the webhook's ROUTES_FILE setting: routes come from the db

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "",  # postgresql://… of the team database
    "ACCOUNT_SID": "",  # the Twilio account whose team this is: every row belongs to it
    "TWILIO_LOGIN": None,  # (username, password, account_sid) for the REST API
    "TWILIO_URL": "",  # a sandbox to talk to instead of Twilio ("" = SWITCHBOARD_TWILIO_URL)
    "SPOOL_DIR": "",  # where events wait while the database is down ("" = user data dir)
    "EVENT_WINDOW_HOURS": 24,  # how long consoles can be away and still resume
    "STREAM_HEARTBEAT": 15.0,  # seconds between keep-alive comments on event streams
    "POOL_SIZE": 20,  # database connections per process, at most
    "POOL_READY": 4,  # connections kept open while idle, so a burst of callbacks finds them
    "SWEEP_SECONDS": 5.0,  # how often stale presence and claims are looked for
    "STREAM_LIMIT": limit_for(THREADS),  # open event streams per process (server/stream_slots.py)
}


def default_spool_dir() -> Path:
    """The spool directory in the user data dir."""
    return Path(platformdirs.user_data_dir("switchboard")) / "server-spool"


@dataclass
class ServerParts:
    """What a server app started, to stop it in order."""

    database: Database
    owns_database: bool
    gate: DatabaseGate
    hub: EventHub
    recorder: Recorder
    maintenance: Maintenance
    gateway: Gateway

    def close(self) -> None:
        """Stop the threads, then close the gateway and (if this app opened it) the pool."""
        self.maintenance.stop()
        self.hub.stop()
        self.gate.stop()
        self.recorder.close()
        self.gateway.close()
        if self.owns_database:
            self.database.close()


def create_app(
    config: Mapping[str, Any] | None = None,
    gateway: Gateway | None = None,
    database: Database | None = None,
) -> Flask:
    """Build the server app; SchemaError when the database's schema is not one it serves.

    An unreachable database does not stop it: see the module doc.
    """
    settings = {**DEFAULTS, **(config or {})}
    account = settings["ACCOUNT_SID"]
    if not account:
        raise ValueError("The server needs the Twilio Account SID its team works in.")
    owns = database is None
    size = int(settings["POOL_SIZE"])
    ready = max(1, min(size, int(settings["POOL_READY"])))
    if owns:  # serving for real (also under another WSGI server): no password in any log
        secret_filter.protect(settings["DATABASE_URL"])
        secret_filter.install()
    db = database or Database(settings["DATABASE_URL"], min_size=ready, max_size=size)
    if owns:
        db.open(wait=False)  # connections are made in the background, now or when it is back
    gate = DatabaseGate(db)
    try:
        if not gate.check():
            log.warning(
                "%s; serving Twilio and spooling its events, the team API waits for it",
                gate.problem,
            )
        if gateway is None:
            if not settings["TWILIO_LOGIN"]:
                raise ValueError("The server needs Twilio credentials (TWILIO_LOGIN).")
            username, password, login_account = settings["TWILIO_LOGIN"]
            client = make_client(
                username, password, login_account, base_url=settings["TWILIO_URL"] or None
            )
            gateway = Gateway(client)
    except BaseException:
        if owns:
            db.close()
        raise
    spool = Spool(settings["SPOOL_DIR"] or default_spool_dir())
    keeper = gateway

    def welcome(room_sid: str, participant_sid: str, identity: str, muted: frozenset[str]) -> None:
        mutes.welcome(keeper, room_sid, participant_sid, identity, muted)

    recorder = Recorder(db, account, spool, gate, welcome)

    app = create_webhook_app({**settings, "ROUTES_FILE": ""})  # no file: routes are in the db
    app.extensions[DISPATCHER_KEY] = InlineDispatcher(recorder.consume)
    routes = DatabaseRoutes(db, account, Path(ROUTES_SOURCE), gate)
    routes.refresh()  # read now, so a database outage from the start still has routes
    gate.on_ready(routes.refresh)
    gate.start()
    app.extensions[ROUTES_KEY] = routes
    app.config["ROUTES_FILE"] = ROUTES_SOURCE

    def on_events(events: list[LoggedEvent]) -> None:
        if any(event.kind == "routes.changed" for event in events):
            routes.refresh()  # every process holds the newest routes, in case the db goes

    hub = EventHub(db, account, on_events)
    hub.start()
    twilio = TeamTwilio(gateway, lambda: app.config.get("PUBLIC_URL") or "")
    streams = StreamSlots(int(settings["STREAM_LIMIT"]))
    app.extensions[TEAM_KEY] = Team(db, account, hub, twilio, streams, recorder)
    app.register_blueprint(team_api.bp)

    @app.before_request
    def team_api_needs_the_database() -> ResponseReturnValue | None:
        if gate.ready or not request.path.startswith(f"{team_api.PREFIX}/"):
            return None
        return error_response(503, "The team database is not reachable; try again.", "database")

    window = timedelta(hours=float(settings["EVENT_WINDOW_HOURS"]))
    maintenance = Maintenance(
        db, account, window, sweep_seconds=float(settings["SWEEP_SECONDS"]), gate=gate
    ).start()
    app.extensions[PARTS_KEY] = ServerParts(db, owns, gate, hub, recorder, maintenance, gateway)
    return app


def close_app(app: Flask) -> None:
    """Stop what create_app started (after the HTTP server stopped serving it)."""
    parts = app.extensions.pop(PARTS_KEY, None)
    if parts is not None:
        parts.close()
