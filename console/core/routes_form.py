"""The Routes dialog's logic without Qt: rules as table rows, checks per cell, the file on disk."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from webhook.names import InvalidName, check_identity, check_room_name
from webhook.routes import (
    ANY_NUMBER,
    DEFAULT_MAX_WAIT,
    Route,
    RoutesError,
    RoutingRules,
    is_caller_address,
    parse_routes,
    render_routes,
)
from webhook.routes_file import RoutesTooLarge, read_routes, save_routes

ACTION_ROOM, ACTION_CODE, ACTION_HOLD = "Room", "Ask for a code", "Hold"
ACTION_WAIT = "Wait for the room"  # wait_for_room: join the room once it starts
ACTIONS = (ACTION_WAIT, ACTION_ROOM, ACTION_CODE, ACTION_HOLD)
ROOM_ACTIONS = (ACTION_ROOM, ACTION_WAIT)
_LABEL_OF = {"room": ACTION_ROOM, "ask_code": ACTION_CODE, "hold": ACTION_HOLD}
ROUTE_COLUMNS = ("Number", "Action", "Room")
CODE_COLUMNS = ("Code", "Room")
CALLER_COLUMNS = ("Number", "Identity")
_CODE = re.compile(r"[0-9]{1,20}")  # as the webhook reads [codes]: 1 to 20 digits

Row = tuple[str, ...]
CellErrors = dict[tuple[int, int], str]  # (row, column) -> what is wrong there
Check = Callable[[Sequence[Row]], CellErrors]
Stamp = tuple[int, int]  # (mtime_ns, size) of the file as it was read
TEAM_SOURCE = "team routes"  # how errors name the team's routes (as the server names them)


def route_rows(rules: RoutingRules) -> list[Row]:
    """The [[route]] tables as (number, action label, room) rows."""
    return [
        (r.number, ACTION_WAIT if r.wait_for_room else _LABEL_OF[r.action], r.room)
        for r in rules.routes
    ]


def code_rows(rules: RoutingRules) -> list[Row]:
    """The [codes] table as (code, room) rows."""
    return list(rules.codes.items())


def caller_rows(rules: RoutingRules) -> list[Row]:
    """The [callers] table as (number, identity) rows."""
    return list(rules.callers.items())


def rules_from_rows(
    routes: Sequence[Row],
    codes: Sequence[Row],
    callers: Sequence[Row],
    max_waits: Mapping[str, int] | None = None,
) -> RoutingRules:
    """The rules the three tables describe (a route's room counts only for the Room actions).

    max_waits keeps the max_wait a waiting route had in the file, by number (the table has no
    column for it); other waiting routes get the default.
    """
    built = []
    for number, action, room in routes:
        if action == ACTION_WAIT:
            wait = (max_waits or {}).get(number, DEFAULT_MAX_WAIT)
            built.append(Route(number, room=room, wait_for_room=True, max_wait=wait))
        elif action == ACTION_CODE:
            built.append(Route(number, ask_code=True))
        elif action == ACTION_HOLD:
            built.append(Route(number, hold=True))
        else:
            built.append(Route(number, room=room))
    return RoutingRules(tuple(built), dict(codes), dict(callers))


def _room_problem(room: str, empty: str) -> str:
    if not room:
        return empty
    try:
        check_room_name(room)
    except InvalidName as error:
        return str(error)
    return ""


def _duplicates(rows: Sequence[Row], errors: CellErrors, what: str) -> None:
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if row[0] and row[0] in seen and (index, 0) not in errors:
            errors[index, 0] = f"{row[0]} already has {what} above."
        seen.add(row[0])


def check_route_rows(rows: Sequence[Row]) -> CellErrors:
    """What is wrong in each cell of the routes table."""
    errors: CellErrors = {}
    for index, (number, action, room) in enumerate(rows):
        if not number:
            errors[index, 0] = 'Enter the called number: +15005550006, a sip: address or "*".'
        elif number != ANY_NUMBER and not is_caller_address(number):
            errors[index, 0] = f"{number} is not an E.164 number (+ and digits), sip: or *."
        if action not in ACTIONS:
            errors[index, 1] = f"Choose {', '.join(ACTIONS)}."
        elif action in ROOM_ACTIONS and (problem := _room_problem(room, "Enter the room.")):
            errors[index, 2] = problem
    _duplicates(rows, errors, "a route")
    return errors


def check_code_rows(rows: Sequence[Row]) -> CellErrors:
    """What is wrong in each cell of the meeting codes table."""
    errors: CellErrors = {}
    for index, (code, room) in enumerate(rows):
        if not _CODE.fullmatch(code):
            errors[index, 0] = "A meeting code is 1 to 20 digits (0-9)."
        if problem := _room_problem(room, "Enter the room this code joins."):
            errors[index, 1] = problem
    _duplicates(rows, errors, "a room")
    return errors


def check_caller_rows(rows: Sequence[Row]) -> CellErrors:
    """What is wrong in each cell of the known callers table."""
    errors: CellErrors = {}
    for index, (number, identity) in enumerate(rows):
        if not is_caller_address(number):
            errors[index, 0] = "Enter the caller's E.164 number (+ and digits) or sip: address."
        if not identity:
            errors[index, 1] = "Enter the identity this caller joins as."
        else:
            try:
                check_identity(identity)
            except InvalidName as error:
                errors[index, 1] = str(error)
    _duplicates(rows, errors, "an identity")
    return errors


def check_rules(rules: RoutingRules) -> str:
    """'' when the webhook would read these rules back as they are, else what it objects to."""
    try:
        parse_routes(render_routes(rules))
    except RoutesError as error:
        return f'key "{error.key}": {error.problem}' if error.key else error.problem
    return ""


def file_stamp(path: Path) -> Stamp | None:
    """The file's modification time and size, or None when there is no file."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_mtime_ns, info.st_size


@dataclass(frozen=True)
class LoadedRoutes:
    """The routes as the dialog found them (a file, or the team's): rules, or problem and text."""

    path: Path | None  # None for the team's routes
    rules: RoutingRules | None  # None when the file is malformed or unreadable
    text: str | None = None  # the raw text of a malformed file (None if it cannot be read)
    error: RoutesError | None = None
    stamp: Stamp | None = None  # None when the file does not exist
    version: int = 0  # the team's routes: the version a save starts from (0: never saved)

    @property
    def exists(self) -> bool:
        """Whether there were routes to read (a file, or routes the team saved)."""
        return self.stamp is not None or self.version > 0


def load_routes(path: Path) -> LoadedRoutes:
    """Read the routes file (blocking: run it on the TaskRunner); a missing file has no rules."""
    stamp = file_stamp(path)
    if stamp is None:
        return LoadedRoutes(path, RoutingRules())
    try:
        rules = read_routes(path)
    except RoutesTooLarge as error:  # too much text to show or edit: the error says so
        return LoadedRoutes(path, None, None, error, stamp)
    except RoutesError as error:
        try:
            text: str | None = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        return LoadedRoutes(path, None, text, error, stamp)
    return LoadedRoutes(path, rules, stamp=stamp)


class RoutesChanged(Exception):
    """The file changed on disk after the dialog read it, so saving would lose those changes."""


def save_if_unchanged(
    path: Path, rules: RoutingRules, stamp: Stamp | None, force: bool = False
) -> Path:
    """Write rules atomically, unless the file changed since it was read (blocking)."""
    if not force and file_stamp(path) != stamp:
        raise RoutesChanged(f"{path} changed on disk after it was opened.")
    return save_routes(path, rules)


class StoredTeamRoutes(Protocol):
    """The team's routes as the team gateway returns them."""

    version: int
    toml: str


class TeamRoutesServer(Protocol):
    """Where the team's routes are kept: the team gateway."""

    def routes(self) -> StoredTeamRoutes: ...

    def replace_routes(self, toml: str, version: int) -> StoredTeamRoutes: ...


def team_routes_loaded(stored: StoredTeamRoutes) -> LoadedRoutes:
    """The team's routes as the dialog shows them: rules, or the problem and the text."""
    try:
        rules = parse_routes(stored.toml, TEAM_SOURCE)
    except RoutesError as error:  # a server newer than this console: the text, to edit
        return LoadedRoutes(None, None, stored.toml, error, version=stored.version)
    return LoadedRoutes(None, rules, version=stored.version)


def load_team_routes(server: TeamRoutesServer) -> LoadedRoutes:
    """Read the team's routes from the server (blocking: run it on the TaskRunner)."""
    return team_routes_loaded(server.routes())


def save_team_routes(server: TeamRoutesServer, text: str, version: int) -> LoadedRoutes:
    """Replace the team's routes if still at version (blocking); the server's refusals raise."""
    return team_routes_loaded(server.replace_routes(text, version))
