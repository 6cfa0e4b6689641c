"""Quit and End room ask first when callers or calls would be lost; a quit at no cost is instant.

Whatever the operator picks, the window (and with it the webhook) stays up until every
redirect it asked for has been answered, so no waiting caller meets a webhook that is gone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QMessageBox

from console.core.calls.records import Room
from console.ui.prompts import ask

if TYPE_CHECKING:
    from console.core.calls.records import Call
    from console.ui.dialogs.quit_dialog import QuitDialog
    from console.ui.window.window_host import WindowHost

log = logging.getLogger(__name__)

RINGING = frozenset({"queued", "initiated", "ringing"})
QUIT_WAIT_MS = 20_000  # the longest the window waits for its redirects before quitting anyway
DEFAULT_ROOM = "Lobby"


class QuitGuard(QObject):
    """Decides whether Quit and End room need to ask, asks, and carries out the answer."""

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.closing = False  # redirects for the quit are under way
        self.ready = False  # the quit may go ahead: close the window for real
        self._deadline = QTimer(self, singleShot=True, interval=QUIT_WAIT_MS)
        self._deadline.timeout.connect(self.on_deadline_timeout)

    # -- quit ----------------------------------------------------------------------------------

    def _calls(self) -> tuple[list[Call], list[Call]]:
        """(ringing calls we placed, connected calls) of this session."""
        calls = self.window.controller.calls_model.records()
        ringing = [c for c in calls if c.status in RINGING and c.direction != "inbound"]
        connected = [c for c in calls if not c.finished and c not in ringing]
        return ringing, connected

    def _waiting(self) -> list[str]:
        """The waiting callers a quit would leave unanswered (a team's stay with the team, and
        the callers this operator holds are given back as the session stops)."""
        routing = self.window.routing
        return [] if routing.team else [c.call_sid for c in routing.waiting_model.records()]

    def at_stake(self) -> bool:
        """Whether quitting now would lose a waiting caller or touch a live call."""
        ringing, connected = self._calls()
        waiting = len(self._waiting())
        return bool(waiting or ringing or connected)

    @Slot()
    def request_quit(self) -> None:
        """Quit at once when nothing is at stake; otherwise ask what to do first."""
        if self.closing:
            self.window.status.showMessage("Quitting as soon as the callers are placed…")
            return
        if not self.at_stake():
            self.quit_now()
            return
        w = self.window
        ringing, connected = self._calls()
        runtime = w.controller.runtime
        rooms = [r.unique_name for r in w.controller.rooms_model.records()]
        room = w.waiting.room.currentText().strip() or (rooms[0] if rooms else DEFAULT_ROOM)
        from console.ui.dialogs.quit_dialog import (
            QuitDialog,  # only when there is something at stake
        )

        dialog = QuitDialog(
            len(self._waiting()),
            len(ringing),
            len(connected),
            rooms,
            room,
            sandbox=runtime is None or runtime.mode == "sandbox",
            parent=w,
        )
        dialog.setObjectName("quit")
        dialog.finished.connect(lambda _: self.on_quit_answered(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def on_quit_answered(self, dialog: QuitDialog) -> None:
        """Carry out the operator's answer (nothing on Cancel)."""
        from console.ui.dialogs.quit_dialog import GOODBYE, PLACE

        choice = dialog.choice()
        if not choice:
            self.window.status.showMessage("Still here: nothing was quit.", 5000)
            return
        w = self.window
        routing = w.routing
        callers = [(sid, w.waiting.identity_for(sid)) for sid in self._waiting()]
        ringing, _ = self._calls()
        room = dialog.room_name()
        gateway = w.controller.gateway
        if gateway is None or not (callers or ringing):
            self.quit_now()
            return

        def job() -> list[str]:
            problems: list[str] = []
            if callers and choice == PLACE:
                failed = routing.put_all_now(callers, room)
            elif callers and choice == GOODBYE:
                failed = routing.goodbye_now([sid for sid, _ in callers])
            else:
                failed = {}
            problems += [f"{sid}: {why}" for sid, why in failed.items()]
            for call in ringing:
                try:
                    gateway.hang_up(call.sid)
                except Exception as error:  # the call may have ended meanwhile
                    problems.append(f"{call.sid}: {error}")
            return problems

        self.closing = True
        self._deadline.start()
        where = f"into {room}" if choice == PLACE else "a goodbye"
        w.status.showMessage(f"Sending {len(callers)} waiting caller(s) {where}, then quitting…")
        w.controller.runner.submit(job, self.on_redirects_answered, self.on_redirects_failed)

    @Slot(object)
    def on_redirects_answered(self, problems: list[str]) -> None:
        for problem in problems:
            self.window.event_log.write(f"ERROR at quit: {problem}")
        self.quit_now()

    @Slot(object)
    def on_redirects_failed(self, error: object) -> None:
        self.window.event_log.write(f"ERROR at quit: {error}")
        self.quit_now()

    @Slot()
    def on_deadline_timeout(self) -> None:
        log.warning("the redirects asked for at quit took over %d ms; quitting", QUIT_WAIT_MS)
        self.quit_now()

    def quit_now(self) -> None:
        """Close the window for real (the app then stops the webhook and the sandbox)."""
        self._deadline.stop()
        self.ready = True
        self.window.close()

    # -- end room ------------------------------------------------------------------------------

    def request_end_room(self, room: Room) -> None:
        """End an empty room at once; with people in it, ask first (Cancel is the default)."""
        controller = self.window.controller
        if room.participant_count == 0:
            controller.end_room(room)
            return
        people = "person" if room.participant_count == 1 else "people"
        ask(
            self.window,
            "end-room",
            "End room",
            f"End {room.unique_name}? The {room.participant_count} {people} in it will be "
            "disconnected, and phone callers hung up.",
            [
                (
                    "&End room",
                    QMessageBox.ButtonRole.DestructiveRole,
                    lambda: controller.end_room(room),
                ),
                ("Cancel", QMessageBox.ButtonRole.RejectRole, self._end_room_cancelled),
            ],
            default="Cancel",
        )

    def _end_room_cancelled(self) -> None:
        self.window.status.showMessage("The room was not ended.", 5000)
