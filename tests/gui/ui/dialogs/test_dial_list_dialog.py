"""The dial list dialog: bad rows shown and never dialed, paced dialing, cancel, retry, closing."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import shiboken6
from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
)

from console.core.calls.dial_list import (
    DialEntry,
    EntryStatus,
    entries_from_history,
    parse_dial_list,
)
from console.core.calls.history import CallHistory
from console.core.calls.records import CALL_EVENTS, Call, PhoneNumber
from console.core.gateways.gateway import Gateway, TwilioError
from console.dial_session import DialSession
from console.event_bridge import EventBridge
from console.models.dial_list_model import BadRowsModel, DialListModel
from console.tasks import TaskRunner
from console.ui.dialogs.dial_list_dialog import DialListDialog
from tests.e2e.conftest import client, response_log, sandbox, sandbox_server  # noqa: F401
from tests.helpers.widgets import by_name
from webhook import WebhookServer, create_app
from webhook.events import CallStatusEvent

LINE = "+15005550006"
NUMBERS = [PhoneNumber("PN1", LINE, "Sandbox line 1"), PhoneNumber("PN2", "+15005550007", "")]
GOOD = "number,identity,name\n+15551230001,alice,Alice\n+15551230002,bob,Bob\n"


class Placer:
    """Stands in for the window's place(): records each call and returns it with a new CA SID."""

    def __init__(self) -> None:
        self.placed: list[tuple[str, str, str, float, threading.Thread]] = []
        self.sids: dict[str, list[str]] = {}
        self.gates: dict[str, threading.Event] = {}
        self.failures: dict[str, Exception] = {}
        self.lock = threading.Lock()

    def __call__(self, entry: DialEntry, room: str, from_: str) -> Call:
        sid = "CA" + uuid.uuid4().hex
        with self.lock:
            self.placed.append(
                (entry.identity, room, from_, time.monotonic(), threading.current_thread())
            )
            self.sids.setdefault(entry.identity, []).append(sid)
        gate = self.gates.get(entry.identity)
        if gate is not None:
            assert gate.wait(5), "the test never opened the gate"
        if entry.identity in self.failures:
            raise self.failures[entry.identity]
        return Call(
            sid, entry.to, from_, "queued", "outbound-api", room=room, identity=entry.identity
        )

    def who(self) -> list[str]:
        with self.lock:
            return [identity for identity, *_ in self.placed]

    def sid(self, identity: str) -> str:
        with self.lock:
            return self.sids[identity][-1]


@pytest.fixture
def runner(qtbot) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    assert runner.wait(5000)


@pytest.fixture
def placer() -> Placer:
    return Placer()


@pytest.fixture
def make_dialog(qtbot, runner, placer, tmp_path):
    def make(
        text: str = "",
        cps: float = 50.0,
        rooms=("DailyStandup", "Support"),
        numbers=NUMBERS,
        place=placer,
        register: bool = True,
    ) -> DialListDialog:
        path = tmp_path / "contacts.csv"
        path.write_text(text, encoding="utf-8")
        dialog = DialListDialog(
            runner, place, list(rooms), numbers, "US", cps, choose_file=lambda: str(path)
        )
        if register:
            qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        if text:
            click(qtbot, dialog, "Import CSV")
            qtbot.waitUntil(lambda: dialog.model.rowCount() > 0 or dialog.bad_model.rowCount())
        return dialog

    return make


def click(qtbot, dialog, name: str) -> None:
    button = by_name(dialog, name, QPushButton)
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def column(dialog: QDialog, name: str, col: int) -> list[str]:
    model = by_name(dialog, name, QTableView).model()
    return [model.index(row, col).data() for row in range(model.rowCount())]


def statuses(dialog: DialListDialog) -> dict[str, str]:
    return dict(zip(column(dialog, "Dial list", 2), column(dialog, "Dial list", 4), strict=True))


def progress(dialog: DialListDialog) -> tuple[int, int]:
    bar = by_name(dialog, "Progress", QProgressBar)
    return bar.value(), bar.maximum()


def finished(qtbot, dialog: DialListDialog) -> None:
    qtbot.waitUntil(lambda: not dialog.dialing and by_name(dialog, "Import CSV").isEnabled())


