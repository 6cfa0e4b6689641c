"""Team mode's shared desk: who is handling each waiting caller, and who is online doing what.

It loads the team's waiting line and presence when the session starts (and again when the
server says to reload), then keeps both in step from the team's events: claims, releases and
placements change the Waiting table in every console; operators coming, going and working
change the Team panel. When the session stops it gives back the callers this operator holds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot

from console.core.number_text import display_number
from console.core.team_runtime import RELOAD
from console.models.presence_model import IDLE, PresenceModel, TeamMember
from console.models.waiting_model import WaitingCaller

if TYPE_CHECKING:
    from console.call_routing import CallRouting
    from console.core.gateways.team_records import OperatorPresence, TeamCaller
    from console.core.runtime import Runtime

log = logging.getLogger(__name__)

RELEASE_WAIT = 2.0  # seconds the stop waits for the claims to be given back (best effort)

Loaded = tuple[str, list["TeamCaller"], list["OperatorPresence"]]


def activity_text(value: Any) -> str:
    """An operator's activity as the Team panel shows it ("idle" when the server says none)."""
    if isinstance(value, Mapping):
        value = value.get("text") or value.get("activity") or ""
    return str(value or "").strip() or IDLE


def waiting_caller(caller: TeamCaller) -> WaitingCaller:
    """A caller on the team's line as the Waiting table lists it."""
    return WaitingCaller(caller.call_sid, caller.from_, caller.to, caller.since, caller.identity)


