"""Team mode in the window: the stream's state in the status bar, and a stale, greyed display."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QLabel

from console.core.team_runtime import RELOAD, offline_reason

if TYPE_CHECKING:
    from console.ui.window.window_host import WindowHost

STALE_STATES = frozenset({"reconnecting", "turned-away", "refused"})
SHARED_ACTIONS = frozenset({"action", "call.placed", "call.moved"})  # another console's work
CONTROL_ACTIONS = frozenset({"subscribe_rules", "recording_rules"})  # mutes and recording
BANNER_STYLE = "background:#fdebd0; color:#6e2c00; padding:6px 10px; border:1px solid #b9770e;"


class TeamStateView(QObject):
    """Shows the team stream's state; while it is lost, greys the panels and says they are stale.

    The panels keep the last state they had (nothing is cleared); the gateway refuses actions
    meanwhile (console/core/team_session.py), and the refresh timer rests until the stream is
    back, when one refresh brings the window up to date.
    """

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)  # type: ignore[arg-type]  # the window is a QObject
        self.window = window
        self.stale = False
        self.state = ""
        self.banner = QLabel()
        self.banner.setAccessibleName("Stale notice")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setTextFormat(Qt.TextFormat.PlainText)
        self.banner.hide()

    def _team(self) -> bool:
        runtime = self.window.controller.runtime
        return runtime is not None and runtime.mode == "team"

    def start(self) -> None:
        """The team session has started: show the state it started in."""
        runtime = self.window.controller.runtime
        if runtime is not None:
            self.apply(*(runtime.team_state if runtime.team_state[0] else ("connecting", "")))

    @Slot(str, str)
    def on_bridge_team_state_changed(self, state: str, detail: str) -> None:
        """The stream connected, dropped, or was refused."""
        self.apply(state, detail)

    @Slot(object)
    def on_bridge_team_event(self, event: object) -> None:
        """Another operator acted (or this console was away too long): show the new state."""
        kind, data = getattr(event, "kind", ""), getattr(event, "data", {}) or {}
        if not self._team():
            return
        controller = self.window.controller
        if kind == RELOAD:
            self.window.event_log.write("Away longer than the team keeps events: reloading")
            controller.refresh()
            return
        runtime = controller.runtime
        mine = runtime is not None and data.get("operator") == runtime.operator
        if kind not in SHARED_ACTIONS or mine:
            return  # this console's own actions show already
        who, action = data.get("operator", "another operator"), data.get("action", kind)
        self.window.event_log.write(f"{who}: {action.replace('_', ' ')}")
        if action in CONTROL_ACTIONS and data.get("room_sid"):
            controller.reread_controls(str(data["room_sid"]))  # their mute shows here too
        else:
            controller.refresh()

    def apply(self, state: str, detail: str = "") -> None:
        """Show state; grey the window when it is stale, and bring it back when it is not."""
        if not self._team():
            return  # the session has not started yet: start() shows the state it has then
        window = self.window
        was = self.state
        self.state = state
        window.status.set_team_state(state, detail)
        if state == "closed":
            return
        stale = state in STALE_STATES
        if stale and not self.stale:
            self._go_stale(offline_reason(state, detail))
        elif state == "connected" and self.stale:  # only events flowing again bring it back
            self._come_back()
        elif stale:
            self.banner.setText(self._notice(offline_reason(state, detail)))
        runtime = window.controller.runtime
        if state == "connected" and was != "connected" and runtime and not runtime.operator:
            window.controller.load_account_name()  # started while the server was away

    def _panels(self) -> tuple:
        window = self.window
        return (window.rooms, window.calls, window.waiting, window.dial_pad)

    def _notice(self, reason: str) -> str:
        return (
            f"Stale since {self._since}: {reason}. The window shows the last state it had; "
            "actions are refused until the team server is back."
        )

    def _go_stale(self, reason: str) -> None:
        self.stale = True
        self._since = datetime.now().strftime("%H:%M:%S")
        for panel in self._panels():
            panel.setEnabled(False)
        self.window.refresh_timer.stop()
        self.banner.setText(self._notice(reason))
        self.banner.show()
        self.window.event_log.write(f"ERROR Team server lost: {reason}")
        self.window.status.showMessage(f"Team server lost: {reason}", 15_000)

    def _come_back(self) -> None:
        self.stale = False
        for panel in self._panels():
            panel.setEnabled(True)
        self.banner.hide()
        self.window.refresh_timer.start()
        self.window.controller.refresh()
        self.window.event_log.write("Team server back: events resumed")
        self.window.status.showMessage("Team server back: events resumed", 8000)