def test_models_pass_qtmodeltester(qtmodeltester):
    parsed = parse_dial_list(GOOD + "12,carol\n+15551230001,dave\n", "US")
    entries = DialListModel()
    entries.set_records([EntryStatus(entry) for entry in parsed.entries])
    qtmodeltester.check(entries)
    bad = BadRowsModel()
    bad.set_records(parsed.bad_rows)
    qtmodeltester.check(bad)
    assert [bad.index(0, c).data() for c in range(3)] == [
        "4",
        "Invalid number: The number is too short.",
        "12,carol",
    ]


def test_every_control_has_its_accessible_name(make_dialog):
    dialog = make_dialog()
    for name in ("Import CSV", "Dial list", "Bad rows", "Room", "From", "Dial all", "Progress"):
        by_name(dialog, name)
    for name in ("Cancel dialing", "Retry", "Dial list status"):
        by_name(dialog, name)
    assert not by_name(dialog, "Dial all").isEnabled()  # nothing to dial yet
    assert "Import a CSV" in by_name(dialog, "Dial list status", QLabel).text()


def test_bad_rows_are_shown_before_dialing_and_never_dialed(qtbot, make_dialog, placer):
    text = (
        "number,identity,name\n"
        "+15551230001,alice,Alice\n"
        "555-CALL-NOW,bob,Bob\n"  # row 3: letters
        "+15551230003,alice,Alice again\n"  # row 4: duplicate identity
        "+15551230005,dave,\n"
    )
    dialog = make_dialog(text)
    assert column(dialog, "Dial list", 2) == ["alice", "dave"]
    assert column(dialog, "Bad rows", 0) == ["3", "4"]
    reasons = column(dialog, "Bad rows", 1)
    assert reasons[0].startswith("Invalid number: The number contains letters")
    assert reasons[1] == "Duplicate identity “alice” (row 2)."
    assert by_name(dialog, "Bad rows").isVisible()
    assert by_name(dialog, "Dial list source", QLabel).text() == "contacts.csv"
    assert set(statuses(dialog).values()) == {"pending"}

    click(qtbot, dialog, "Dial all")
    finished(qtbot, dialog)
    assert placer.who() == ["alice", "dave"]
    assert statuses(dialog) == {"alice": "queued", "dave": "queued"}


def test_unreadable_files_are_reported(qtbot, make_dialog, tmp_path, runner):
    dialog = make_dialog()
    dialog._choose_file = lambda: str(tmp_path / "missing.csv")
    click(qtbot, dialog, "Import CSV")
    status = by_name(dialog, "Dial list status", QLabel)
    qtbot.waitUntil(lambda: status.text().startswith("Cannot read"))
    assert "missing.csv" in status.text() and "c0392b" in status.styleSheet()
    assert by_name(dialog, "Import CSV").isEnabled()
    big = tmp_path / "big.csv"
    big.write_bytes(b"+15551230001,alice\n" * 60_000)
    dialog._choose_file = lambda: str(big)
    click(qtbot, dialog, "Import CSV")
    qtbot.waitUntil(lambda: "too large" in status.text())
    assert dialog.model.rowCount() == 0


def test_dial_all_is_paced_in_order_from_a_worker_to_100_percent(qtbot, make_dialog, placer):
    text = "".join(f"+1555123000{n},p{n}\n" for n in range(1, 6))
    dialog = make_dialog(text, cps=10.0)
    by_name(dialog, "Room", QComboBox).setCurrentText("Townhall")
    from_box = by_name(dialog, "From", QComboBox)
    from_box.setCurrentIndex(1)
    assert progress(dialog) == (0, 5)
    click(qtbot, dialog, "Dial all")
    assert not by_name(dialog, "Dial all").isEnabled()
    assert by_name(dialog, "Cancel dialing").isEnabled()
    finished(qtbot, dialog)
    assert placer.who() == ["p1", "p2", "p3", "p4", "p5"]
    moments = [moment for _, _, _, moment, _ in placer.placed]
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) >= 0.1 - 0.005, gaps  # 10 calls a second, never faster
    assert {(room, from_) for _, room, from_, _, _ in placer.placed} == {
        ("Townhall", "+15005550007")
    }
    assert all(thread is not threading.main_thread() for *_, thread in placer.placed)
    assert progress(dialog) == (5, 5)
    assert not by_name(dialog, "Cancel dialing").isEnabled()
    assert by_name(dialog, "Dial list status", QLabel).text() == "Dialed into Townhall: 5 queued"


