"""Date filters of Twilio's list requests: a date (YYYY-MM-DD) or an ISO 8601 date-time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.errors import invalid_parameter

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
FRACTION = re.compile(r"(\.\d{6})\d+")  # Python reads microseconds; .NET sends 7 digits
EXPECTED = "a date (YYYY-MM-DD) or an ISO 8601 date-time such as 2026-11-24T18:00:00Z"

ON, BEFORE, FROM = "on", "before", "from"


def parse_moment(name: str, value: str) -> datetime:
    """The moment a filter value names, in UTC; Twilio's 400 (20001) if it does not parse.

    A bare date stands for midnight UTC at its start; a date-time without a zone is UTC.
    """
    text = value.strip()
    if not (DATE.match(text) or DATE_TIME.match(text)):
        raise invalid_parameter(name, value, EXPECTED)
    try:
        moment = datetime.fromisoformat(FRACTION.sub(r"\1", text))
    except ValueError:  # 2026-02-30, 25:00 …
        raise invalid_parameter(name, value, EXPECTED) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class DateBound:
    """One date filter: the records on that UTC day, before a moment, or from it on."""

    name: str
    relation: str  # ON, BEFORE or FROM
    moment: datetime

    def admits(self, when: datetime | None) -> bool:
        """Whether a record dated `when` passes (a record without that date never does)."""
        if when is None:
            return False
        when = when.astimezone(UTC)
        if self.relation == ON:
            return when.date() == self.moment.date()
        if self.relation == BEFORE:
            return when < self.moment
        return when >= self.moment


def read_bounds(args: Mapping[str, str], relations: Mapping[str, str]) -> list[DateBound]:
    """The date filters of `relations` (parameter -> relation) present in args, parsed."""
    return [
        DateBound(name, relation, parse_moment(name, args[name]))
        for name, relation in relations.items()
        if name in args
    ]


def admitted(when: datetime | None, bounds: list[DateBound]) -> bool:
    """Whether a record dated `when` passes every bound."""
    return all(bound.admits(when) for bound in bounds)
