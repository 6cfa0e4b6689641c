"""ParticipantsModel: identities of one room, checked by qtmodeltester."""

from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt

from console.core.calls.records import Participant
from console.models.participants_model import ParticipantsModel, participant_sid_of

START = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)


def people() -> list[Participant]:
    return [
        Participant("PA1", "RM1", "alice", "connected", "phone", START),
        Participant("PA2", "RM1", "bob", "connected", "sip", None),
    ]


def test_model_passes_qtmodeltester(qtmodeltester):
    model = ParticipantsModel()
    model.set_records(people())
    qtmodeltester.check(model)


def test_rows_show_identity_kind_number_status_since():
    model = ParticipantsModel(number_of=lambda p: {"CA1": "+14155550100"}.get(p.call_sid, ""))
    alice, bob = people()
    model.set_records([replace(alice, call_sid="CA1"), bob])
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)]
    assert titles == ["Identity", "Kind", "Number", "Status", "Since", "Call"]
    row = [model.index(0, c).data() for c in range(5)]
    assert row[:4] == ["alice", "phone", "+1 415-555-0100 (US)", "connected"]
    assert row[4] == START.astimezone().strftime("%H:%M:%S")
    assert model.index(1, 2).data() == ""  # no call the console knows: no number
    assert model.index(1, 4).data() == ""
    model.set_records([])
    assert model.rowCount() == 0


def test_only_participants_on_a_known_call_can_be_dragged(qapp):
    model = ParticipantsModel()
    alice, bob = people()
    model.set_records([replace(alice, call_sid="CA1"), bob])
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(model.index(1, 0)) & Qt.ItemFlag.ItemIsDragEnabled
    assert participant_sid_of(model.mimeData([model.index(0, 0)])) == "PA1"
    assert model.mimeData([model.index(1, 0)]) is None