def test_statuses_arrive_through_on_call_status_and_never_go_back(qtbot, make_dialog, placer):
    dialog = make_dialog(GOOD)
    placer.gates["bob"] = threading.Event()
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: placer.who() == ["alice", "bob"])
    qtbot.waitUntil(lambda: statuses(dialog) == {"alice": "queued", "bob": "dialing"})
    dialog.on_call_status(placer.sid("bob"), "ringing")  # before bob's create has returned
    dialog.on_call_status(placer.sid("alice"), "ringing")
    assert statuses(dialog)["alice"] == "ringing"
    placer.gates["bob"].set()
    finished(qtbot, dialog)
    assert statuses(dialog) == {"alice": "ringing", "bob": "ringing"}
    dialog.on_call_status(placer.sid("alice"), "in-progress")
    dialog.on_call_status(placer.sid("alice"), "ringing")  # a late callback
    dialog.on_call_status(placer.sid("bob"), "failed", "Your call could not be completed")
    dialog.on_call_status("CA" + "0" * 32, "completed")  # some other call: ignored
    assert statuses(dialog) == {"alice": "in-progress", "bob": "failed"}
    assert column(dialog, "Dial list", 5) == ["", "Your call could not be completed"]


def test_a_failed_placement_shows_twilios_words_and_dial_all_tries_it_again(
    qtbot, make_dialog, placer
):
    placer.failures["bob"] = TwilioError("Invalid 'To' Phone Number", 21211, 400)
    dialog = make_dialog(GOOD)
    click(qtbot, dialog, "Dial all")
    finished(qtbot, dialog)
    assert statuses(dialog) == {"alice": "queued", "bob": "error"}
    assert column(dialog, "Dial list", 5)[1] == "Invalid 'To' Phone Number (Twilio error 21211)"
    del placer.failures["bob"]
    click(qtbot, dialog, "Dial all")  # dials only the entry that has no call yet
    finished(qtbot, dialog)
    assert placer.who() == ["alice", "bob", "bob"]
    assert statuses(dialog) == {"alice": "queued", "bob": "queued"}


def test_cancel_cuts_the_pacing_wait_and_skips_the_rest(qtbot, make_dialog, placer):
    dialog = make_dialog(GOOD + "+15551230003,carol\n", cps=0.5)  # 2 s between calls
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: statuses(dialog)["alice"] == "queued")
    started = time.monotonic()
    click(qtbot, dialog, "Cancel dialing")
    finished(qtbot, dialog)
    assert time.monotonic() - started < 1.5  # did not sit out the 2 s wait
    assert placer.who() == ["alice"]
    assert statuses(dialog) == {"alice": "queued", "bob": "skipped", "carol": "skipped"}
    assert progress(dialog) == (1, 3)
    assert by_name(dialog, "Dial all").isEnabled()  # the skipped ones can still be dialed


def test_cancel_during_a_placement_lets_it_finish_then_dial_all_resumes(qtbot, make_dialog, placer):
    dialog = make_dialog(GOOD + "+15551230003,carol\n")
    placer.gates["alice"] = threading.Event()
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: placer.who() == ["alice"])
    click(qtbot, dialog, "Cancel dialing")
    assert not by_name(dialog, "Cancel dialing").isEnabled()
    assert "Stopping" in by_name(dialog, "Dial list status", QLabel).text()
    placer.gates["alice"].set()
    finished(qtbot, dialog)
    assert statuses(dialog) == {"alice": "queued", "bob": "skipped", "carol": "skipped"}
    click(qtbot, dialog, "Dial all")
    finished(qtbot, dialog)
    assert Counter(placer.who()) == {"alice": 1, "bob": 1, "carol": 1}
    assert progress(dialog) == (3, 3)


