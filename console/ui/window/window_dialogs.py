"""Opens the main window's dialogs (window-modal, never blocking) and acts on their answers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDialog, QWidget

from console.core.calls.dial_input import DialRequest

if TYPE_CHECKING:
    from console.call_routing import CallRouting
    from console.controller import ConsoleController
    from console.core.calls.dial_list import DialEntry
    from console.core.calls.history import CallHistory
    from console.core.calls.records import Call, Participant, PhoneNumber
    from console.core.calls.team_history import TeamHistory
    from console.core.credentials import Credentials
    from console.core.preferences import Preferences
    from console.core.runtime import Runtime
    from console.core.secrets_store import SecretStore
    from console.ui.dial_pad import DialPad
    from console.ui.dialogs.dial_list_dialog import DialListDialog
    from console.ui.dialogs.history_dialog import HistoryDialog
    from console.ui.dialogs.team_routes_dialog import TeamRoutesDialog
    from console.ui.rooms_panel import RoomsPanel
    from console.ui.window.event_log import EventLog
    from console.ui.window.status_bar import ConsoleStatusBar
    from webhook.events import CallStatusEvent


def _show(dialog: QDialog, name: str) -> QDialog:
    dialog.setObjectName(name)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog


def _history_of(runtime: Runtime | None) -> CallHistory | TeamHistory | None:
    """This desktop's history, or in team mode the team's, read through the team server."""
    if runtime is not None and runtime.mode == "team":
        from console.core.calls.team_history import TeamHistory
        from console.core.gateways.team_gateway import TeamGateway

        gateway = runtime.gateway
        return TeamHistory(gateway) if isinstance(gateway, TeamGateway) else None
    return runtime.history if runtime is not None else None


class DialogHost(Protocol):
    """The parts of the main window its dialogs read and act on."""

    controller: ConsoleController
    preferences: Preferences
    numbers: list[PhoneNumber]
    rooms: RoomsPanel
    dial_pad: DialPad
    routing: CallRouting
    event_log: EventLog
    status: ConsoleStatusBar
    secrets: SecretStore | None
    env: Mapping[str, str]

    check_credentials: Callable[[Credentials], str]

    def on_settings_saved(self) -> None: ...


class WindowDialogs(QObject):
    """One place for New room, Settings, Route here, History and Dial list."""

    def __init__(self, window: DialogHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.window = window
        self.owner = parent
        self.controller = window.controller
        self.history_dialog: HistoryDialog | None = None
        self.dial_list_dialog: DialListDialog | None = None
        self.team_routes_dialog: TeamRoutesDialog | None = None

    @Slot()
    def new_room(self) -> None:
        """Ask for a room name and limit, then create the room."""
        from console.ui.dialogs.new_room_dialog import NewRoomDialog

        taken = {r.unique_name for r in self.controller.rooms_model.records()}
        dialog = NewRoomDialog(taken, self.owner)

        def on_accepted() -> None:
            self.controller.create_room(dialog.room_name(), dialog.limit.value())
            self.window.dial_pad.set_room(dialog.room_name())

        dialog.accepted.connect(on_accepted)
        _show(dialog, "new-room")

    @Slot()
    def routing(self) -> None:
        """Route incoming calls to one of the account's numbers here."""
        from console.ui.dialogs.routing_dialog import RoutingDialog

        runtime = self.controller.runtime
        if runtime is not None:
            prefs = self.window.preferences
            dialog = RoutingDialog(
                runtime.gateway,
                self.controller.runner,
                prefs,
                runtime.public_url,
                self.owner,
            )
            _show(dialog, "routing")

    @Slot()
    def settings(self) -> None:
        """Credentials, tunnel and console preferences."""
        from console.ui.dialogs.settings_dialog import SettingsDialog

        w = self.window
        if w.secrets is not None:
            dialog = SettingsDialog(
                w.preferences,
                w.secrets,
                w.env,
                self.controller.runner,
                w.check_credentials,
                self.owner,
            )
            dialog.settings_saved.connect(w.on_settings_saved)
            _show(dialog, "settings")

    @Slot()
    def history(self, search: str = "") -> None:
        """The call history, with search, filters and export; reused while it is open."""
        from console.ui.dialogs.history_dialog import HistoryDialog

        runtime = self.controller.runtime
        history = _history_of(runtime)
        if history is None:
            self.window.status.showMessage("The call history is not available.", 10_000)
            return
        if self.history_dialog is None:
            dialog = HistoryDialog(history, self.controller.runner, self.owner)
            dialog.dial_list_requested.connect(self.on_history_dial_list_requested)
            dialog.destroyed.connect(self.on_history_destroyed)
            self.history_dialog = dialog
            _show(dialog, "history")
        if search:
            self.history_dialog.search.setText(search)  # searches (after a short pause)
        self.history_dialog.refresh()
        self.history_dialog.raise_()

    @Slot()
    def on_history_destroyed(self) -> None:
        self.history_dialog = None

    @Slot()
    def refresh_history(self) -> None:
        """Calls changed: an open History shows it."""
        if self.history_dialog is not None:
            self.history_dialog.refresh()

    @Slot(object)
    def on_history_dial_list_requested(self, entries: list) -> None:
        from console.core.calls.dial_list import entries_from_history

        dialog = self.dial_list()
        if dialog is not None:
            dialog.load_entries(
                entries_from_history(entries, self.window.preferences.region), "History"
            )

    @Slot()
    def dial_list(self) -> DialListDialog | None:
        """Dial a whole list into one room, paced at the account's calls per second."""
        from console.ui.dialogs.dial_list_dialog import DialListDialog

        if self.dial_list_dialog is not None:
            self.dial_list_dialog.raise_()
            return self.dial_list_dialog
        if self.controller.runtime is None:
            return None
        rooms = [r.unique_name for r in self.controller.rooms_model.records()]
        dialog = DialListDialog(
            self.controller.runner,
            self._place,
            rooms,
            self.window.numbers,
            self.window.preferences.region,
            parent=self.owner,
        )
        dialog.destroyed.connect(self.on_dial_list_destroyed)
        self.dial_list_dialog = dialog
        _show(dialog, "dial-list")
        return dialog

    def _place(self, entry: DialEntry, room: str, from_: str) -> Call:
        """For the dial list, on a worker thread: exactly what Dial does for one number."""
        return self.controller.place_from_list(DialRequest(entry.to, from_, room, entry.identity))

    @Slot()
    def on_dial_list_destroyed(self) -> None:
        self.dial_list_dialog = None

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        """Status callbacks reach an open dial list and History."""
        if self.dial_list_dialog is not None:
            self.dial_list_dialog.on_call_status(
                event.call_sid, event.status, event.get("ErrorMessage")
            )
        if event.is_final:
            self.refresh_history()

    @Slot(object)
    def move(self, participant: Participant) -> None:
        """Ask where to move a participant the console connected, then redirect its call."""
        from console.ui.dialogs.move_dialog import MoveDialog

        room = self.window.rooms.current_room()
        rooms = [r.unique_name for r in self.controller.rooms_model.records()]
        dialog = MoveDialog(participant, room.unique_name if room else "", rooms, self.owner)

        def on_accepted() -> None:
            self.window.routing.move(participant, dialog.destination())

        dialog.accepted.connect(on_accepted)
        _show(dialog, "move")

    @Slot()
    def routes(self) -> None:
        """Edit routes.toml, the rules the webhook answers incoming calls with (in team mode,
        the team's routes on the server)."""
        from pathlib import Path

        from console.ui.dialogs.routes_dialog import RoutesDialog
        from webhook.routes_file import default_routes_path

        runtime = self.controller.runtime
        if runtime is not None and runtime.mode == "team":
            from console.ui.dialogs.team_routes_dialog import TeamRoutesDialog

            team_dialog = TeamRoutesDialog(
                runtime.gateway,  # type: ignore[arg-type]  # a TeamGateway in team mode
                self.controller.runner,
                self.owner,
                operator=runtime.operator,
            )
            team_dialog.routes_saved.connect(self.on_routes_saved)
            team_dialog.destroyed.connect(self.on_team_routes_destroyed)
            self.team_routes_dialog = team_dialog
            _show(team_dialog, "routes")
            return
        webhook = runtime.webhook if runtime else None
        configured = webhook.app.config.get("ROUTES_FILE") if webhook else ""
        path = Path(configured) if configured else default_routes_path()
        dialog = RoutesDialog(path, self.controller.runner, self.owner)
        dialog.routes_saved.connect(self.on_routes_saved)
        _show(dialog, "routes")

    @Slot()
    def on_team_routes_destroyed(self) -> None:
        self.team_routes_dialog = None

    @Slot(object)
    def on_bridge_team_event(self, event: object) -> None:
        """Team events an open Team routes editor must know of (another operator's save)."""
        if self.team_routes_dialog is not None:
            self.team_routes_dialog.on_team_event(event)

    @Slot(str)
    def on_routes_saved(self, path: str) -> None:
        self.window.event_log.write(f"Saved the incoming-call routes to {path}")
        self.window.status.showMessage("Routes saved; the webhook uses them from the next call.")

    @Slot()
    def simulate_call(self) -> None:
        """Sandbox mode: ring one of the sandbox's numbers, as a caller would."""
        from console.ui.dialogs.simulate_call_dialog import SimulateCallDialog

        runtime = self.controller.runtime
        if runtime is None or runtime.mode != "sandbox":
            self.window.status.showMessage("Simulated calls need sandbox mode.", 10_000)
            return
        dialog = SimulateCallDialog(self.window.numbers, self.window.preferences.region, self.owner)

        def on_accepted() -> None:
            self.window.routing.simulate_incoming(
                dialog.caller_number(), dialog.called_number(), dialog.digits_text()
            )

        dialog.accepted.connect(on_accepted)
        _show(dialog, "simulate-call")

    @Slot()
    def about(self) -> QDialog:
        """Version, mode and webhook; in sandbox mode the sandbox's URL and credentials."""
        from console.call_routing import sandbox_login
        from console.ui.dialogs.about_dialog import AboutDialog
        from webhook.version import package_version

        runtime = self.controller.runtime
        mode = runtime.label if runtime is not None else "starting"
        url = runtime.public_url if runtime is not None else ""
        dialog = AboutDialog(package_version(), mode, url, sandbox_login(runtime), self.owner)
        return _show(dialog, "about")

    @Slot()
    def sandbox_details(self) -> None:
        """The About dialog, opened on the sandbox's details."""
        dialog = self.about()
        box = getattr(dialog, "sandbox_box", None)
        if box is not None:
            box.setFocus()

    def stop(self) -> None:
        """The window is closing: a dial list in progress stops placing calls."""
        if self.dial_list_dialog is not None:
            self.dial_list_dialog.cancel()
