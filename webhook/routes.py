"""Routing rules for incoming calls (routes.toml): the model, its parser, writer and matching."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

import tomli_w

from webhook.names import MAX_NAME_LENGTH, InvalidName, check_identity, check_room_name

ANY_NUMBER = "*"
ROUTE_KEYS = ("number", "room", "ask_code", "hold")
TOP_KEYS = ("route", "codes", "callers")
ACTIONS = "room | ask_code | hold"
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_CODE = re.compile(r"[0-9]{1,20}")
_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""\s*("[^"]*"|'[^']*'|[^\s=\[#]+)\s*=""")
_AT = re.compile(r"\s*\(at line (\d+), column \d+\)\s*$")
_Fail = Callable[[str, int, str], "RoutesError"]  # (problem, line, key) -> error to raise
_FILE_HEADER = "# Switchboard: where incoming calls go. See README, 'Incoming calls'.\n\n"


class RoutesError(ValueError):
    """A routes file that cannot be used; says where (line and key) and what is wrong."""

    def __init__(self, problem: str, line: int, key: str = "", source: str = "routes.toml"):
        self.problem, self.line, self.key, self.source = problem, line, key, source
        where = f"{source}, line {line}" + (f', key "{key}"' if key else "")
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Route:
    """One [[route]]: calls to number join room, are asked for a code, or wait for the operator."""

    number: str
    room: str = ""
    ask_code: bool = False
    hold: bool = False

    @property
    def action(self) -> str:
        """'room', 'ask_code' or 'hold'."""
        if self.ask_code:
            return "ask_code"
        return "hold" if self.hold else "room"


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class RoutingRules:
    """Every rule of a routes file: routes by called number, meeting codes, known callers."""

    routes: tuple[Route, ...] = ()
    codes: Mapping[str, str] = field(default_factory=dict)
    callers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        object.__setattr__(self, "codes", _frozen(self.codes))
        object.__setattr__(self, "callers", _frozen(self.callers))

    def route_for(self, number: str) -> Route | None:
        """The route for a called number: its own route first, then the '*' route, else None."""
        exact = next((r for r in self.routes if r.number == number), None)
        return exact or next((r for r in self.routes if r.number == ANY_NUMBER), None)


def is_caller_address(value: str) -> bool:
    """Whether value is an E.164 number or a sip: address, as Twilio sends in From and To."""
    return bool(_E164.fullmatch(value)) or (value.lower().startswith("sip:") and len(value) > 4)


def identity_for(caller: str, rules: RoutingRules) -> str:
    """The identity a caller gets: their [callers] name, a sip: user part, or phone-<last 4>."""
    known = rules.callers.get(caller)
    if known:
        return known
    if caller.lower().startswith("sip:"):
        user = unquote(caller[4:].split("@", 1)[0].split(";", 1)[0]).strip()
        try:
            return check_identity(user[:MAX_NAME_LENGTH]) or "sip-caller"
        except InvalidName:
            return "sip-caller"
    digits = "".join(char for char in caller if char.isascii() and char.isdigit())
    return f"phone-{digits[-4:]}" if digits else "caller"


