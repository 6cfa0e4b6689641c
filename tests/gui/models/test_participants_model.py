"""ParticipantsModel: identities of one room, checked by qtmodeltester."""

from datetime import UTC, datetime

from console.core.records import Participant
from console.models.participants_model import ParticipantsModel

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


def test_rows_show_identity_kind_status_since():
    model = ParticipantsModel()
    model.set_records(people())
    alice = [model.index(0, c).data() for c in range(4)]
    assert alice[:3] == ["alice", "phone", "connected"]
    assert alice[3] == START.astimezone().strftime("%H:%M:%S")
    assert model.index(1, 3).data() == ""
    model.set_records([])
    assert model.rowCount() == 0
