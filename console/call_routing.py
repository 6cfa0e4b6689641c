"""Callers waiting for the operator, and moving calls between rooms, by redirecting live calls."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from console.core.records import Call, Participant
from console.models.waiting_model import WaitingCaller, WaitingModel
from webhook.events import CallerWaiting, CallStatusEvent
from webhook.names import free_identity

if TYPE_CHECKING:
    from console.controller import ConsoleController

log = logging.getLogger(__name__)

ROOM_EXISTS = 53113


class MoveRefused(Exception):
    """A move that would disconnect someone else (their identity is taken in the room)."""


class CallRouting(QObject):
    """Puts waiting callers into rooms and moves connected calls; all requests off-thread."""

    waiting_failed = Signal(str)  # why a caller could not be put in a room
    routed = Signal(str)  # a line for the event log

    def __init__(self, controller: ConsoleController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.waiting_model = WaitingModel(clock=controller._now, parent=self)

    # -- waiting -------------------------------------------------------------------------------

    @Slot(object)
    def on_bridge_caller_waiting(self, event: CallerWaiting) -> None:
        """An incoming caller is on hold: list them."""
        self.waiting_model.add(WaitingCaller.from_event(event))
        self.routed.emit(f"{event.from_} is waiting on {event.to}")

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        """A waiting caller who hung up leaves the list."""
        if event.is_final and self.waiting_model.remove(event.call_sid):
            self.routed.emit(f"Caller {event.call_sid} hung up while waiting")

    def put_in_room(self, call_sid: str, room: str, identity: str) -> None:
        """Redirect a waiting caller into a room (created if missing), with a free identity."""
        model = self.waiting_model
        caller = model.caller(call_sid)
        if caller is None or model.is_pending(call_sid):
            return
        model.set_pending(call_sid, True)

        def job() -> tuple[Call, str]:
            taken = self._ensure_room(room)
            free = free_identity(identity, taken)
            return self._redirect(call_sid, room, free), free

        def on_done(result: tuple[Call, str]) -> None:
            call, free = result
            model.remove(call_sid)
            self.controller.list_call(
                replace(call, room=room, identity=free, answered_at=self.controller._now())
            )
            self.routed.emit(f"Put {caller.from_} into {room} as {free}")
            self.controller.refresh()

        def on_error(error: object) -> None:
            from console.controller import error_text

            model.set_pending(call_sid, False)
            self.waiting_failed.emit(f"Could not put {caller.from_} in {room}: {error_text(error)}")

        self.controller.runner.submit(job, on_done, on_error)

    # -- moving --------------------------------------------------------------------------------

    def move(self, participant: Participant, destination: str) -> None:
        """Redirect a connected call to another room, keeping its identity."""
        controller = self.controller

        def job() -> Call:
            taken = self._ensure_room(destination)
            if participant.identity in taken:
                raise MoveRefused(
                    f"{participant.identity} is already in {destination}; moving would "
                    "disconnect them (Twilio error 53205)"
                )
            return self._redirect(participant.call_sid, destination, participant.identity)

        def on_done(call: Call) -> None:
            known = controller.calls_model.call(call.sid)
            controller.list_call(replace(known or call, room=destination))
            self.routed.emit(f"Moved {participant.identity} to {destination}")
            controller.refresh()

        def on_error(error: object) -> None:
            from console.controller import error_text

            why = str(error) if isinstance(error, MoveRefused) else error_text(error)
            controller.error_reported.emit(f"Could not move {participant.identity}: {why}")

        controller.runner.submit(job, on_done, on_error)

    # -- on the worker -------------------------------------------------------------------------

    def _ensure_room(self, name: str) -> set[str]:
        """The identities connected in the room, creating it (group) when it is missing."""
        gateway, runtime = self.controller.gateway, self.controller.runtime
        assert gateway is not None and runtime is not None
        room = gateway.find_room(name)
        if room is not None:
            return {p.identity for p in gateway.list_participants(room.sid)}
        try:
            gateway.create_room(name, status_callback=runtime.room_status_url)
        except Exception as error:
            if getattr(error, "code", 0) != ROOM_EXISTS:
                raise
        return set()

    def _redirect(self, call_sid: str, room: str, identity: str) -> Call:
        from webhook.twiml import join_room

        gateway = self.controller.gateway
        assert gateway is not None
        return gateway.redirect_call(call_sid, join_room(room, identity))