class _Locator:
    """Finds the line of a table or key in TOML text, for error messages (a plain text scan)."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")  # TOML's own idea of a line (splitlines knows more breaks)
        if self.lines[-1] == "":
            self.lines.pop()
        self.headers: list[tuple[str, int]] = []
        for number, line in enumerate(self.lines, start=1):
            if match := _HEADER.match(line):
                self.headers.append((match[1].strip("\"'"), number))

    def table(self, name: str, index: int = 0) -> int:
        """The line of the index-th [name] or [[name]] header; 0 when there is none."""
        found = [line for header, line in self.headers if header.partition(".")[0] == name]
        return found[index] if index < len(found) else 0

    def key(self, key: str, table: str = "", index: int = 0) -> int:
        """The line where key is set inside a table (top level when table is '')."""
        start = self.table(table, index) if table else 0
        if table and not start:
            return self.key(key)
        later = [line for _, line in self.headers if line > start]
        end = later[0] if later else len(self.lines) + 1
        for number in range(start + 1, end):
            match = _KEY.match(self.lines[number - 1])
            if match and match[1].strip("\"'") == key:
                return number
        return start or self.table(key) or 1

    def syntax_error(self, error: tomllib.TOMLDecodeError, source: str) -> RoutesError:
        """A RoutesError for what tomllib found, naming the key on that line if there is one."""
        message = str(error)
        at = _AT.search(message)
        line = int(at[1]) if at else max(1, len(self.lines))
        problem = _AT.sub("", message) if at else message
        key = ""
        if 0 < line <= len(self.lines) and (match := _KEY.match(self.lines[line - 1])):
            key = match[1].strip("\"'")
        return RoutesError(f"{problem} (this is not valid TOML)", line, key, source)


def parse_routes(text: str, source: str = "routes.toml") -> RoutingRules:
    """Read routes.toml text into rules, or raise RoutesError naming the line and key."""
    where = _Locator(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise where.syntax_error(error, source) from None

    def fail(problem: str, line: int, key: str) -> RoutesError:
        return RoutesError(problem, max(line, 1), key, source)

    for key in data:
        if key not in TOP_KEYS:
            raise fail(f"unknown setting; expected {', '.join(TOP_KEYS)}", where.key(key), key)
    routes = _parse_route_tables(data.get("route", []), where, fail)
    codes = _parse_table(data.get("codes", {}), "codes", where, fail, _check_code)
    callers = _parse_table(data.get("callers", {}), "callers", where, fail, _check_caller)
    return RoutingRules(routes, codes, callers)


def _parse_route_tables(raw: Any, where: _Locator, fail: _Fail) -> tuple[Route, ...]:
    if isinstance(raw, dict):
        raise fail(
            "write each route as a [[route]] table (two brackets)", where.table("route"), "route"
        )
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise fail("must be [[route]] tables", where.key("route"), "route")
    routes: list[Route] = []
    for index, table in enumerate(raw):
        route = _parse_route(table, index, where, fail)
        if any(r.number == route.number for r in routes):
            line = where.key("number", "route", index)
            raise fail(f"{route.number} already has a route above", line, "number")
        routes.append(route)
    return tuple(routes)


def _parse_route(table: dict, index: int, where: _Locator, fail: _Fail) -> Route:
    def line_of(key: str) -> int:
        return where.key(key, "route", index)

    for key in table:
        if key not in ROUTE_KEYS:
            raise fail(f"unknown route key; expected {', '.join(ROUTE_KEYS)}", line_of(key), key)
    number = table.get("number")
    if number is None:
        line = where.table("route", index) or 1
        raise fail('a route needs the number it answers ("+15005550006" or "*")', line, "number")
    if not isinstance(number, str):
        raise fail(
            'must be text in quotes, e.g. number = "+15005550006"', line_of("number"), "number"
        )
    if number != ANY_NUMBER and not is_caller_address(number):
        problem = f"{number!r} is not an E.164 number (+ and digits), a sip: address or '*'"
        raise fail(problem, line_of("number"), "number")
    for flag in ("ask_code", "hold"):
        if flag in table and not isinstance(table[flag], bool):
            raise fail("must be true or false", line_of(flag), flag)
    room = table.get("room")
    if room is not None:
        if not isinstance(room, str):
            raise fail("must be text in quotes", line_of("room"), "room")
        try:
            check_room_name(room)
        except InvalidName as error:
            raise fail(str(error), line_of("room"), "room") from None
    given = [k for k in ("room", "ask_code", "hold") if k in table and table[k] is not False]
    if not given:
        line = where.table("route", index) or line_of("number")
        raise fail(
            f'the route for {number} needs room = "…", ask_code = true or hold = true',
            line,
            ACTIONS,
        )
    if len(given) > 1:
        problem = f"a route does one thing; {' and '.join(given)} are both set"
        raise fail(problem, line_of(given[1]), given[1])
    return Route(number, room or "", table.get("ask_code") is True, table.get("hold") is True)


def _check_code(code: str, room: Any) -> str | None:
    if not _CODE.fullmatch(code):
        return "a meeting code is 1 to 20 digits (0-9)"
    if not isinstance(room, str):
        return "must be a room name in quotes"
    try:
        check_room_name(room)
    except InvalidName as error:
        return str(error)
    return None


def _check_caller(caller: str, identity: Any) -> str | None:
    if not is_caller_address(caller):
        return f"{caller!r} is not an E.164 number (+ and digits) or a sip: address"
    if not isinstance(identity, str) or not identity.strip():
        return "must be a non-empty identity in quotes"
    try:
        check_identity(identity)
    except InvalidName as error:
        return str(error)
    return None


def _parse_table(
    raw: Any, name: str, where: _Locator, fail: _Fail, check: Callable[[str, Any], str | None]
) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise fail(f"must be a [{name}] table", where.key(name), name)
    for key, value in raw.items():
        if problem := check(key, value):
            raise fail(problem, where.key(key, name), key)
    return dict(raw)


def render_routes(rules: RoutingRules) -> str:
    """The TOML text of rules, as parse_routes reads it back (comments are not kept)."""
    # tomli-w writes short tables inline; each route gets its own [[route]] header instead.
    chunks = [f"[[route]]\n{tomli_w.dumps(_route_table(route))}" for route in rules.routes]
    tables = {
        name: dict(value) for name, value in (("codes", rules.codes), ("callers", rules.callers))
    }
    if any(tables.values()):
        chunks.append(tomli_w.dumps({name: value for name, value in tables.items() if value}))
    return _FILE_HEADER + "\n".join(chunks)


def _route_table(route: Route) -> dict[str, Any]:
    table: dict[str, Any] = {"number": route.number}
    if route.action == "room":
        table["room"] = route.room
    else:
        table[route.action] = True
    return table