def test_retry_dials_again_only_the_busy_and_unanswered(qtbot, make_dialog, placer):
    text = "".join(f"+1555123000{n},{name}\n" for n, name in enumerate("abcd", 1))
    dialog = make_dialog(text)
    click(qtbot, dialog, "Dial all")
    finished(qtbot, dialog)
    assert not by_name(dialog, "Retry").isEnabled()
    for name, status in zip("abcd", ("in-progress", "busy", "no-answer", "failed"), strict=True):
        dialog.on_call_status(placer.sid(name), status)
    assert by_name(dialog, "Retry").isEnabled()
    assert not by_name(dialog, "Dial all").isEnabled()  # every entry has had its call
    first = {name: placer.sid(name) for name in "abcd"}

    click(qtbot, dialog, "Retry")
    finished(qtbot, dialog)
    assert placer.who() == ["a", "b", "c", "d", "b", "c"]
    assert statuses(dialog) == {"a": "in-progress", "b": "queued", "c": "queued", "d": "failed"}
    assert column(dialog, "Dial list", 5) == ["", "Attempt 2", "Attempt 2", ""]
    assert placer.sid("b") != first["b"]
    dialog.on_call_status(first["b"], "completed")  # the first call's late callback
    assert statuses(dialog)["b"] == "queued"
    dialog.on_call_status(placer.sid("b"), "in-progress")
    assert statuses(dialog)["b"] == "in-progress"
    assert not by_name(dialog, "Retry").isEnabled()


def test_room_and_from_are_required(qtbot, make_dialog):
    dialog = make_dialog(GOOD)
    room = by_name(dialog, "Room", QComboBox)
    room.setCurrentText("x" * 129)
    error = by_name(dialog, "Room error", QLabel)
    assert error.isVisible() and "128" in error.text()
    assert not by_name(dialog, "Dial all").isEnabled()
    room.setCurrentText("Brand new room")
    assert not error.isVisible() and by_name(dialog, "Dial all").isEnabled()
    assert "into Brand new room" in by_name(dialog, "Dial list status", QLabel).text()

    lonely = make_dialog(GOOD, numbers=[])
    assert not by_name(lonely, "Dial all").isEnabled()
    assert "no number to call from" in by_name(lonely, "Dial list status", QLabel).text()


def test_enter_in_the_room_field_does_not_dial(qtbot, make_dialog, placer):
    dialog = make_dialog(GOOD)
    room = by_name(dialog, "Room", QComboBox)
    room.setFocus()
    qtbot.keyClick(room.lineEdit(), Qt.Key.Key_Return)
    assert dialog.isVisible() and not dialog.dialing and placer.who() == []


def test_picking_calls_from_the_history_makes_a_list(qtbot, make_dialog, placer, tmp_path):
    with CallHistory(tmp_path / "history.sqlite3") as history:
        for n, (to, identity) in enumerate((("+15005550002", "carol"), ("+15005550003", "dave"))):
            history.record_call(Call(f"CA{n}", to, LINE, "busy", "outbound-api", identity=identity))
        picked = history.search(status=("busy",))
    dialog = make_dialog()
    assert dialog.load_entries(entries_from_history(picked, "US"), "History")
    assert sorted(column(dialog, "Dial list", 2)) == ["carol", "dave"]
    assert not by_name(dialog, "Bad rows").isVisible()
    click(qtbot, dialog, "Dial all")
    finished(qtbot, dialog)
    assert sorted(placer.who()) == ["carol", "dave"]


def question(qtbot, dialog: QDialog) -> QMessageBox:
    qtbot.waitUntil(lambda: dialog.findChild(QMessageBox, "stop-dialing") is not None)
    box = dialog.findChild(QMessageBox, "stop-dialing")
    qtbot.waitUntil(box.isVisible)
    return box


def answer(qtbot, box: QMessageBox, label: str) -> None:
    (button,) = [b for b in box.buttons() if b.text().replace("&", "") == label]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_closing_while_dialing_asks_and_can_keep_dialing(qtbot, make_dialog, placer):
    dialog = make_dialog(GOOD)
    placer.gates["alice"] = threading.Event()
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: placer.who() == ["alice"])
    dialog.reject()  # Escape, the Close button or the title bar's ×
    box = question(qtbot, dialog)
    assert box.text().startswith("1 entry is not dialed yet.")
    answer(qtbot, box, "Keep dialing")
    placer.gates["alice"].set()
    finished(qtbot, dialog)
    assert dialog.isVisible() and placer.who() == ["alice", "bob"]


def test_closing_while_dialing_stops_then_closes_without_a_leak(qtbot, make_dialog, placer, runner):
    dialog = make_dialog(GOOD + "+15551230003,carol\n", register=False)
    dialog.finished.connect(dialog.deleteLater)  # as the window does
    placer.gates["alice"] = threading.Event()
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: placer.who() == ["alice"])
    click(qtbot, dialog, "Close")
    answer(qtbot, question(qtbot, dialog), "Stop and close")
    assert dialog.isVisible()  # until the call being placed is created
    with qtbot.waitSignal(dialog.destroyed, timeout=5000):
        placer.gates["alice"].set()
    qtbot.waitUntil(lambda: runner.pending == 0)
    qtbot.waitUntil(lambda: not runner.findChildren(DialSession))
    assert placer.who() == ["alice"]


