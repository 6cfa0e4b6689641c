"""The Team panel's model and panel: who is online, what each is doing, this operator as you."""

from __future__ import annotations

from PySide6.QtCore import Qt

from console.models.presence_model import PresenceModel, TeamMember
from console.team_desk import activity_text
from console.ui.team_panel import TeamPanel


def rows(model: PresenceModel) -> list[list[str]]:
    return [
        [model.index(row, column).data() for column in range(model.columnCount())]
        for row in range(model.rowCount())
    ]


def test_operators_come_go_and_say_what_they_do(qtmodeltester):
    model = PresenceModel()
    model.set_operator("grace")
    model.set_members([TeamMember("grace"), TeamMember("ada", "on a call with +44 20 7946 0000")])
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in (0, 1)] == ["Operator", "Doing"]
    assert rows(model) == [["ada", "on a call with +44 20 7946 0000"], ["grace (you)", "idle"]]
    model.online("lin")
    model.online("lin")  # told twice: listed once
    assert model.names() == ["ada", "grace", "lin"]
    model.set_activity("ada", "")
    assert model.activity_of("ada") == "idle"
    model.set_activity("max", "on a call with +1 555-765-4321")  # heard of before coming online
    assert model.activity_of("max") == "on a call with +1 555-765-4321"
    assert model.offline("lin") and not model.offline("lin")
    assert model.names() == ["ada", "grace", "max"] and model.activity_of("lin") == ""
    qtmodeltester.check(model)


def test_an_activity_is_shown_as_text_whatever_its_shape():
    assert activity_text("on a call with +44 20 7946 0000") == "on a call with +44 20 7946 0000"
    assert activity_text({"text": "on a call"}) == "on a call"
    assert activity_text(None) == activity_text("  ") == "idle"


def test_the_team_panel_counts_who_is_online(qtbot):
    model = PresenceModel()
    model.set_operator("grace")
    panel = TeamPanel(model)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.windowTitle() == "Team" and panel.heading.text() == "<b>Team</b>"
    model.online("grace")
    assert panel.heading.text() == "<b>Team</b> · 1 operator online"
    assert panel.empty_hint.isVisible()  # nobody else
    model.online("ada")
    assert panel.heading.text() == "<b>Team</b> · 2 operators online"
    assert not panel.empty_hint.isVisible()
