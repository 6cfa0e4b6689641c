"""The parts of the main window that its helpers (actions, the quit guard) work with."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMenuBar

    from console.call_routing import CallRouting
    from console.controller import ConsoleController
    from console.ui.calls_panel import CallsPanel
    from console.ui.dial_pad import DialPad
    from console.ui.rooms_panel import RoomsPanel
    from console.ui.waiting_panel import WaitingPanel
    from console.ui.window.event_log import EventLog
    from console.ui.window.status_bar import ConsoleStatusBar
    from console.ui.window.window_dialogs import WindowDialogs


class Quitter(Protocol):
    """Quits once nothing would be lost (the quit guard)."""

    def request_quit(self) -> None: ...


class WindowHost(Protocol):
    """What MainWindow offers its helpers: its panels, controller, dialogs and the quit guard."""

    controller: ConsoleController
    rooms: RoomsPanel
    calls: CallsPanel
    waiting: WaitingPanel
    dial_pad: DialPad
    routing: CallRouting
    event_log: EventLog
    status: ConsoleStatusBar
    dialogs: WindowDialogs
    quit_guard: Quitter
    refresh_timer: QTimer

    def menuBar(self) -> QMenuBar: ...

    def close(self) -> bool: ...