def test_a_dialog_destroyed_mid_list_stops_dialing(qtbot, make_dialog, placer, runner):
    dialog = make_dialog(GOOD + "+15551230003,carol\n", register=False)
    placer.gates["alice"] = threading.Event()
    click(qtbot, dialog, "Dial all")
    qtbot.waitUntil(lambda: placer.who() == ["alice"])
    with qtbot.waitSignal(dialog.destroyed):
        dialog.deleteLater()  # e.g. its window went away
    assert not shiboken6.isValid(dialog)
    placer.gates["alice"].set()  # statuses now go to a session whose dialog is gone
    qtbot.waitUntil(lambda: runner.pending == 0)
    qtbot.waitUntil(lambda: not runner.findChildren(DialSession))
    assert placer.who() == ["alice"]


# -- against the sandbox, through the real Gateway and webhook -------------------------------


class StatusForwarder(QObject):
    """Hands the webhook's status callbacks to the dialog on the GUI thread, as the window does."""

    def __init__(self, dialog: DialListDialog) -> None:
        super().__init__(dialog)
        self._dialog = dialog

    @Slot(object)
    def on_bridge_call_status(self, event: CallStatusEvent) -> None:
        self._dialog.on_call_status(event.call_sid, event.status, event.get("ErrorMessage"))


@pytest.fixture
def bridge(qtbot) -> EventBridge:
    return EventBridge()


@pytest.fixture
def webhook_url(sandbox, bridge) -> Iterator[str]:  # noqa: F811
    """The real webhook, handing its events to the bridge as the console does."""
    app = create_app({"AUTH_TOKEN": sandbox.auth_token, "DEFAULT_ROOM": "Lobby"}, bridge.deliver)
    server = WebhookServer(app)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    yield server.local_url
    server.stop()


def test_a_list_dialed_into_the_sandbox(qtbot, make_dialog, sandbox, client, webhook_url, bridge):  # noqa: F811
    gateway = Gateway(client)
    gateway.create_room("Townhall")

    def place(entry: DialEntry, room: str, from_: str) -> Call:
        query = urlencode({"room": room, "identity": entry.identity})
        return gateway.place_call(
            entry.to,
            from_,
            f"{webhook_url}/voice/outbound?{query}",
            f"{webhook_url}/voice/status",
            list(CALL_EVENTS),
        )

    text = (
        "number,identity,name\n"
        "+15551230001,alice,Alice\n"
        "+15551230002,bob,Bob\n"
        "+15005550002,carol,Carol (always busy)\n"
        "12,dave,Too short\n"
        "+15551230005,alice,Duplicate\n"
    )
    dialog = make_dialog(text, cps=20.0, rooms=["Townhall"], place=place)
    forwarder = StatusForwarder(dialog)
    bridge.call_status_received.connect(forwarder.on_bridge_call_status)
    assert column(dialog, "Bad rows", 0) == ["5", "6"]
    click(qtbot, dialog, "Dial all")
    expected = {"alice": "in-progress", "bob": "in-progress", "carol": "busy"}
    qtbot.waitUntil(lambda: statuses(dialog) == expected, timeout=10_000)
    assert progress(dialog) == (3, 3)

    def dialed() -> Counter:
        with sandbox.state.lock:
            return Counter(c.to for c in sandbox.state.calls.values() if c.direction != "inbound")

    assert dialed() == {"+15551230001": 1, "+15551230002": 1, "+15005550002": 1}
    room = gateway.find_room("Townhall")
    assert room is not None
    assert sorted(p.identity for p in gateway.list_participants(room.sid)) == ["alice", "bob"]

    click(qtbot, dialog, "Retry")
    qtbot.waitUntil(lambda: column(dialog, "Dial list", 5)[2] == "Attempt 2", timeout=10_000)
    qtbot.waitUntil(lambda: statuses(dialog) == expected, timeout=10_000)
    finished(qtbot, dialog)
    assert dialed() == {"+15551230001": 1, "+15551230002": 1, "+15005550002": 2}