class TeamDesk(QObject):
    """Keeps the Waiting table's claims and the Team panel's presence in step with the team."""

    said = Signal(str)  # a line for the event log
    load_failed = Signal(str)  # why the team's line or presence could not be read

    def __init__(self, routing: CallRouting, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.routing = routing
        self.controller = routing.controller
        self.waiting_model = routing.waiting_model
        self.presence_model = PresenceModel(self)
        self.runtime: Runtime | None = None
        self._callers_touched: set[str] = set()  # claims changed by events while a load ran
        self._members_touched: set[str] = set()
        self._listed_before: set[str] = set()  # callers listed when the load began
        self._loading = False
        self._load_again = False
        self.loaded = False  # the first load has come back

    @property
    def active(self) -> bool:
        """Whether this session works in a team."""
        return self.runtime is not None and self.runtime.mode == "team"

    @property
    def operator(self) -> str:
        """This console's operator ('' until known)."""
        return self.waiting_model.operator

    def attach(self, runtime: Runtime) -> None:
        """The session started: in team mode, load the line and presence and follow events."""
        if runtime.mode != "team":
            return
        self.runtime = runtime
        self._set_operator(runtime.operator)
        runtime.add_cleanup(self.release_claims_now)  # before the stream and the gateway close
        self.reload()

    def _set_operator(self, name: str) -> None:
        if name and not self.operator:
            self.waiting_model.set_operator(name)
            self.presence_model.set_operator(name)

    # -- loading -------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the team's waiting line and who is online, off the GUI thread."""
        runtime = self.runtime
        if runtime is None:
            return
        if self._loading:
            self._load_again = True
            return
        self._loading = True
        self._callers_touched.clear()
        self._members_touched.clear()
        self._listed_before = {w.call_sid for w in self.waiting_model.records()}
        gateway, operator = runtime.gateway, self.operator or runtime.operator

        def job() -> Loaded:
            name = operator or gateway.check_credentials()
            return name, gateway.waiting(), gateway.presence()

        self.controller.runner.submit(job, self._on_loaded, self._on_load_failed)

    def _on_loaded(self, result: Loaded) -> None:
        name, callers, members = result
        self._set_operator(name)
        self.waiting_model.set_line(  # what events changed meanwhile is newer than the list
            [waiting_caller(c) for c in callers],
            {c.call_sid: c.claimed_by for c in callers if c.claimed_by},
            self._listed_before,
            self._callers_touched,
        )
        current = {m.name: m for m in self.presence_model.records()}
        shown = {m.name: TeamMember(m.name, activity_text(m.activity)) for m in members}
        for touched in self._members_touched:  # events since the list was read win
            shown.pop(touched, None)
            if touched in current:
                shown[touched] = current[touched]
        self.presence_model.set_members(shown.values())
        self.loaded = True
        self._load_finished()

    def _on_load_failed(self, error: object) -> None:
        from console.controller import error_text

        message = f"Could not read the team's waiting line: {error_text(error)}"
        self.load_failed.emit(message)
        self.said.emit(f"ERROR {message}")
        self._load_finished()

    def _load_finished(self) -> None:
        self._loading = False
        if self._load_again:
            self._load_again = False
            self.reload()

    # -- events --------------------------------------------------------------------------------

    @Slot(str, str)
    def on_bridge_team_state_changed(self, state: str, detail: str) -> None:
        """The stream is back: a load that failed (the server was away at start) runs again."""
        if state == "connected" and self.active and not self.loaded:
            self.reload()

    @Slot(object)
    def on_bridge_team_event(self, event: object) -> None:
        """A team event (TeamEvent: id, kind, data) from the stream, on the GUI thread."""
        if not self.active:
            return
        kind = str(getattr(event, "kind", ""))
        data: Mapping[str, Any] = getattr(event, "data", None) or {}
        if kind == RELOAD:
            self.reload()
        elif kind.startswith("waiting."):
            self._on_waiting_event(kind, data)
        elif kind.startswith("operator."):
            self._on_operator_event(kind, data)

    def _on_waiting_event(self, kind: str, data: Mapping[str, Any]) -> None:
        sid, who = str(data.get("call_sid", "")), str(data.get("operator", ""))
        if not sid:
            return
        model = self.waiting_model
        self._callers_touched.add(sid)
        caller = model.caller(sid)
        number = display_number(caller.from_) if caller is not None else sid
        if kind == "waiting.claimed":
            model.set_claim(sid, who)
            if who and who != self.operator:
                self.said.emit(f"{who} is handling {number}")
        elif kind == "waiting.released":
            model.set_claim(sid, "")
            why = " (their claim timed out)" if data.get("reason") == "timeout" else ""
            if caller is not None:
                self.said.emit(f"{who or 'An operator'} gave {number} back to the team{why}")
        elif kind == "waiting.placed" and model.remove(sid) and who != self.operator:
            room, identity = data.get("room", ""), data.get("identity", "")
            self.said.emit(f"{who} put {number} into {room} as {identity}")

    def _on_operator_event(self, kind: str, data: Mapping[str, Any]) -> None:
        who = str(data.get("operator", ""))
        if not who:
            return
        self._members_touched.add(who)
        model = self.presence_model
        if kind == "operator.online":
            model.online(who)
            self.said.emit(f"{who} is online")
        elif kind == "operator.offline":
            if model.offline(who):
                self.said.emit(f"{who} went offline")
        elif kind == "operator.revoked":  # their stream closes too: said once, here
            model.offline(who)
            self.said.emit(f"{who}'s operator token was revoked: they are signed out")
        elif kind == "operator.activity":
            model.set_activity(who, activity_text(data.get("activity")))

    # -- stopping ------------------------------------------------------------------------------

    def release_claims_now(self, wait: float = RELEASE_WAIT) -> list[str]:
        """Give back the callers this operator holds (at quit); waits at most `wait` seconds.

        Best effort: what is not given back the server releases when the claim times out.
        Returns the CallSids it tried to give back.
        """
        runtime = self.runtime
        held = self.waiting_model.held_by_me() if runtime is not None else []
        if runtime is None or not held:
            return []
        gateway = runtime.gateway

        def give_back() -> None:
            for sid in held:
                try:
                    gateway.release(sid)
                except Exception as error:  # placed or timed out meanwhile: nothing to give
                    log.info("could not give %s back to the team: %s", sid, error)

        worker = threading.Thread(target=give_back, name="team-release", daemon=True)
        worker.start()
        worker.join(wait)
        return held
