"""Carries webhook events from the webhook's delivery thread to the GUI thread as Qt signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from webhook.events import CallStatusEvent, Event, RequestLogged, RoomEvent


class EventBridge(QObject):
    """Lives on the GUI thread; `deliver` may be called from any thread (Qt queues the signals)."""

    call_status_received = Signal(object)
    room_event_received = Signal(object)
    request_logged = Signal(object)

    def deliver(self, event: Event) -> None:
        """Hand one webhook event to the GUI thread; this is the webhook's on_event."""
        if isinstance(event, CallStatusEvent):
            self.call_status_received.emit(event)
        elif isinstance(event, RoomEvent):
            self.room_event_received.emit(event)
        elif isinstance(event, RequestLogged):
            self.request_logged.emit(event)
