"""The main window's actions: the menu bar, the right-click menus (the same actions), shortcuts."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QMenu

from console.core.calls.call_reasons import error_page

if TYPE_CHECKING:
    from console.core.calls.records import Call, Participant
    from console.ui.window.window_host import WindowHost


class WindowActions(QObject):
    """Every operator action, once: in the menu bar with its shortcut, and in context menus."""

    def __init__(self, window: WindowHost) -> None:
        super().__init__(window)
        self.window = window
        self.build_menus()
        self.connect_context_menus()
        self.update_enabled()

    def _add(
        self, menu: QMenu, text: str, shortcut: str, slot: Callable[[], object], tip: str = ""
    ) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def build_menus(self) -> None:
        """The menu bar: File, Rooms, Calls, View, Help."""
        w = self.window
        bar = w.menuBar()
        file_menu = bar.addMenu("&File")
        self.settings = self._add(file_menu, "&Settings…", "Ctrl+,", w.dialogs.settings)
        file_menu.addSeparator()
        self.quit = self._add(file_menu, "&Quit", "Ctrl+Q", w.quit_guard.request_quit)

        rooms = bar.addMenu("&Rooms")
        self.refresh = self._add(rooms, "&Refresh", "Ctrl+R", w.controller.refresh)
        self.new_room = self._add(rooms, "&New room…", "Ctrl+N", w.dialogs.new_room)
        self.find = self._add(
            rooms, "&Filter rooms and people", "Ctrl+F", w.rooms.focus_filter,
            "Show only the rooms and people that match what you type",
        )  # fmt: skip
        rooms.addSeparator()
        self.dial_into = self._add(
            rooms, "&Dial into this room", "Ctrl+J", self.on_dial_into_triggered,
            "Make the selected room the dial pad's room and go to the number",
        )  # fmt: skip
        self.copy_room = self._add(rooms, "&Copy room name", "", self.on_copy_room_triggered)
        self.end_room = self._add(rooms, "&End room…", "Ctrl+Shift+E", w.rooms.on_end_clicked)
        self.record = self._add(
            rooms, "Rec&ord room", "Ctrl+Shift+C", w.rooms.on_record_clicked,
            "Record every track of the selected room from now on, or stop recording it",
        )  # fmt: skip
        self.recordings = self._add(
            rooms, "Recordin&gs…", "", self.on_recordings_triggered,
            "The selected room's recordings: track, kind, duration and size",
        )  # fmt: skip
        rooms.addSeparator()
        self.disconnect = self._add(
            rooms, "D&isconnect participant", "Ctrl+Shift+X", w.rooms.on_disconnect_clicked
        )
        self.move = self._add(rooms, "&Move participant…", "Ctrl+M", w.rooms.on_move_clicked)
        self.mute = self._add(
            rooms, "M&ute participant", "Ctrl+Shift+M", w.rooms.on_mute_clicked,
            "Nobody else in the room hears the selected participant (or unmute them)",
        )  # fmt: skip
        self.copy_participant = self._add(
            rooms, "Copy number or identit&y", "", self.on_copy_participant_triggered
        )
        self.redial_participant = self._add(
            rooms, "Redial &participant", "", self.on_redial_participant_triggered,
            "Call the participant's number again, into this room, as the same identity",
        )  # fmt: skip

        calls = bar.addMenu("&Calls")
        self.dial = self._add(calls, "&Dial", "Ctrl+D", w.dial_pad.dial)
        self.focus_number = self._add(calls, "Go to &number", "Ctrl+K", w.dial_pad.focus_number)
        self.hang_up = self._add(
            calls, "&Hang up selected call", "Ctrl+H", w.calls.on_hang_up_clicked
        )
        self.redial = self._add(
            calls, "&Redial selected call", "Ctrl+Shift+R", self.on_redial_triggered,
            "Call the same number again, into the same room, as the same identity",
        )  # fmt: skip
        self.copy_number = self._add(calls, "&Copy number", "", self.on_copy_number_triggered)
        self.show_in_history = self._add(
            calls, "&Show in history", "Ctrl+Shift+Y", self.on_show_in_history_triggered
        )
        self.error_page = self._add(
            calls, "Twilio's page for this &error", "", self.on_error_page_triggered
        )
        calls.addSeparator()
        self.put_in_room = self._add(
            calls, "&Put waiting caller in room", "Ctrl+P", w.waiting.on_put_clicked
        )
        self.hang_up_waiting = self._add(
            calls, "Han&g up waiting caller", "Ctrl+Shift+H", self.on_hang_up_waiting_triggered,
            "Play the caller a goodbye and hang up",
        )  # fmt: skip
        self.simulate = self._add(
            calls, "Si&mulate incoming call…", "Ctrl+Shift+I", w.dialogs.simulate_call,
            "Sandbox mode: ring one of the sandbox's numbers, as a caller would",
        )  # fmt: skip
        self.simulate.setVisible(False)  # sandbox mode only, once known
        calls.addSeparator()
        self.route = self._add(calls, "Route &incoming calls here…", "Ctrl+I", w.dialogs.routing)
        self.route.setEnabled(False)
        self.routes = self._add(calls, "Incoming call rout&es…", "Ctrl+E", w.dialogs.routes)
        self.history = self._add(calls, "Histor&y…", "Ctrl+Y", w.dialogs.history)
        self.dial_list = self._add(calls, "Dial &list…", "Ctrl+Shift+D", w.dialogs.dial_list)

        view = self.view_menu = bar.addMenu("&View")
        self.log = w.event_log.toggleViewAction()
        self.log.setText("Event &log")
        self.log.setShortcut(QKeySequence("Ctrl+L"))
        view.addAction(self.log)

        help_menu = bar.addMenu("&Help")
        self.about = self._add(help_menu, "&About Switchboard…", "", w.dialogs.about)
        self.sandbox_details = self._add(
            help_menu, "&Sandbox details…", "", w.dialogs.sandbox_details
        )
        self.sandbox_details.setVisible(False)

    def set_sandbox(self, sandbox: bool) -> None:
        """Show the actions that only make sense against the sandbox."""
        self.simulate.setVisible(sandbox)
        self.sandbox_details.setVisible(sandbox)

    def set_team(self, team: bool) -> None:
        """In a team the server owns the numbers' webhooks: no routing them to this console."""
        self.route.setVisible(not team)

    def add_team_panel(self, panel: QDockWidget) -> None:
        """Team mode: View ▸ Team shows and hides the Team panel (Ctrl+Shift+T)."""
        self.team = panel.toggleViewAction()
        self.team.setText("&Team")
        self.team.setShortcut(QKeySequence("Ctrl+Shift+T"))
        self.team.setStatusTip("The operators online, and what each is doing")
        self.view_menu.addAction(self.team)

    # -- context menus ---------------------------------------------------------------------

    def connect_context_menus(self) -> None:
        """Right-click on a row selects it and offers what can be done with it."""
        for view, _ in self._menus():
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(
                lambda point, v=view: self.show_context_menu(v, point)
            )

    def room_menu(self) -> list[QAction | QMenu | None]:
        return [
            self.dial_into,
            self.copy_room,
            None,
            self.record,
            self.recordings,
            None,
            self.end_room,
            None,
            self.new_room,
        ]

    def participant_menu(self) -> list[QAction | QMenu | None]:
        return [
            self.disconnect,
            self.move,
            self._move_to_menu(),
            self.mute,
            None,
            self.copy_participant,
            self.redial_participant,
        ]

    def call_menu(self) -> list[QAction | QMenu | None]:
        return [
            self.hang_up,
            self.redial,
            None,
            self.copy_number,
            self.show_in_history,
            self.error_page,
        ]

    def waiting_menu(self) -> list[QAction | QMenu | None]:
        return [self.put_in_room, self._put_in_menu(), None, self.hang_up_waiting]

    def context_menu(self, view: QAbstractItemView, point: QPoint) -> QMenu | None:
        """The menu for the row at point (selected first); None off the rows."""
        index = view.indexAt(point)
        if not index.isValid():
            return None
        view.selectRow(index.row())
        self.update_enabled()
        for source, items in self._menus():
            if source is view:
                menu = QMenu(view)
                menu.setObjectName("context-menu")
                menu.setAccessibleName(f"{view.accessibleName()} actions")
                for item in items():
                    if item is None:
                        menu.addSeparator()
                    elif isinstance(item, QMenu):
                        menu.addMenu(item)
                    else:
                        menu.addAction(item)
                menu.aboutToHide.connect(menu.deleteLater)
                return menu
        return None

    def _menus(
        self,
    ) -> list[tuple[QAbstractItemView, Callable[[], list[QAction | QMenu | None]]]]:
        w = self.window
        return [
            (w.rooms.rooms_view, self.room_menu),
            (w.rooms.participants_view, self.participant_menu),
            (w.calls.view, self.call_menu),
            (w.waiting.view, self.waiting_menu),
        ]

    def show_context_menu(self, view: QAbstractItemView, point: QPoint) -> None:
        """Open the row's menu where the operator clicked."""
        menu = self.context_menu(view, point)
        if menu is not None:
            menu.popup(view.viewport().mapToGlobal(point))

    def _room_names(self) -> list[str]:
        names = {r.unique_name for r in self.window.controller.rooms_model.records()}
        return sorted(names, key=lambda name: (name.casefold(), name))

    def _move_to_menu(self) -> QMenu:
        """Move ▸ each other room: one click from the participant to its new room."""
        menu = QMenu("Move &to", self.window)
        participant = self.window.rooms.current_participant()
        here = self.window.rooms.current_room()
        others = [n for n in self._room_names() if here is None or n != here.unique_name]
        for name in others:
            action = menu.addAction(name)
            action.triggered.connect(lambda _=False, n=name: self._move_to(n))
        menu.setEnabled(bool(others) and participant is not None and bool(participant.call_sid))
        return menu

    def _move_to(self, room: str) -> None:
        participant = self.window.rooms.current_participant()
        if participant is not None and participant.call_sid:
            self.window.routing.move(participant, room)

    def _put_in_menu(self) -> QMenu:
        """Put in ▸ each room: one click from the waiting caller to a room."""
        menu = QMenu("Put &in", self.window)
        for name in self._room_names():
            action = menu.addAction(name)
            action.triggered.connect(lambda _=False, n=name: self._put_in(n))
        caller = self.window.waiting.current_caller()
        menu.setEnabled(caller is not None and bool(self._room_names()))
        return menu

    def _put_in(self, room: str) -> None:
        caller = self.window.waiting.current_caller()
        if caller is not None:
            identity = self.window.waiting.identity_for(caller.call_sid)
            self.window.routing.put_in_room(caller.call_sid, room, identity)

    # -- enabling ------------------------------------------------------------------------------

    def follow_selections(self) -> None:
        """Actions on a selection follow the selection (and the rows under it)."""
        w = self.window
        views = (w.rooms.rooms_view, w.rooms.participants_view, w.calls.view, w.waiting.view)
        for view in views:
            view.selectionModel().selectionChanged.connect(self.update_enabled)
            view.model().dataChanged.connect(self.update_enabled)
            model = view.model()
            for rows_changed in (model.modelReset, model.rowsInserted, model.rowsRemoved):
                rows_changed.connect(self.update_enabled)
        w.waiting.room.editTextChanged.connect(self.update_enabled)
        w.waiting.identity.textChanged.connect(self.update_enabled)

    @Slot()
    def update_enabled(self) -> None:
        """Actions on a selection are enabled while there is one they apply to."""
        w = self.window
        room = w.rooms.current_room()
        person = w.rooms.current_participant()
        call = w.calls.current_call()
        caller = w.waiting.current_caller()
        for action in (self.dial_into, self.copy_room, self.end_room):
            action.setEnabled(room is not None)
        self.disconnect.setEnabled(person is not None)
        self.move.setEnabled(person is not None and bool(person.call_sid))
        self.copy_participant.setEnabled(person is not None)
        self.mute.setEnabled(person is not None)
        self.mute.setText("Unm&ute participant" if person and person.muted else "M&ute participant")
        self.record.setEnabled(room is not None)
        self.record.setText("Stop rec&ording" if room and room.recording else "Rec&ord room")
        self.recordings.setEnabled(room is not None)
        self.redial_participant.setEnabled(bool(person and self._number_of(person)))
        self.hang_up.setEnabled(call is not None and not call.finished)
        for action in (self.redial, self.copy_number, self.show_in_history):
            action.setEnabled(call is not None)
        code = call.error_code if call is not None else ""
        self.error_page.setEnabled(bool(error_page(code)))
        self.error_page.setText(
            f"Twilio's page for error {code}"
            if error_page(code)
            else "Twilio's page for this &error"
        )
        self.put_in_room.setEnabled(w.waiting.put_button.isEnabled())
        self.hang_up_waiting.setEnabled(caller is not None)

    # -- what the actions do -------------------------------------------------------------------

    def _number_of(self, person: Participant) -> str:
        return self.window.controller.participants_model.number(person)

    def _say(self, message: str) -> None:
        self.window.status.showMessage(message, 8000)

    @Slot()
    def on_dial_into_triggered(self) -> None:
        room = self.window.rooms.current_room()
        if room is not None:
            self.window.dial_pad.set_room(room.unique_name)
            self.window.dial_pad.focus_number()
            self._say(f"The dial pad dials into {room.unique_name}")

    @Slot()
    def on_recordings_triggered(self) -> None:
        from console.ui.dialogs.recordings_dialog import RecordingsDialog

        room = self.window.rooms.current_room()
        if room is not None:
            dialog = RecordingsDialog(room, self.window.controller.room_desk, self.window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.show()

    @Slot()
    def on_copy_room_triggered(self) -> None:
        room = self.window.rooms.current_room()
        if room is not None:
            self._copy(room.unique_name)

    @Slot()
    def on_copy_participant_triggered(self) -> None:
        person = self.window.rooms.current_participant()
        if person is not None:
            self._copy(self._number_of(person) or person.identity)

    @Slot()
    def on_copy_number_triggered(self) -> None:
        call = self.window.calls.current_call()
        if call is not None:
            self._copy(other_party(call))

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self._say(f"Copied {text}")

    @Slot()
    def on_redial_triggered(self) -> None:
        call = self.window.calls.current_call()
        if call is not None:
            line = call.to if call.direction == "inbound" else call.from_
            self._redial(other_party(call), line, call.room, call.identity)

    @Slot()
    def on_redial_participant_triggered(self) -> None:
        person = self.window.rooms.current_participant()
        room = self.window.rooms.current_room()
        number = self._number_of(person) if person is not None else ""
        if person is not None and room is not None and number:
            known = self.window.controller.calls_model.call(person.call_sid)
            line = ""
            if known is not None:
                line = known.to if known.direction == "inbound" else known.from_
            self._redial(number, line, room.unique_name, person.identity)

    def _redial(self, number: str, line: str, room: str, identity: str) -> None:
        """Fill the pad as the call was, and dial (the identity check runs as for any dial)."""
        pad = self.window.dial_pad
        pad.fill(number, room, identity)
        if line:
            pad.choose_caller_id(line)
        pad.dial()  # an invalid field is shown on the pad instead

    @Slot()
    def on_show_in_history_triggered(self) -> None:
        call = self.window.calls.current_call()
        if call is not None:
            self.window.dialogs.history(search=call.sid)

    @Slot()
    def on_error_page_triggered(self) -> None:
        call = self.window.calls.current_call()
        url = error_page(call.error_code) if call is not None else ""
        if url:
            QDesktopServices.openUrl(QUrl(url))

    @Slot()
    def on_hang_up_waiting_triggered(self) -> None:
        caller = self.window.waiting.current_caller()
        if caller is not None:
            self.window.routing.say_goodbye([caller.call_sid])


def other_party(call: Call) -> str:
    """The number at the far end: the callee of a call we placed, the caller of one we took."""
    return call.from_ if call.direction == "inbound" else call.to
