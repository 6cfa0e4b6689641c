"""Reads a team server's event stream (server-sent events) on a thread, as a console would."""

from __future__ import annotations

import json
import queue
import threading
from dataclasses import dataclass
from typing import Any

import requests


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event: its kind, id (None for hello-less ones) and data."""

    kind: str
    id: int | None
    data: Any


def parse_events(lines) -> Any:
    """Server-sent events from text lines (comments and retry lines are skipped)."""
    kind, event_id, data = "message", None, []
    for line in lines:
        if line == "":
            if data:
                yield StreamEvent(kind, event_id, json.loads("\n".join(data)))
            kind, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                kind = value
            elif name == "id":
                event_id = int(value)
            elif name == "data":
                data.append(value)


class EventStreamReader:
    """An open stream; events arrive in `events` (a queue); None marks its end."""

    def __init__(
        self, url: str, token: str, last_event_id: int | None = None, timeout: float = 30
    ) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.response = requests.get(url, headers=headers, stream=True, timeout=timeout)
        self.status = self.response.status_code
        self.events: queue.Queue[StreamEvent | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            lines = self.response.iter_lines(chunk_size=None, decode_unicode=True)
            for event in parse_events(lines):
                self.events.put(event)
        except (requests.RequestException, AttributeError, ValueError):
            pass
        finally:
            self.events.put(None)

    def next(self, timeout: float = 10) -> StreamEvent | None:
        """The next event (None when the stream ended); AssertionError after timeout."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def next_of(self, kind: str, timeout: float = 10) -> StreamEvent:
        """The next event of one kind, skipping others."""
        while True:
            event = self.next(timeout)
            if event is None:
                raise AssertionError(f"the stream ended before a {kind} event")
            if event.kind == kind:
                return event

    def close(self) -> None:
        """Drop the connection."""
        self.response.close()
        self._thread.join(2)
