"""Carries webhook events from the webhook's delivery thread to the GUI thread as Qt signals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from webhook.events import (
    CallerWaiting,
    CallStatusEvent,
    Event,
    RequestLogged,
    RoomEvent,
    RoutesLoaded,
)

if TYPE_CHECKING:
    from console.core.calls.history import CallHistory

log = logging.getLogger(__name__)


class EventBridge(QObject):
    """Lives on the GUI thread; `deliver` may be called from any thread (Qt queues the signals)."""

    call_status_received = Signal(object)
    room_event_received = Signal(object)
    request_logged = Signal(object)
    caller_waiting = Signal(object)  # CallerWaiting: an incoming caller is on hold
    routes_loaded = Signal(object)  # RoutesLoaded: the webhook reread routes.toml
    team_event_received = Signal(object)  # TeamEvent: claims, presence, actions (team mode)
    team_state_changed = Signal(str, str)  # the team stream's state and why (team mode)
    history_progressed = Signal(int, int)  # an old history's upgrade: calls done, in all

    history: CallHistory | None = None  # status callbacks are recorded here as they arrive

    def deliver(self, event: Event) -> None:
        """Hand one webhook event to the GUI thread; this is the webhook's on_event."""
        if isinstance(event, CallStatusEvent):
            self._record(event)
            self.call_status_received.emit(event)
        elif isinstance(event, RoomEvent):
            self.room_event_received.emit(event)
        elif isinstance(event, RequestLogged):
            self.request_logged.emit(event)
        elif isinstance(event, CallerWaiting):
            self.caller_waiting.emit(event)
        elif isinstance(event, RoutesLoaded):
            self.routes_loaded.emit(event)

    def deliver_team(self, event: object) -> None:
        """Hand one team event (no webhook counterpart) to the GUI thread; any thread."""
        self.team_event_received.emit(event)

    def deliver_state(self, state: str, detail: str = "") -> None:
        """Hand the team stream's state (connected, reconnecting, refused...) to the GUI thread."""
        self.team_state_changed.emit(state, detail)

    def deliver_history_progress(self, done: int, total: int) -> None:
        """Hand how far the history's upgrade is to the GUI thread; any thread."""
        self.history_progressed.emit(done, total)

    def _record(self, event: CallStatusEvent) -> None:
        history = self.history
        if history is None or not event.call_sid:
            return
        try:
            history.record_event(event)
        except Exception:  # a full disk must not stop the window hearing about calls
            log.exception("could not record call %s in the history", event.call_sid)
