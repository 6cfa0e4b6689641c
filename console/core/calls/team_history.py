"""The team's call history through the team server, answering what the History window asks."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

import requests
import urllib3

from console.core.calls.history_store import (
    CSV_COLUMNS,
    DEFAULT_LIMIT,
    EXPORT_BATCH,
    OPERATOR_COLUMN,
    HistoryEntry,
    Progress,
    Statuses,
    StatusRecord,
    write_csv,
)
from console.core.gateways.gateway import TwilioError

if TYPE_CHECKING:
    from console.core.gateways.team_gateway import TeamGateway

__all__ = ["OPERATOR_COLUMN", "TEAM_MOST", "TeamHistory", "TeamHistoryEntry", "write_team_csv"]
TEAM_MOST = 10_000  # the most calls the team server answers one search with (not an export)


@dataclass(frozen=True)
class TeamHistoryEntry(HistoryEntry):
    """A call of the team's history, with the operator who placed or took it."""

    operator: str = ""


def write_team_csv(rows: Iterable[TeamHistoryEntry], file: TextIO) -> int:
    """The desktop history's CSV (the same cells, quoting and formula guard) with an operator
    column last, written a row at a time; returns the rows written."""
    return write_csv(rows, file, operators=True)


class ExportCutShort(TwilioError):
    """The team server's CSV stopped coming, or was not the history's CSV."""


def _csv_rows(answer: requests.Response) -> Iterator[list[str]]:
    """The rows of a CSV answer as they arrive; a broken download is ExportCutShort."""
    answer.raw.decode_content = True
    answer.raw.auto_close = False  # at the end: read b"", not "I/O operation on closed file"
    text = io.TextIOWrapper(answer.raw, encoding="utf-8", errors="strict", newline="")
    try:
        yield from csv.reader(text)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
        raise ExportCutShort(f"The team server's export stopped: {type(error).__name__}") from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise ExportCutShort(f"The team server's export is not readable CSV: {error}") from None


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

    def export_csv(
        self,
        file: TextIO,
        text: str = "",
        status: Statuses = None,
        direction: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        progress: Progress | None = None,
        operator: str | None = None,
    ) -> int:
        """Copy the team server's CSV of the calls these filters find (every one, not only a
        search's TEAM_MOST) to file as it arrives, row by row; progress hears the count every
        EXPORT_BATCH calls. Returns how many calls were written."""
        filters = {"text": text, "status": status, "direction": direction, "since": since}
        with self.gateway.open_history_csv(**filters, limit=limit, operator=operator) as answer:
            rows = _csv_rows(answer)
            header = next(rows, None)
            if header != [*CSV_COLUMNS, OPERATOR_COLUMN]:
                raise ExportCutShort("The team server did not send the history's CSV.")
            writer = csv.writer(file)
            writer.writerow(header)
            count = 0
            for row in rows:
                writer.writerow(row)
                count += 1
                if progress is not None and count % EXPORT_BATCH == 0:
                    progress(count)
        if progress is not None:
            progress(count)
        return count

    def close(self) -> None:
        """Nothing to close: the gateway belongs to the window."""
