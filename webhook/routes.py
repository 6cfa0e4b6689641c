"""Routing rules for incoming calls (routes.toml): the model, its parser, writer and matching."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote

import tomli_w

from webhook.names import MAX_NAME_LENGTH, InvalidName, check_identity, check_room_name

ANY_NUMBER = "*"
ROUTE_KEYS = ("number", "room", "ask_code", "hold", "wait_for_room", "max_wait")
TOP_KEYS = ("route", "codes", "callers")
ACTIONS = "room | ask_code | hold"
DEFAULT_MAX_WAIT = 900  # seconds a caller waits for a room to start (wait_for_room)
MAX_WAIT_LIMIT = 4 * 3600  # Twilio ends a call after four hours
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
        where = f"{source}, line {line}" if line > 0 else source  # 0: the file as a whole
        where += f', key "{key}"' if key else ""
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Route:
    """One [[route]]: calls to number join room, are asked for a code, or wait for the operator.

    With wait_for_room, a caller whose room is not in progress yet waits (up to max_wait
    seconds) and joins as soon as it starts.
    """

    number: str
    room: str = ""
    ask_code: bool = False
    hold: bool = False
    wait_for_room: bool = False
    max_wait: int = DEFAULT_MAX_WAIT

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
    _by_number: Mapping[str, Route] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", tuple(self.routes))
        object.__setattr__(self, "codes", _frozen(self.codes))
        object.__setattr__(self, "callers", _frozen(self.callers))
        by_number: dict[str, Route] = {}
        for route in self.routes:
            by_number.setdefault(route.number, route)  # the first route for a number wins
        object.__setattr__(self, "_by_number", by_number)

    @property
    def empty(self) -> bool:
        """Whether there are no rules at all (no routes, codes or callers)."""
        return not (self.routes or self.codes or self.callers)

    def route_for(self, number: str) -> Route | None:
        """The route for a called number: its own route first, then the '*' route, else None."""
        return self._by_number.get(number) or self._by_number.get(ANY_NUMBER)


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
    """Finds the line of a table or key in TOML text, for error messages (a plain text scan).

    The scan runs only when an error needs a line, so a good file is read once, by tomllib.
    """

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        """The text's lines, as TOML counts them (splitlines knows more line breaks)."""
        lines = self.text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return lines

    @cached_property
    def headers(self) -> list[tuple[str, int]]:
        """Every [table] and [[table]] header with its line number."""
        found: list[tuple[str, int]] = []
        for number, line in enumerate(self.lines, start=1):
            if match := _HEADER.match(line):
                found.append((match[1].strip("\"'"), number))
        return found

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
    numbers: set[str] = set()
    for index, table in enumerate(raw):
        route = _parse_route(table, index, where, fail)
        if route.number in numbers:
            line = where.key("number", "route", index)
            raise fail(f"{route.number} already has a route above", line, "number")
        numbers.add(route.number)
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
    for flag in ("ask_code", "hold", "wait_for_room"):
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
    waits = table.get("wait_for_room") is True
    if waits and not room:
        raise fail(
            'wait_for_room needs the room to wait for: room = "…"',
            line_of("wait_for_room"),
            "wait_for_room",
        )
    return Route(
        number,
        room or "",
        table.get("ask_code") is True,
        table.get("hold") is True,
        waits,
        _max_wait(table, waits, line_of, fail),
    )


def _max_wait(table: dict, waits: bool, line_of: Callable[[str], int], fail: _Fail) -> int:
    """The route's max_wait in seconds (only with wait_for_room), or the default."""
    if "max_wait" not in table:
        return DEFAULT_MAX_WAIT
    value = table["max_wait"]
    if not waits:
        raise fail("max_wait goes with wait_for_room = true", line_of("max_wait"), "max_wait")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WAIT_LIMIT:
        problem = f"must be a whole number of seconds from 1 to {MAX_WAIT_LIMIT} (4 hours)"
        raise fail(problem, line_of("max_wait"), "max_wait")
    return value


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
        if route.wait_for_room:
            table["wait_for_room"] = True
            if route.max_wait != DEFAULT_MAX_WAIT:
                table["max_wait"] = route.max_wait
    else:
        table[route.action] = True
    return table
