"""What only a team has, as the team gateway returns it: waiting callers, routes, presence.

Also how a record (Room, Call, ...) is read from the team API's JSON, and the team's typed
refusals: a caller another operator holds, routes that changed meanwhile or are not valid
routes.toml. They are TwilioErrors, so a caller that only knows those still works.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from console.core.gateways.gateway import TwilioError

R = TypeVar("R")
DATETIME_FIELDS = frozenset(
    {"created", "created_at", "connected_at", "placed_at", "answered_at", "ended_at"}
)


def _when(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def record_from(kind: type[R], data: Mapping[str, Any]) -> R:
    """A record (Room, Call, ...) from the server's JSON; unknown keys are ignored."""
    known = {field.name for field in dataclasses.fields(kind)}  # type: ignore[arg-type]
    values = {
        name: _when(value) if name in DATETIME_FIELDS else value
        for name, value in data.items()
        if name in known
    }
    return kind(**values)


class ClaimedByOther(TwilioError):
    """Another operator holds this waiting caller; `holder` is their name."""

    def __init__(self, message: str, holder: str, status: int = 409) -> None:
        super().__init__(message, 0, status)
        self.holder = holder


class IdentityInRoom(TwilioError):
    """The team server refused a dial: the identity is in the room or being dialed into it
    (by another operator, perhaps); `suggestion` is a free variant."""

    def __init__(self, message: str, suggestion: str, status: int = 409) -> None:
        super().__init__(message, 53205, status)
        self.suggestion = suggestion


@dataclasses.dataclass(frozen=True)
class TeamRoutes:
    """The team's routes as routes.toml text, with the version a save must start from."""

    version: int
    toml: str


class TeamRoutesChanged(TwilioError):
    """The routes changed since the version a save started from; `current` is the new one."""

    def __init__(self, message: str, current: TeamRoutes, status: int = 409) -> None:
        super().__init__(message, 0, status)
        self.current = current


class TeamRoutesInvalid(TwilioError):
    """The server refused routes that are not valid routes.toml: where, and what is wrong."""

    def __init__(self, message: str, line: int, key: str, problem: str, status: int = 422):
        super().__init__(message, 0, status)
        self.line, self.key, self.problem = line, key, problem


@dataclasses.dataclass(frozen=True)
class TeamCaller:
    """A caller on the team's waiting line, and who (if anyone) is handling them."""

    call_sid: str
    from_: str
    to: str
    identity: str
    since: datetime
    state: str
    claimed_by: str = ""  # the operator's name; '' while nobody holds the caller
    claimed_at: datetime | None = None
    room: str = ""


@dataclasses.dataclass(frozen=True)
class OperatorPresence:
    """An operator who is online, and what they are doing ("idle", "on a call with +44 …")."""

    name: str
    activity: str


def caller_from(data: Mapping[str, Any]) -> TeamCaller:
    """A waiting caller from the team API's JSON (where from_ is "from")."""
    since = _when(data.get("since"))
    return TeamCaller(
        call_sid=str(data["call_sid"]),
        from_=str(data.get("from") or ""),
        to=str(data.get("to") or ""),
        identity=str(data.get("identity") or ""),
        since=since if since is not None else datetime.now().astimezone(),
        state=str(data.get("state") or "waiting"),
        claimed_by=str(data.get("claimed_by") or ""),
        claimed_at=_when(data.get("claimed_at")),
        room=str(data.get("room") or ""),
    )
