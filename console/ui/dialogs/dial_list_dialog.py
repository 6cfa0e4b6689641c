"""The dial list window: import or pick people, see the bad rows, dial them all into one room."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.dial_input import InvalidInput, caller_id_label, check_room, room_problem
from console.core.calls.dial_list import (
    DIALING,
    ERROR,
    PENDING,
    RETRYABLE_STATUSES,
    SKIPPED,
    DialEntry,
    DialList,
    EntryStatus,
    parse_dial_list,
)
from console.core.calls.records import PhoneNumber
from console.dial_session import DialSession, Place
from console.models.dial_list_model import BadRowsModel, DialListModel
from console.tasks import TaskRunner
from console.ui.prompts import ask
from console.ui.table_view import RecordTableView

MAX_FILE_BYTES = 1_000_000  # a dial list holds at most 50 people; this is not one
UNDIALED = (PENDING, SKIPPED, ERROR)  # "Dial all" dials these: no call was placed for them
NOT_DIALED = (PENDING, DIALING, SKIPPED)  # not counted in the progress bar
_ERROR_STYLE = "color: #c0392b;"


def read_dial_list(path: Path, region: str) -> DialList:
    """Read and check a dial list file (UTF-8, or Windows-1252 as Excel saves it)."""
    try:
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_FILE_BYTES else b""
    except OSError as error:
        raise OSError(f"Cannot read {path}: {error.strerror or error}") from None
    if size > MAX_FILE_BYTES:
        raise OSError(f"{path.name} is too large for a dial list (over 1 MB).")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return parse_dial_list(text, region)


class DialListDialog(QDialog):
    """A checked dial list dialed into one room at the account's pace, with live statuses."""

    def __init__(
        self,
        runner: TaskRunner,
        place: Place,
        rooms: Sequence[str],
        numbers: Sequence[PhoneNumber],
        region: str,
        calls_per_second: float = 1.0,
        choose_file: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if calls_per_second <= 0:
            raise ValueError("calls_per_second must be positive")
        self.setWindowTitle("Dial list")
        self._runner, self._place, self._region = runner, place, region
        self._cps = calls_per_second
        self._choose_file = choose_file or self._ask_file
        self._session: DialSession | None = None
        self._entries: tuple[DialEntry, ...] = ()
        self._bad_count = 0
        self._close_when_stopped = False
        self._question: QMessageBox | None = None
        self._build(rooms, numbers)
        self._connect_signals()
        self.resize(860, 560)
        self.on_room_edit_text_changed(self.room.currentText())

    def _build(self, rooms: Sequence[str], numbers: Sequence[PhoneNumber]) -> None:
        self.import_button = QPushButton("&Import CSV…", accessibleName="Import CSV")
        self.source = QLabel(accessibleName="Dial list source")
        self.room = QComboBox(accessibleName="Room", editable=True)
        self.room.addItems(list(rooms))
        self.room.lineEdit().setPlaceholderText("Room name (created if missing)")
        self.room.setMinimumContentsLength(20)
        self.from_ = QComboBox(accessibleName="From")
        for number in numbers:
            self.from_.addItem(caller_id_label(number.number, number.friendly_name), number.number)
        self.room_error = QLabel(accessibleName="Room error")
        self.room_error.setStyleSheet(_ERROR_STYLE)
        self.model = DialListModel(self)
        self.table = RecordTableView(self.model, "Dial list")
        self.bad_model = BadRowsModel(self)
        self.bad_table = RecordTableView(self.bad_model, "Bad rows")
        self.bad_box = QGroupBox()
        QVBoxLayout(self.bad_box).addWidget(self.bad_table)
        self.progress = QProgressBar(accessibleName="Progress", format="%v of %m dialed")
        self.status = QLabel(accessibleName="Dial list status", wordWrap=True)
        self.dial_button = QPushButton("&Dial all", accessibleName="Dial all")
        self.cancel_button = QPushButton("&Cancel dialing", accessibleName="Cancel dialing")
        self.retry_button = QPushButton("Re&try busy and no-answer", accessibleName="Retry")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        pushes = (self.import_button, self.dial_button, self.cancel_button, self.retry_button)
        for button in (*pushes, *self.buttons.buttons()):
            button.setAutoDefault(False)  # Enter in the room field must not dial fifty people
        top = QHBoxLayout()
        top.addWidget(self.import_button)
        top.addWidget(self.source, 1)
        room_label, from_label = QLabel("&Room"), QLabel("&From")
        room_label.setBuddy(self.room)
        from_label.setBuddy(self.from_)
        target = QHBoxLayout()
        for widget, stretch in ((room_label, 0), (self.room, 2), (from_label, 0), (self.from_, 1)):
            target.addWidget(widget, stretch)
        actions = QHBoxLayout()
        for button in (self.dial_button, self.cancel_button, self.retry_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(target)
        layout.addWidget(self.room_error)
        split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        split.addWidget(self.table)
        split.addWidget(self.bad_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addLayout(actions)

    def _connect_signals(self) -> None:
        self.import_button.clicked.connect(self.on_import_clicked)
        self.room.editTextChanged.connect(self.on_room_edit_text_changed)
        self.from_.currentIndexChanged.connect(self.on_from_current_index_changed)
        self.dial_button.clicked.connect(self.on_dial_clicked)
        self.cancel_button.clicked.connect(self.on_cancel_clicked)
        self.retry_button.clicked.connect(self.on_retry_clicked)
        self.buttons.rejected.connect(self.reject)

    # -- public --------------------------------------------------------------------------------

    @property
    def dialing(self) -> bool:
        """Whether a pass over the list is under way."""
        return self._session is not None and self._session.running

    def states(self) -> list[EntryStatus]:
        """Every entry and where it stands, in list order."""
        return self.model.records()

    def set_room(self, name: str) -> None:
        """Dial into this room (it need not exist yet)."""
        self.room.setCurrentText(name)

    def load_entries(self, dial_list: DialList, source: str = "") -> bool:
        """Show a checked list and its bad rows, ready to dial; False while a pass runs."""
        if self.dialing:
            self.status.setText("Wait for dialing to finish, or cancel it, first.")
            return False
        if self._session is not None:
            self._session.status_changed.disconnect(self.on_session_status_changed)
            self._session.pass_finished.disconnect(self.on_session_pass_finished)
            self._session.release()
            self._session = None
        self._entries = tuple(dial_list.entries)
        self._bad_count = len(dial_list.bad_rows)
        self.model.set_records([EntryStatus(entry) for entry in self._entries])
        self.bad_model.set_records(dial_list.bad_rows)
        self.source.setText(source)
        self._refresh()
        return True

    def cancel(self) -> None:
        """Dial no further entries (placed calls go on); the rest become "skipped"."""
        if self._session is not None and self._session.running:
            self._session.cancel()
            self._refresh()

    def on_call_status(self, call_sid: str, status: str, message: str = "") -> None:
        """A status callback for some call (on the GUI thread); the list's calls update."""
        if self._session is not None:
            self._session.update_call(call_sid, status, message)

    # -- importing -----------------------------------------------------------------------------

    def _ask_file(self) -> str:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Import dial list", "", "CSV files (*.csv *.txt);;All files (*)"
        )
        return path

    @Slot()
    def on_import_clicked(self) -> None:
        """Read and check the chosen file on the runner."""
        path = self._choose_file()
        if not path:
            return
        self.import_button.setEnabled(False)
        self.status.setText(f"Reading {Path(path).name}…")
        self._runner.submit(
            functools.partial(read_dial_list, Path(path), self._region),
            functools.partial(self.on_import_done, path),
            self.on_import_failed,
        )

    @Slot(str, object)
    def on_import_done(self, path: str, dial_list: object) -> None:
        if shiboken6.isValid(self) and isinstance(dial_list, DialList):
            self.load_entries(dial_list, Path(path).name)

    @Slot(object)
    def on_import_failed(self, error: object) -> None:
        if shiboken6.isValid(self):
            self._refresh()
            self.status.setText(str(error) or type(error).__name__)
            self.status.setStyleSheet(_ERROR_STYLE)

    # -- dialing -------------------------------------------------------------------------------

    def _target(self) -> tuple[str, str] | None:
        try:
            room = check_room(self.room.currentText())
        except InvalidInput:
            return None
        from_ = self.from_.currentData()
        return (room, from_) if room and from_ else None

    def _start(self) -> None:
        target = self._target()
        if target is None or self._session is None:
            return
        self._session.start(*target)
        self._refresh()

    @Slot()
    def on_dial_clicked(self) -> None:
        """Dial every entry without a call yet: all of them at first, later the skipped ones."""
        if self.dialing or self._target() is None:
            return
        if self._session is None:
            try:
                self._session = DialSession(self._runner, self._entries, self._place, self._cps)
            except ValueError as error:  # a list that did not go through parse_dial_list
                self.status.setText(f"This list cannot be dialed: {error}.")
                self.status.setStyleSheet(_ERROR_STYLE)
                return
            self._session.status_changed.connect(self.on_session_status_changed)
            self._session.pass_finished.connect(self.on_session_pass_finished)
            self.destroyed.connect(self._session.release)
        else:
            self._session.retry(UNDIALED)
        self._start()

    @Slot()
    def on_retry_clicked(self) -> None:
        """Dial again only the entries that were busy or gave no answer."""
        if self.dialing or self._session is None or self._target() is None:
            return
        if self._session.retry(RETRYABLE_STATUSES):
            self._start()

    @Slot()
    def on_cancel_clicked(self) -> None:
        self.cancel()

    @Slot(object)
    def on_session_status_changed(self, _: object) -> None:
        """Show the runner's statuses as they are now (a late, older report changes nothing)."""
        if self._session is not None:
            self.model.set_records(self._session.dialer.states())
            self._refresh()

    @Slot(object)
    def on_session_pass_finished(self, error: object) -> None:
        if self._close_when_stopped:
            self._close_when_stopped = False
            super().done(QDialog.DialogCode.Rejected)
            return
        self.on_session_status_changed(None)
        if error is not None:
            self.status.setText(f"Dialing stopped: {error}")
            self.status.setStyleSheet(_ERROR_STYLE)

    # -- the form ------------------------------------------------------------------------------

    @Slot(str)
    def on_room_edit_text_changed(self, text: str) -> None:
        message = room_problem(text)
        self.room_error.setText(message)
        self.room_error.setVisible(bool(message))
        self._refresh()

    @Slot(int)
    def on_from_current_index_changed(self, _: int) -> None:
        self._refresh()

    def _refresh(self) -> None:
        """Enable what can be done now, and say where the list stands."""
        states = self.model.records()
        running = self.dialing
        cancelling = running and self._session is not None and self._session.cancelling
        ready = self._target() is not None
        self.dial_button.setEnabled(not running and ready and _any(states, UNDIALED))
        self.retry_button.setEnabled(not running and ready and _any(states, RETRYABLE_STATUSES))
        self.cancel_button.setEnabled(running and not cancelling)
        for widget in (self.import_button, self.room, self.from_):
            widget.setEnabled(not running)
        dialed = sum(state.status not in NOT_DIALED for state in states)
        self.progress.setRange(0, max(1, len(states)))
        self.progress.setValue(dialed)
        self.progress.setFormat("%v of %m dialed" if states else "Nothing to dial")
        self.bad_box.setTitle(f"Rows that will not be dialed ({self._bad_count})")
        self.bad_box.setVisible(self._bad_count > 0)
        self.status.setStyleSheet("")
        self.status.setText(self._describe(states, running, cancelling))

    def _describe(self, states: list[EntryStatus], running: bool, cancelling: bool) -> str:
        if not states:
            if self._bad_count:
                return "No row of this list can be dialed; see why below."
            return "Import a CSV of number, identity and name, or pick calls in the history."
        if self.from_.count() == 0:
            return "The account has no number to call from."
        tally = Counter(state.status for state in states)
        counts = ", ".join(f"{n} {status}" for status, n in tally.items())
        if cancelling:
            return f"Stopping after the call being placed… {counts}"
        pace = f"{self._cps:g} call{'' if self._cps == 1 else 's'} a second"
        if running:
            return f"Dialing at {pace}: {counts}"
        if self._session is None:
            room = self.room.currentText().strip() or "the room"
            return f"{len(states)} to dial into {room} at {pace}."
        return f"Dialed into {self._session.room}: {counts}"

    # -- closing -------------------------------------------------------------------------------

    def done(self, result: int) -> None:
        """Close; while dialing, ask first, and close once the pass has stopped."""
        if not self.dialing:
            super().done(result)
            return
        asking = self._question is not None and shiboken6.isValid(self._question)
        if asking or self._close_when_stopped:
            return
        states = self._session.dialer.states() if self._session is not None else []
        left = sum(state.status == PENDING for state in states)
        self._question = ask(
            self,
            "stop-dialing",
            "Stop dialing",
            f"{left} entr{'y is' if left == 1 else 'ies are'} not dialed yet. Stop dialing and "
            "close? Calls already placed go on.",
            [
                ("&Stop and close", QMessageBox.ButtonRole.AcceptRole, self.stop_and_close),
                ("&Keep dialing", QMessageBox.ButtonRole.RejectRole, lambda: None),
            ],
        )

    def stop_and_close(self) -> None:
        """Cancel the pass and close as soon as it returns (at once when none runs)."""
        if not self.dialing:
            super().done(QDialog.DialogCode.Rejected)
            return
        self._close_when_stopped = True
        self.cancel()


def _any(states: list[EntryStatus], statuses: Sequence[str]) -> bool:
    return any(state.status in statuses for state in states)
