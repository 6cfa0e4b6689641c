"""The team's call history through the team server, answering what the History window asks."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from console.core.calls.history import (
    CSV_COLUMNS,
    DEFAULT_LIMIT,
    HistoryEntry,
    StatusRecord,
    csv_cells,
)

if TYPE_CHECKING:
    from console.core.gateways.team_gateway import TeamGateway

OPERATOR_COLUMN = "operator"  # the CSV column after the desktop history's columns
TEAM_MOST = 10_000  # the most calls the team server answers one search with
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?!\d+$)")  # as the desktop CSV guards its cells


@dataclass(frozen=True)
class TeamHistoryEntry(HistoryEntry):
    """A call of the team's history, with the operator who placed or took it."""

    operator: str = ""


def _operator_cell(name: str) -> str:
    """An operator's name as a CSV cell no spreadsheet runs as a formula."""
    return "'" + name if _FORMULA.match(name) else name


def write_team_csv(rows: Iterable[TeamHistoryEntry], file: TextIO) -> int:
    """The desktop history's CSV (the same cells, quoting and formula guard) with an operator
    column last, written a row at a time; returns the rows written."""
    writer = csv.writer(file)
    writer.writerow([*CSV_COLUMNS, OPERATOR_COLUMN])
    count = 0
    for row in rows:
        writer.writerow([*csv_cells(row), _operator_cell(row.operator)])
        count += 1
    return count


class TeamHistory:
    """CallHistory's reading side (search, statuses, CSV) over the team server, with operators.

    Every method blocks on the network: call them on the TaskRunner, never the GUI thread.
    """

    def __init__(self, gateway: TeamGateway) -> None:
        self.gateway = gateway

    def search(
        self,
        text: str = "",
        status: str | Iterable[str] | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = DEFAULT_LIMIT,
        operator: str | None = None,
    ) -> list[TeamHistoryEntry]:
        """The team's calls newest first, as CallHistory.search, and by operator when given.

        limit None asks for as many as the server answers one search with (TEAM_MOST).
        """
        most = TEAM_MOST if limit is None else min(limit, TEAM_MOST)
        found = self.gateway.search_history(text, status, direction, since, most, operator)
        return [TeamHistoryEntry(**vars(entry), operator=who) for entry, who in found]

    def statuses_of(self, sid: str) -> list[StatusRecord]:
        """Every status one call went through, oldest first."""
        return self.gateway.call_statuses(sid)  # a retried read

    def operators(self) -> list[str]:
        """The operators online now, by name (the filter adds those found in the history)."""
        return sorted((found.name for found in self.gateway.presence()), key=str.casefold)

    def export_csv(self, rows: Iterable[TeamHistoryEntry], file: TextIO) -> int:
        """Write rows as CSV with a header and the operator of each call; returns the count."""
        return write_team_csv(rows, file)

    def close(self) -> None:
        """Nothing to close: the gateway belongs to the window."""
