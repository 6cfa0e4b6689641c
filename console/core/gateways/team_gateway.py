"""The console's gateway in team mode: the team server's API, with the Twilio gateway's records.

It answers what the window, the controller and the CLI ask of `Gateway` (rooms, participants,
dialing, hanging up, numbers), and raises the same `TwilioError`: Twilio's refusals keep their
code and message, as the server passes them on. A refused operator token is `TeamAuthError`.
What only a team has (the waiting line, the shared routes, presence) has its own methods and
typed refusals. Reads are retried on network trouble and 5xx; writes are sent once (a dial or a
claim is never repeated).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from console.core.calls.history import HistoryEntry, StatusRecord
from console.core.calls.records import Call, Participant, PhoneNumber, Recording, Room
from console.core.gateways.gateway import RETRY_DELAYS, TwilioError, _maybe_sent
from console.core.gateways.team_errors import TeamUnreachable, error_of
from console.core.gateways.team_records import (
    OperatorPresence,
    TeamCaller,
    TeamRoutes,
    caller_from,
    record_from,
)

log = logging.getLogger(__name__)

API_PREFIX = "/team/v1"
TIMEOUT = 15.0  # seconds for one request (a dial waits for Twilio through the server)
EXPORT_TIMEOUT = 300.0  # seconds a CSV export may take before its first byte, or between two


def api_url(server: str, path: str) -> str:
    """The URL of a team API path on a server given as its base URL."""
    return f"{server.rstrip('/')}{API_PREFIX}{path}"


def history_query(
    text: str = "",
    status: str | Iterable[str] | None = None,
    direction: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    operator: str | None = None,
) -> str:
    """A history search's filters as the team API's query string."""
    statuses = [status] if isinstance(status, str) else list(status or [])
    query: list[tuple[str, str]] = [("text", text)] + [("status", s) for s in statuses]
    if direction:
        query.append(("direction", direction))
    if since is not None:
        query.append(("since", since.isoformat()))
    if limit is not None:
        query.append(("limit", str(limit)))
    if operator:
        query.append(("operator", operator))
    return urlencode(query)


def _call_target(url: str) -> tuple[str, str]:
    """(room, identity) from the outbound URL the console builds for a dial."""
    query = parse_qs(urlsplit(url).query)
    return query.get("room", [""])[0], query.get("identity", [""])[0]


class TeamGateway:
    """What the console asks of Twilio, asked of the team server as one operator."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: float = TIMEOUT,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.server = server.rstrip("/")
        self._session = session or requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout
        self.retry_delays = tuple(retry_delays)
        self._sleep = sleep

    def __repr__(self) -> str:  # never the token
        return f"TeamGateway({self.server!r})"

    @property
    def host(self) -> str:
        """The server's host:port, for the status bar."""
        return urlsplit(self.server).netloc

    def _send(
        self, method: str, path: str, payload: object | None = None, **options: Any
    ) -> requests.Response:
        options.setdefault("timeout", self._timeout)
        try:
            answer = self._session.request(
                method, api_url(self.server, path), json=payload, **options
            )
        except requests.RequestException as error:
            reason = f"Could not reach the team server at {self.host}: {type(error).__name__}"
            if method != "GET" and _maybe_sent(error):
                reason += "; it may have done it all the same: check before trying again"
            raise TeamUnreachable(reason) from None
        if answer.status_code >= 400:
            raise error_of(answer)
        return answer

    def _get(self, path: str) -> Any:
        """A read: retried with backoff while the server is unreachable or answers 5xx."""
        return self._read(path).json()

    def _read(self, path: str, **options: Any) -> requests.Response:
        tries = 0
        while True:
            try:
                return self._send("GET", path, **options)
            except TeamUnreachable as error:
                if tries >= len(self.retry_delays):
                    raise
                log.info("reading %s failed (%s); retrying", path, error)
                self._sleep(self.retry_delays[tries])
                tries += 1

    def _post(self, path: str, payload: object | None = None) -> Any:
        """A write: sent once."""
        return self._send("POST", path, payload if payload is not None else {}).json()

    def _put(self, path: str, payload: object) -> Any:
        """A write: sent once."""
        return self._send("PUT", path, payload).json()

    def check_credentials(self) -> str:
        """This token's operator name (raises TeamAuthError when the token is refused)."""
        return str(self._get("/me")["operator"])

    def last_event_id(self) -> int:
        """The id of the team's newest event, to start the event stream from."""
        return int(self._get("/me").get("last_event_id") or 0)

    def list_rooms(self) -> list[Room]:
        """In-progress rooms, each with its count of connected participants."""
        return [record_from(Room, room) for room in self._get("/rooms")["rooms"]]

    def create_room(
        self, unique_name: str, max_participants: int | None = None, status_callback: str = ""
    ) -> Room:
        """Create a group room (the server sets its own status callback)."""
        payload: dict[str, Any] = {"name": unique_name}
        if max_participants:
            payload["max_participants"] = max_participants
        return record_from(Room, self._post("/rooms", payload)["room"])

    def find_room(self, unique_name: str) -> Room | None:
        """The in-progress room with this unique name, or None."""
        return next((r for r in self.list_rooms() if r.unique_name == unique_name), None)

    def end_room(self, room_sid: str) -> None:
        """Complete a room, which disconnects everyone in it."""
        self._post(f"/rooms/{quote(room_sid, safe='')}/end")

    def list_participants(self, room_sid: str) -> list[Participant]:
        """The connected participants, with the team's call for each phone participant."""
        data = self._get(f"/rooms/{quote(room_sid, safe='')}/participants")
        return [record_from(Participant, person) for person in data["participants"]]

    def disconnect_participant(self, room_sid: str, participant_sid: str) -> None:
        """Disconnect one participant (their call ends too)."""
        room, person = quote(room_sid, safe=""), quote(participant_sid, safe="")
        self._post(f"/rooms/{room}/participants/{person}/disconnect")

    def list_numbers(self) -> list[PhoneNumber]:
        """The account's phone numbers, for the caller-ID choice."""
        return [record_from(PhoneNumber, number) for number in self._get("/numbers")["numbers"]]

    def dial(
        self, to: str, from_: str, room: str, identity: str = "", anyway: bool = False
    ) -> Call:
        """Dial into a room as the console does; the server creates the room when missing.

        IdentityInRoom when the identity is taken there, unless anyway (the operator chose to
        dial over it)."""
        payload = {"to": to, "from": from_, "room": room, "identity": identity}
        if anyway:
            payload["replace"] = True
        return record_from(Call, self._post("/calls", payload)["call"])  # sent once, never again

    def place_call(
        self,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        events: Iterable[str],
        anyway: bool = False,
    ) -> Call:
        """Gateway.place_call's signature: room and identity travel in the outbound URL, and
        the server sets the callbacks."""
        room, identity = _call_target(url)
        if not room:
            raise TwilioError("A team dial needs a room (none was in the call's URL).")
        return self.dial(to, from_, room, identity, anyway)

    def hang_up(self, call_sid: str) -> None:
        """End a call: completed if answered, canceled if still ringing."""
        self._post(f"/calls/{quote(call_sid, safe='')}/hangup")

    def move_call(self, call_sid: str, room: str, identity: str) -> Call:
        """Move a connected call to another room, keeping its identity."""
        data = self._post(
            f"/calls/{quote(call_sid, safe='')}/move", {"room": room, "identity": identity}
        )
        return record_from(Call, data["call"])

    def subscribe_rules(self, room_sid: str, participant: str) -> list[dict[str, Any]]:
        """A participant's Subscribe Rules (participant: its SID or identity)."""
        return list(
            self._get(f"{self._participant(room_sid, participant)}/subscribe_rules")["rules"]
        )

    def set_subscribe_rules(
        self, room_sid: str, participant: str, rules: Sequence[dict[str, Any]]
    ) -> None:
        """Replace what a participant receives: every rule at once."""
        path = f"{self._participant(room_sid, participant)}/subscribe_rules"
        self._post(path, {"rules": list(rules)})

    def recording_rules(self, room_sid: str) -> list[dict[str, Any]]:
        """A room's Recording Rules (none: nothing is recorded)."""
        return list(self._get(f"/rooms/{quote(room_sid, safe='')}/recording_rules")["rules"])

    def set_recording_rules(self, room_sid: str, rules: Sequence[dict[str, Any]]) -> None:
        """Replace a room's Recording Rules: recordings start and stop to match."""
        self._post(f"/rooms/{quote(room_sid, safe='')}/recording_rules", {"rules": list(rules)})

    def list_recordings(self, room_sid: str) -> list[Recording]:
        """A room's recordings, one a recorded track."""
        data = self._get(f"/rooms/{quote(room_sid, safe='')}/recordings")
        return [record_from(Recording, found) for found in data["recordings"]]

    @staticmethod
    def _participant(room_sid: str, participant: str) -> str:
        return f"/rooms/{quote(room_sid, safe='')}/participants/{quote(participant, safe='')}"

    def search_history(
        self,
        text: str = "",
        status: str | Iterable[str] | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        operator: str | None = None,
    ) -> list[tuple[HistoryEntry, str]]:
        """The team's calls newest first, each with the operator who placed or took it."""
        query = history_query(text, status, direction, since, limit, operator)
        rows = self._get(f"/history?{query}")["calls"]
        return [(record_from(HistoryEntry, row), str(row.get("operator") or "")) for row in rows]

    def open_history_csv(self, **filters: Any) -> requests.Response:
        """The team's history as CSV (search_history's filters; every call when no limit),
        as an answer still arriving: read it as it comes, then close it."""
        timeout = (self._timeout, EXPORT_TIMEOUT)  # the server writes the file before sending
        return self._read(f"/history.csv?{history_query(**filters)}", stream=True, timeout=timeout)

    def call_statuses(self, sid: str) -> list[StatusRecord]:
        """Every status one call of the team's history went through, oldest first."""
        data = self._get(f"/history/{quote(sid, safe='')}/statuses")
        return [
            StatusRecord(
                str(found["status"]), datetime.fromisoformat(found["at"]), found.get("sequence")
            )
            for found in data["statuses"]
        ]

    def waiting(self) -> list[TeamCaller]:
        """The callers waiting now, longest-waiting first, with who is handling each."""
        return [caller_from(found) for found in self._get("/waiting")["waiting"]]

    def claim(self, call_sid: str) -> TeamCaller:
        """Claim a waiting caller; ClaimedByOther (naming the holder) when another has them."""
        return caller_from(self._post(f"/waiting/{quote(call_sid, safe='')}/claim")["waiting"])

    def place_waiting(self, call_sid: str, room: str, identity: str = "") -> tuple[str, str]:
        """Put a waiting caller in a room, claiming them first if nobody holds them.

        Returns (room, the identity the caller joined as); ClaimedByOther when another holds them.
        """
        path = f"/waiting/{quote(call_sid, safe='')}/place"
        data = self._post(path, {"room": room, "identity": identity})
        return str(data["room"]), str(data["identity"])

    def release(self, call_sid: str) -> None:
        """Give a caller this operator holds back to the team."""
        self._post(f"/waiting/{quote(call_sid, safe='')}/release")

    def routes(self) -> TeamRoutes:
        """The team's routes and their version (0 and no text when never saved)."""
        data = self._get("/routes")
        return TeamRoutes(int(data["version"]), str(data["toml"]))

    def replace_routes(self, toml: str, version: int) -> TeamRoutes:
        """Replace the routes if still at version: TeamRoutesChanged (with the current ones) if
        not, TeamRoutesInvalid (line, key, problem) when the text is not valid routes.toml."""
        data = self._put("/routes", {"toml": toml, "version": version})
        return TeamRoutes(int(data["version"]), str(data["toml"]))

    def presence(self) -> list[OperatorPresence]:
        """The operators online and what each is doing ("online" when the server does not say)."""
        data = self._get("/operators")
        if isinstance(data.get("operators"), list):
            return [
                OperatorPresence(str(o["name"]), str(o.get("activity") or "online"))
                for o in data["operators"]
            ]
        return [OperatorPresence(str(name), "online") for name in data.get("online", [])]

    def fetch_call(self, sid: str) -> Call:
        """One call as the team's history has it now (status, duration, error)."""
        found = [entry for entry, _ in self.search_history(text=sid, limit=5) if entry.sid == sid]
        if not found:
            raise TwilioError(f"The call {sid} is not in the team's history.", 20404, 404)
        entry = found[0]
        return Call(
            sid=entry.sid,
            to=entry.to,
            from_=entry.from_,
            status=entry.status,
            direction=entry.direction,
            duration=entry.duration or 0,
            error_code=entry.error_code,
            error_message=entry.error_message,
            room=entry.room,
            identity=entry.identity,
            placed_at=entry.created_at,
        )

    def call_errors(self, sid: str) -> list[tuple[int, str]]:
        """(code, message) of the error the team's history holds for a call, if any."""
        call = self.fetch_call(sid)
        code = call.error_code.strip()
        return [(int(code), call.error_message)] if code.isdigit() else []

    def call_error_codes(self, sid: str) -> list[int]:
        """The Twilio error codes the team's history holds for a call."""
        return [code for code, _ in self.call_errors(sid)]

    def close(self) -> None:
        """Close the HTTP connections."""
        self._session.close()
