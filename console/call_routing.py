"""Callers waiting for the operator, and moving calls between rooms, by redirecting live calls.

In team mode the team server does the redirect: putting a caller in a room claims them and
places them in one request, so of two operators who click at once one wins and the other is
told who has the caller.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from console.core.calls.records import Call, Participant
from console.core.number_text import display_number
from console.models.waiting_model import WaitingCaller, WaitingModel
from webhook.events import CallerWaiting, CallStatusEvent
from webhook.names import free_identity

if TYPE_CHECKING:
    from console.controller import ConsoleController
    from console.core.gateways.team_gateway import TeamGateway
    from console.core.runtime import Runtime

log = logging.getLogger(__name__)

ROOM_EXISTS = 53113
GOODBYE = "Sorry, nobody can take your call right now. Please call again later. Goodbye."


@dataclass(frozen=True)
class SandboxLogin:
    """Where the sandbox answers and the test credentials that open it (not Twilio secrets)."""

    url: str
    account_sid: str
    auth_token: str


def already_handling(operator: str, caller: WaitingCaller) -> str:
    """Why this console cannot take a caller another operator holds, in words."""
    return f"{operator} is already handling {display_number(caller.from_)}"


def sandbox_login(runtime: Runtime | None) -> SandboxLogin | None:
    """The sandbox a sandbox-mode session runs on; None in live mode."""
    if runtime is None or runtime.mode != "sandbox" or not runtime.sandbox_url:
        return None
    token = runtime.webhook.app.config.get("AUTH_TOKEN", "")  # the webhook checks the same one
    return SandboxLogin(runtime.sandbox_url, runtime.account_sid, token)


def place_or_name_taker(
    gateway: TeamGateway, call_sid: str, room: str, identity: str, operator: str
) -> tuple[str, str]:
    """Blocking, for workers: claim and place a caller; (room, identity joined as).

    A caller no longer waiting because another operator took them raises ClaimedByOther naming
    that operator (the team's history says who), so the loser of a close race is told who won.
    """
    from console.core.gateways.gateway import TwilioError
    from console.core.gateways.team_records import ClaimedByOther

    try:
        return gateway.place_waiting(call_sid, room, identity)
    except TwilioError as error:
        if error.status != 404 or isinstance(error, ClaimedByOther):
            raise
        try:
            found = gateway.search_history(text=call_sid, limit=5)
        except TwilioError:
            raise error from None
        taker = next((who for entry, who in found if entry.sid == call_sid), "")
        if not taker or taker == operator:
            raise
        raise ClaimedByOther(f"{taker} is already handling this caller.", taker) from None


def _ignore(error: object) -> None:
    log.info("could not give a caller back to the team: %s", error)


class MoveRefused(Exception):
    """A move that would disconnect someone else (their identity is taken in the room)."""


class CallRouting(QObject):
    """Puts waiting callers into rooms and moves connected calls; all requests off-thread."""

    waiting_failed = Signal(str)  # why a caller could not be put in a room
    routed = Signal(str)  # a line for the event log
    done = Signal(str)  # what just happened, for the status bar

    def __init__(self, controller: ConsoleController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.waiting_model = WaitingModel(clock=controller._now, parent=self)
        controller.room_desk.participant_joined.connect(self.on_desk_participant_joined)

    # -- waiting -------------------------------------------------------------------------------

    @Slot(object)
    def on_bridge_caller_waiting(self, event: CallerWaiting) -> None:
        """An incoming caller is on hold: list them."""
        self.waiting_model.add(WaitingCaller.from_event(event))
        self.routed.emit(f"{event.from_} is waiting on {event.to}")

    @Slot(str, str)
    def on_desk_participant_joined(self, room: str, identity: str) -> None:
        """A caller waiting for a room to start joined it by themselves: they leave the list."""
        for caller in self.waiting_model.joined(room, identity):
            self.routed.emit(f"{caller.from_} joined {room} as {identity} when it started")

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        """A waiting caller who hung up leaves the list."""
        if event.is_final and self.waiting_model.remove(event.call_sid):
            self.routed.emit(f"Caller {event.call_sid} hung up while waiting")

    @property
    def team(self) -> bool:
        """Whether the console works in a team (the server holds the waiting line)."""
        runtime = self.controller.runtime
        return runtime is not None and runtime.mode == "team"

    def refusal(self, call_sid: str) -> str:
        """Why this console may not take the caller ('' when it may): another operator has them."""
        caller, holder = (
            self.waiting_model.caller(call_sid),
            self.waiting_model.held_by_other(call_sid),
        )
        return already_handling(holder, caller) if caller is not None and holder else ""

    def put_in_room(self, call_sid: str, room: str, identity: str) -> None:
        """Redirect a waiting caller into a room (created if missing), with a free identity."""
        model = self.waiting_model
        caller = model.caller(call_sid)
        if caller is None or model.is_pending(call_sid):
            return
        if self.team:
            self._place_for_team(caller, room, identity)
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
            self.done.emit(f"Put {display_number(caller.from_)} into {room} as {free}")
            self.controller.refresh()

        def on_error(error: object) -> None:
            from console.controller import error_text

            model.set_pending(call_sid, False)
            self.waiting_failed.emit(f"Could not put {caller.from_} in {room}: {error_text(error)}")

        self.controller.runner.submit(job, on_done, on_error)

    def _place_for_team(self, caller: WaitingCaller, room: str, identity: str) -> None:
        """Claim and place through the team server, in one request; a lost race is told."""
        refused = self.refusal(caller.call_sid)
        if refused:
            self.waiting_failed.emit(refused)
            return
        model, call_sid = self.waiting_model, caller.call_sid
        gateway = self.controller.gateway
        assert gateway is not None
        model.set_pending(call_sid, True)

        def on_done(result: tuple[str, str]) -> None:
            placed_in, joined_as = result
            model.remove(call_sid)
            now = self.controller._now()
            call = Call(
                call_sid,
                to=caller.to,
                from_=caller.from_,
                status="in-progress",
                direction="inbound",
                room=placed_in,
                identity=joined_as,
                placed_at=caller.since,
                answered_at=now,
            )
            self.controller.list_call(call)
            self.routed.emit(f"Put {caller.from_} into {placed_in} as {joined_as}")
            self.done.emit(f"Put {display_number(caller.from_)} into {placed_in} as {joined_as}")
            self.controller.refresh()

        def on_error(error: object) -> None:
            from console.controller import error_text
            from console.core.gateways.team_records import ClaimedByOther

            model.set_pending(call_sid, False)
            if isinstance(error, ClaimedByOther) and error.holder:
                if model.caller(call_sid) is not None:
                    model.set_claim(call_sid, error.holder)
                self.waiting_failed.emit(already_handling(error.holder, caller))
                return
            holder = model.held_by_other(call_sid)
            if holder or model.caller(call_sid) is None:  # another operator got there first
                why = f"{holder} has them" if holder else "they are no longer waiting"
                self.waiting_failed.emit(
                    f"Could not put {display_number(caller.from_)} in {room}: {why}"
                )
                return
            self.waiting_failed.emit(f"Could not put {caller.from_} in {room}: {error_text(error)}")
            # A claim this request made must not keep the caller from the team.
            self.controller.runner.submit(lambda: gateway.release(call_sid), None, _ignore)

        me = model.operator
        self.controller.runner.submit(
            lambda: place_or_name_taker(gateway, call_sid, room, identity, me), on_done, on_error
        )

    def say_goodbye(self, call_sids: list[str]) -> None:
        """Play waiting callers a goodbye and hang up (their calls are redirected to it)."""
        model = self.waiting_model
        sids = [sid for sid in call_sids if model.caller(sid) and not model.is_pending(sid)]
        for refused in filter(None, map(self.refusal, sids)):
            self.waiting_failed.emit(refused)
        sids = [sid for sid in sids if not self.refusal(sid)]
        for sid in sids:
            model.set_pending(sid, True)

        def on_done(failures: dict[str, str]) -> None:
            for sid in sids:
                caller = model.caller(sid)
                if sid in failures:
                    model.set_pending(sid, False)
                    who = caller.from_ if caller else sid
                    self.waiting_failed.emit(f"Could not hang up {who}: {failures[sid]}")
                elif caller is not None:
                    model.remove(sid)
                    self.routed.emit(f"Said goodbye to {caller.from_} and hung up")
                    self.done.emit(f"Hung up {display_number(caller.from_)} with a goodbye")

        self.controller.runner.submit(lambda: self.goodbye_now(sids), on_done)

    def goodbye_now(self, call_sids: list[str]) -> dict[str, str]:
        """Blocking, for workers: redirect each call to a goodbye; {call_sid: why} for failures."""
        from console.controller import error_text
        from webhook.twiml import goodbye

        gateway = self.controller.gateway
        assert gateway is not None
        failures = {}
        for sid in call_sids:
            try:
                if self.team:  # the team server answers calls; it hangs up
                    gateway.hang_up(sid)
                else:
                    gateway.redirect_call(sid, goodbye(GOODBYE))
            except Exception as error:
                failures[sid] = error_text(error)
        return failures

    def put_all_now(self, callers: list[tuple[str, str]], room: str) -> dict[str, str]:
        """Blocking, for workers: every (call_sid, identity) into one room, no two alike.

        Returns {call_sid: why} for the callers that could not be put there.
        """
        from console.controller import error_text

        failures = {}
        try:
            taken = self._ensure_room(room)
        except Exception as error:
            return {sid: error_text(error) for sid, _ in callers}
        for sid, identity in callers:
            free = free_identity(identity, taken)
            try:
                self._redirect(sid, room, free)
            except Exception as error:
                failures[sid] = error_text(error)
            else:
                taken.add(free)
        return failures

    def simulate_incoming(self, caller: str, number: str, digits: str = "") -> None:
        """Sandbox mode: a caller rings one of the sandbox's numbers, which rings this webhook."""

        def on_done(result: tuple[str, bool]) -> None:
            sid, rerouted = result
            if rerouted:
                self.routed.emit(f"{number} now rings this console's webhook")
            self.routed.emit(f"Simulated a call from {caller} to {number} ({sid})")
            self.done.emit(
                f"Simulated call: {display_number(caller)} is calling {display_number(number)}"
            )

        def on_error(error: object) -> None:
            from console.controller import error_text

            self.controller.error_reported.emit(
                f"Could not simulate a call to {number}: {error_text(error)}"
            )

        self.controller.runner.submit(
            lambda: self.simulate_now(caller, number, digits), on_done, on_error
        )

    def simulate_now(self, caller: str, number: str, digits: str = "") -> tuple[str, bool]:
        """Blocking, for workers: route number here if needed, then ring it; (CallSid, rerouted)."""
        import requests

        from console.core.gateways.gateway import TwilioError

        runtime, gateway = self.controller.runtime, self.controller.gateway
        login = sandbox_login(runtime)
        if login is None or gateway is None or runtime is None:
            raise TwilioError("Simulated calls need sandbox mode")
        incoming = f"{runtime.public_url}/voice/incoming"
        status = runtime.call_status_url
        line = next((n for n in gateway.list_numbers() if n.number == number), None)
        if line is None:
            raise TwilioError(f"{number} is not one of the sandbox's numbers", 21404)
        rerouted = (line.voice_url, line.status_callback) != (incoming, status)
        if rerouted:
            gateway.set_voice_url(line.sid, incoming, status)
        fields = {"From": caller, "To": number}
        if digits:
            fields["Digits"] = digits
        answer = requests.post(
            f"{login.url}/sandbox/IncomingCalls",
            auth=(login.account_sid, login.auth_token),
            data=fields,
            timeout=10,
        )
        body = answer.json() if answer.content else {}
        if answer.status_code >= 400:
            raise TwilioError(body.get("message", answer.reason), body.get("code", 0))
        return body.get("sid", ""), rerouted

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
            self.done.emit(f"Moved {participant.identity} to {destination}")
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
