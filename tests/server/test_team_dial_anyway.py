"""A dial over an identity someone has in the room: refused with a free variant, or, when the
operator chooses "Dial anyway", placed, through the API, the team gateway and the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from console.app import open_console
from console.core.calls.dial_input import DialRequest
from console.core.gateways.team_gateway import TeamGateway
from console.core.gateways.team_records import IdentityInRoom
from console.core.secrets_store import TEAM_TOKEN
from tests.helpers.sandbox_faults import ring_long

ROOM, FROM = "Standup", "+15005550006"


@pytest.fixture
def ann_ringing(team_server, sandbox, sandbox_server) -> str:
    """bob has dialed ann into the room and she is still ringing; the call's SID."""
    ring_long(sandbox_server.url, (sandbox.account_sid, sandbox.auth_token))
    placed = team_server.session("bob").post(
        team_server.api("/calls"),
        json={"to": "+15551230001", "from": FROM, "room": ROOM, "identity": "ann"},
        timeout=30,
    )
    assert placed.status_code == 201, placed.text
    return placed.json()["call"]["sid"]


def _numbers_called(team_server) -> list[str]:
    return sorted(call.to for call in team_server.client.calls.list())


def test_replace_dials_over_a_taken_identity_and_anything_but_a_boolean_is_refused(
    team_server, ann_ringing
):
    alice = team_server.session("alice")
    payload = {"to": "+15551230002", "from": FROM, "room": ROOM, "identity": "ann"}
    refused = alice.post(team_server.api("/calls"), json=payload, timeout=30)
    assert refused.status_code == 409
    bad = alice.post(team_server.api("/calls"), json={**payload, "replace": "yes"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "replace"
    assert _numbers_called(team_server) == ["+15551230001"]
    placed = alice.post(team_server.api("/calls"), json={**payload, "replace": True}, timeout=30)
    assert placed.status_code == 201, placed.text
    assert placed.json()["call"]["to"] == "+15551230002"
    assert _numbers_called(team_server) == ["+15551230001", "+15551230002"]


def test_the_team_gateway_types_the_refusal_and_dials_anyway_when_asked(team_server, ann_ringing):
    gateway = TeamGateway(team_server.url, team_server.token("alice"))
    try:
        with pytest.raises(IdentityInRoom) as refused:
            gateway.dial("+15551230002", FROM, ROOM, "ann")
        assert (refused.value.suggestion, refused.value.code) == ("ann-2", 53205)
        call = gateway.dial("+15551230002", FROM, ROOM, "ann", anyway=True)
    finally:
        gateway.close()
    assert call.to == "+15551230002"
    assert _numbers_called(team_server) == ["+15551230001", "+15551230002"]


def _conflict(qtbot, window) -> QMessageBox:
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "identity-conflict") is not None)
    box = window.findChild(QMessageBox, "identity-conflict")
    qtbot.waitUntil(box.isVisible)
    return box


def _click(qtbot, box: QMessageBox, label: str) -> None:
    (button,) = [b for b in box.buttons() if b.text().replace("&", "") == label]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize(("choice", "joins_as"), [("Dial anyway", "ann"), ("Use ann-2", "ann-2")])
def test_a_window_refused_by_the_server_asks_as_it_does_for_a_connected_identity(
    qtbot, team_server, ann_ringing, preferences, secrets, choice, joins_as
):
    preferences.team_server = team_server.url + "/"
    secrets.set(TEAM_TOKEN, team_server.token("ada"))
    console = open_console(preferences, secrets, {})
    qtbot.addWidget(console.window)
    try:
        # The window sees nobody connected as ann (she is still ringing); the server knows.
        console.controller.dial(DialRequest("+15551230002", FROM, ROOM, "ann"))
        box = _conflict(qtbot, console.window)
        assert box.text().startswith(f"ann is already connected in {ROOM}, or being dialed")
        assert "53205" in box.text()
        _click(qtbot, box, choice)
        qtbot.waitUntil(lambda: len(_numbers_called(team_server)) == 2, timeout=15000)
        qtbot.waitUntil(lambda: not console.controller.dialing, timeout=15000)
        assert _numbers_called(team_server) == ["+15551230001", "+15551230002"]
        history = team_server.session("watcher").get(team_server.api("/history"), timeout=10)
        joined = {c["to"]: c["identity"] for c in history.json()["calls"]}
        assert joined == {"+15551230001": "ann", "+15551230002": joins_as}
    finally:
        console.window.close()
        assert console.shutdown(), "background work did not finish at shutdown"
