"""The operator's main window: rooms → people → dial pad, calls below, status always visible."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget

from console.call_routing import CallRouting
from console.controller import ConsoleController
from console.core.calls.dial_input import DialRequest
from console.core.calls.records import Call, Participant, PhoneNumber, Room
from console.core.number_text import display_number
from console.core.preferences import Preferences
from console.dial_memory import DialMemory
from console.health_monitor import HealthMonitor
from console.team_desk import TeamDesk
from console.ui.calls_panel import CallsPanel
from console.ui.dial_pad import DialPad
from console.ui.prompts import ask
from console.ui.rooms_panel import RoomsPanel
from console.ui.waiting_panel import WaitingPanel
from console.ui.window.attention import WaitingAttention
from console.ui.window.event_log import EventLog, describe_request
from console.ui.window.quit_guard import QuitGuard
from console.ui.window.status_bar import ConsoleStatusBar
from console.ui.window.team_state import TeamStateView
from console.ui.window.window_actions import WindowActions
from console.ui.window.window_dialogs import WindowDialogs
from webhook.events import RequestLogged, RoutesLoaded

if TYPE_CHECKING:
    from console.core.credentials import Credentials
    from console.core.runtime import Runtime
    from console.core.secrets_store import SecretStore
    from console.core.self_check import TunnelWatcher
    from console.ui.team_panel import TeamPanel

ACCEPT, REJECT = QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.RejectRole
MINIMUM_SIZE = (900, 600)
TEAM_PANEL_WIDTH = 220  # the tables keep the rest; a long activity shows in full as a tooltip


class MainWindow(QMainWindow):
    """Wires panels to the controller; every action has a keyboard path."""

    def __init__(
        self,
        controller: ConsoleController,
        preferences: Preferences,
        env: Mapping[str, str],
        check_credentials: Callable[[Credentials], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Paint on the GUI thread alone: Qt otherwise splits big fills among helper threads and
        # waits for them, and on a busy two-core machine that wait stalls the window.
        os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")
        self.controller = controller
        self.preferences = preferences
        self.secrets: SecretStore | None = None  # known once the session has started
        self.env = env
        self.check_credentials = check_credentials
        self._room_to_select = ""
        self.account_name = ""  # live mode: shown instead of the Account SID once known
        self.numbers: list[PhoneNumber] = []  # the account's, for caller-ID choices
        self.setWindowTitle("Switchboard")
        self.setMinimumSize(*MINIMUM_SIZE)
        self.rooms = RoomsPanel(controller.rooms_model, controller.participants_model)
        self.dial_pad = DialPad()
        self.calls = CallsPanel(controller.calls_model)
        self.routing = CallRouting(controller, self)
        self.team_desk = TeamDesk(self.routing, self)  # team mode: claims and presence
        self.team_panel: TeamPanel | None = None  # team mode: made when the session starts
        self.waiting = WaitingPanel(self.routing.waiting_model)
        self.event_log = EventLog(self)
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)
        self.team_view = TeamStateView(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_log)
        self.event_log.hide()
        self._build_layout()
        self.refresh_timer = QTimer(self)
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(1000)
        self.health = HealthMonitor(controller.runner, self)
        self.dial_memory = DialMemory(preferences, controller.runner, self)
        self.dialogs = WindowDialogs(self, self)
        self.quit_guard = QuitGuard(self)
        self.attention = WaitingAttention(self, self.routing.waiting_model, preferences)
        self.actions = WindowActions(self)
        self._connect_signals()
        self.refresh_timer.setInterval(self.preferences.refresh_interval * 1000)
        self.status.set_starting()
        self.dial_pad.setEnabled(False)
        self.actions.settings.setEnabled(False)
        self._restore_geometry()

    # -- construction --------------------------------------------------------------------------

    def _build_layout(self) -> None:
        """Extra width goes to the tables (the dial pad and the Waiting list keep theirs)."""
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.rooms)
        top.addWidget(self.dial_pad)
        top.setStretchFactor(0, 1)
        top.setStretchFactor(1, 0)
        top.setSizes([840, 320])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.calls)
        bottom.addWidget(self.waiting)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 0)
        waiting = sum(self.waiting.view.starting_widths()) + 4  # its columns, and a frame
        bottom.setSizes([1160 - waiting, waiting])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        main.setStretchFactor(0, 2)
        main.setStretchFactor(1, 1)
        main.setSizes([440, 220])
        main.setContentsMargins(8, 8, 8, 0)
        for splitter in (top, bottom, main):
            splitter.setChildrenCollapsible(False)  # no panel can be dragged out of sight
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.team_view.banner)  # team mode: shown while the display is stale
        column.addWidget(main, 1)
        self.setCentralWidget(central)
        self.setTabOrder(self.rooms.rooms_view, self.rooms.participants_view)

    def _connect_signals(self) -> None:
        c = self.controller
        c.numbers_loaded.connect(self.on_controller_numbers_loaded)
        c.rooms_loaded.connect(self.on_controller_rooms_loaded)
        c.dial_busy_changed.connect(self.dial_pad.set_busy)
        c.dial_failed.connect(self.on_controller_dial_failed)
        c.dial_placed.connect(self.on_controller_dial_placed)
        c.identity_conflict.connect(self.on_controller_identity_conflict)
        c.error_reported.connect(self.on_controller_error_reported)
        c.action_done.connect(self.on_action_done)
        c.account_named.connect(self.on_controller_account_named)
        c.log_written.connect(self.event_log.write)
        self.dial_pad.dial_requested.connect(self.on_dial_pad_dial_requested)
        self.rooms.room_selected.connect(self.on_rooms_room_selected)
        self.rooms.new_room_requested.connect(self.dialogs.new_room)
        self.rooms.end_room_requested.connect(self.quit_guard.request_end_room)
        self.rooms.dial_into_requested.connect(self.on_rooms_dial_into_requested)
        self.rooms.move_to_requested.connect(self.on_rooms_move_to_requested)
        self.rooms.people_in = self.controller.people_in
        self.rooms.disconnect_requested.connect(self.on_rooms_disconnect_requested)
        self.rooms.mute_requested.connect(c.room_desk.set_muted)
        self.rooms.record_requested.connect(c.room_desk.set_recording)
        self.calls.hang_up_requested.connect(self.on_calls_hang_up_requested)
        self.status.log_button.toggled.connect(self.event_log.setVisible)
        self.event_log.visibilityChanged.connect(self.status.log_button.setChecked)
        self.refresh_timer.timeout.connect(c.refresh)
        self.tick_timer.timeout.connect(c.calls_model.tick)
        self.tick_timer.timeout.connect(self.routing.waiting_model.tick)
        self.waiting.put_in_room_requested.connect(self.on_waiting_put_in_room_requested)
        self.rooms.caller_dropped.connect(self.on_rooms_caller_dropped)
        self.rooms.move_requested.connect(self.dialogs.move)
        self.routing.waiting_failed.connect(self.on_routing_waiting_failed)
        self.routing.routed.connect(self.event_log.write)
        self.routing.done.connect(self.on_action_done)
        self.team_desk.said.connect(self.event_log.write)
        self.team_desk.load_failed.connect(self.on_controller_error_reported)
        self.health.checked.connect(self.on_health_checked)
        self.actions.follow_selections()

    def _apply_preferences(self) -> None:
        self.dial_pad.set_region(self.preferences.region)
        self.refresh_timer.setInterval(self.preferences.refresh_interval * 1000)

    def _restore_geometry(self) -> None:
        geometry = self.preferences.window_geometry
        if geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1180, 720)

    def start(
        self, runtime: Runtime, secrets: SecretStore, watcher: TunnelWatcher | None = None
    ) -> None:
        """The servers are up: begin work, load numbers and rooms, start the timers.

        In live mode Dial waits for the first check that Twilio can reach the webhook.
        """
        self.secrets = secrets
        self.controller.attach(runtime)
        self._show_mode()
        for note in runtime.notes:
            self.event_log.write(note)
        if runtime.notes:
            self.status.showMessage(runtime.notes[0], 15_000)
        self._apply_preferences()  # the region check loads phonenumbers: after the first paint
        self.dial_pad.setEnabled(watcher is None)
        self.actions.settings.setEnabled(True)
        self.actions.route.setEnabled(True)
        self.actions.set_sandbox(runtime.mode == "sandbox")
        self.actions.set_team(runtime.mode == "team")
        if runtime.mode == "live":
            self.controller.load_account_name()
        self.controller.load_numbers()
        self.controller.refresh()
        self.refresh_timer.start()
        self.tick_timer.start()
        if runtime.mode == "team":
            self.team_view.start()  # the stream's state stands for the webhook's health
            self._start_team_panel(runtime)
        else:
            self.health.start(runtime, watcher)
        if self.preferences.last_room:
            self.dial_pad.set_room(self.preferences.last_room)
        self.dial_pad.focus_number()

    def _start_team_panel(self, runtime: Runtime) -> None:
        """Team mode: who handles each waiting caller, and the Team panel (View ▸ Team)."""
        from console.ui.team_panel import TeamPanel

        self.team_desk.attach(runtime)
        self.team_panel = TeamPanel(self.team_desk.presence_model, self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.team_panel)
        self.resizeDocks([self.team_panel], [TEAM_PANEL_WIDTH], Qt.Orientation.Horizontal)
        self.actions.add_team_panel(self.team_panel)

    def show_start_failure(self, message: str) -> None:
        """The servers did not start: say so where the operator looks, and leave only Quit."""
        self.status.mode.setText("<b>Not started</b>")
        self.status.set_health(message)
        self.event_log.write(f"ERROR {message}")
        self.event_log.show()
        ask(
            self,
            "start-failed",
            "Switchboard could not start",
            message,
            [("&Quit", ACCEPT, self.close)],
        )

    # -- slots ---------------------------------------------------------------------------------

    @Slot(list)
    def on_controller_numbers_loaded(self, numbers: list[PhoneNumber]) -> None:
        self.numbers = numbers
        self.dial_pad.set_numbers(numbers)
        if self.preferences.last_from:
            self.dial_pad.choose_caller_id(self.preferences.last_from)

    @Slot(list)
    def on_controller_rooms_loaded(self, rooms: list[Room]) -> None:
        self.dial_pad.set_rooms([r.unique_name for r in rooms])
        self.waiting.set_rooms([r.unique_name for r in rooms])
        if self._room_to_select and self.rooms.select_room_named(self._room_to_select):
            self._room_to_select = ""
        self.account_name = ""  # live mode: shown instead of the Account SID once known

    @Slot(object)
    def on_dial_pad_dial_requested(self, request: DialRequest) -> None:
        if self.health.problem and self.health.watcher is not None:
            ask(
                self,
                "webhook-unreachable",
                "Twilio may not reach the webhook",
                f"The last check failed: {self.health.problem}. Twilio would answer the call "
                "with an application error (11200). Dial anyway?",
                [
                    ("Dial &anyway", ACCEPT, lambda: self._dial(request)),
                    ("Cancel", REJECT, self._dial_cancelled),
                ],
            )
            return
        self._dial(request)

    def _dial_cancelled(self) -> None:
        self.dial_pad.set_busy(False)
        self.on_action_done("Dial cancelled: no call was placed")

    def _dial(self, request: DialRequest) -> None:
        self.dial_memory.remember(request.from_, request.room)  # written off the GUI thread
        self.status.showMessage(f"Dialing {display_number(request.to)} into {request.room}…", 5000)
        self.controller.dial(request)

    @Slot(str, str)
    def on_controller_dial_failed(self, field: str, message: str) -> None:
        self.dial_pad.show_error(field or "number", message)
        self.status.showMessage(f"Dial failed: {message}", 15_000)  # never a stale "Dialing…"

    @Slot(object)
    def on_controller_dial_placed(self, call: Call) -> None:
        self.dial_pad.clear_error()
        self.dial_pad.clear_after_dial()  # Enter must not dial the same call twice
        # Replaces "Dialing …", which would otherwise linger after the call is under way.
        called = display_number(call.to)
        self.status.showMessage(f"Called {called} into {call.room}: see Calls this session", 8000)
        self.calls.select_call(call.sid)
        if not self.rooms.select_room_named(call.room):
            self._room_to_select = call.room  # listed after the next refresh

    @Slot(object, str)
    def on_controller_identity_conflict(self, request: DialRequest, suggestion: str) -> None:
        from dataclasses import replace

        def use_free() -> None:
            self.dial_pad.set_identity(suggestion)
            self.controller.place(replace(request, identity=suggestion))

        runtime = self.controller.runtime
        # In a team, the server also counts calls still ringing into the room under it.
        dialing = ", or being dialed into it" if runtime and runtime.mode == "team" else ""
        ask(
            self,
            "identity-conflict",
            "Identity already in the room",
            f"{request.identity} is already connected in {request.room}{dialing}. Dialing in a "
            f"second {request.identity} would disconnect the first one (Twilio error 53205).",
            [
                (f"Use {suggestion}", ACCEPT, use_free),
                (
                    "Dial anyway",
                    QMessageBox.ButtonRole.DestructiveRole,
                    lambda: self.controller.place(replace(request, anyway=True)),
                ),
                ("Cancel", REJECT, self.controller.cancel_dial),
            ],
        )

    @Slot(str)
    def on_controller_error_reported(self, message: str) -> None:
        self.status.showMessage(message, 15_000)
        self.event_log.write(f"ERROR {message}")

    @Slot(object)
    def on_rooms_room_selected(self, room: Room | None) -> None:
        """Show its people; the dial pad's room changes only by "Dial into this room"."""
        self.controller.select_room(room)

    @Slot(object)
    def on_rooms_dial_into_requested(self, room: Room) -> None:
        self.actions.on_dial_into_triggered()

    @Slot(object, object)
    def on_rooms_move_to_requested(self, participant: Participant, room: Room) -> None:
        self.routing.move(participant, room.unique_name)

    @Slot(str)
    def on_controller_account_named(self, name: str) -> None:
        runtime = self.controller.runtime
        if runtime is not None and runtime.mode == "team":
            runtime.operator = name  # team mode: the operator this token signs in as
        else:
            self.account_name = name
        self._show_mode()

    def _show_mode(self) -> None:
        runtime = self.controller.runtime
        if runtime is None:
            return
        label = runtime.label
        if runtime.mode == "live" and self.account_name:
            label = f"Live · {self.account_name}"
        webhook = "" if runtime.mode == "team" else runtime.public_url  # the server serves it
        self.status.set_mode(label, webhook, runtime.account_sid)

    @Slot(str)
    def on_action_done(self, message: str) -> None:
        self.status.showMessage(message, 8000)

    @Slot(str, str, str)
    def on_waiting_put_in_room_requested(self, call_sid: str, room: str, identity: str) -> None:
        self.routing.put_in_room(call_sid, room, identity)

    @Slot(str, object)
    def on_rooms_caller_dropped(self, call_sid: str, room: Room) -> None:
        self.routing.put_in_room(call_sid, room.unique_name, self.waiting.identity_for(call_sid))

    @Slot(str)
    def on_routing_waiting_failed(self, message: str) -> None:
        self.waiting.show_error(message)
        self.on_controller_error_reported(message)

    @Slot(object)
    def on_rooms_disconnect_requested(self, participant: Participant) -> None:
        self.controller.disconnect(participant)

    @Slot(object)
    def on_calls_hang_up_requested(self, call: Call) -> None:
        self.controller.hang_up(call)

    @Slot(object)
    def on_bridge_routes_loaded(self, event: RoutesLoaded) -> None:
        if event.error:
            self.on_controller_error_reported(f"Routes file not used: {event.error}")
        else:
            self.event_log.write(f"Routes loaded from {event.path}")

    @Slot(object)
    def on_bridge_request_logged(self, event: RequestLogged) -> None:
        self.event_log.write(describe_request(event))

    @Slot(str)
    def on_health_checked(self, problem: str) -> None:
        runtime = self.controller.runtime
        self.status.set_health(problem)
        if runtime is not None:  # a reconnected tunnel may have a new URL
            self._show_mode()
            if runtime.mode == "live" and not self.account_name:
                self.controller.load_account_name()  # the first try may have failed
        if not self.dial_pad.isEnabled() and self.health.checks_done == 1:
            self.dial_pad.setEnabled(True)  # live mode: Dial waited for the first check
            self.dial_pad.focus_number()

    @Slot()
    def on_settings_saved(self) -> None:
        self._apply_preferences()
        self.status.showMessage(
            "Settings saved. A new account or webhook port takes effect when Switchboard restarts.",
            15_000,
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the window's place and stop the timers; the app then stops the servers.

        Closing from the window manager asks first when callers would be lost, like Quit;
        a close from the program itself (a signal, a test, Quit's own answer) goes through.
        """
        if event.spontaneous() and not self.quit_guard.ready and self.quit_guard.at_stake():
            event.ignore()
            self.quit_guard.request_quit()
            return
        self.preferences.window_geometry = bytes(self.saveGeometry().data())
        for timer in (self.refresh_timer, self.tick_timer):
            timer.stop()
        self.dialogs.stop()
        self.health.stop()
        self.attention.stop()
        super().closeEvent(event)
