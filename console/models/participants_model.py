"""The participants table of the selected room: identity, kind, status, since, and our call."""

from __future__ import annotations

from console.core.records import Participant
from console.models.record_table_model import Column, RecordTableModel


def _since(participant: Participant) -> str:
    connected = participant.connected_at
    return connected.astimezone().strftime("%H:%M:%S") if connected else ""


class ParticipantsModel(RecordTableModel[Participant]):
    """Participants of one room, keyed by SID."""

    def __init__(self, parent=None) -> None:
        columns = [
            Column[Participant]("Identity", lambda p: p.identity, chars=16),
            Column[Participant]("Kind", lambda p: p.kind or "—", chars=8),
            Column[Participant]("Status", lambda p: p.status, chars=11),
            Column[Participant]("Since", _since, chars=8),
            Column[Participant]("Call", lambda p: p.call_status, chars=11),
        ]
        super().__init__(columns, key=lambda p: p.sid, parent=parent)
