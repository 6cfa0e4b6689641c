"""The participants table of the selected room: identity, kind, number, status, since, our call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, QPersistentModelIndex, Qt

from console.core.calls.records import Participant
from console.core.number_text import display_number
from console.models.control_icons import muted_icon
from console.models.record_table_model import Column, RecordTableModel

NUMBER_COLUMN = 2
PARTICIPANT_MIME = "application/x-switchboard-participant"  # a dragged participant: its SID


def participant_mime(participant_sid: str) -> QMimeData:
    """Drag data naming one participant."""
    data = QMimeData()
    data.setData(PARTICIPANT_MIME, participant_sid.encode("utf-8"))
    return data


def participant_sid_of(data: QMimeData | None) -> str:
    """The participant SID carried by drag data, or '' when it carries none."""
    if data is None or not data.hasFormat(PARTICIPANT_MIME):
        return ""
    return bytes(data.data(PARTICIPANT_MIME).data()).decode("utf-8", "replace").strip()


def _since(participant: Participant) -> str:
    connected = participant.connected_at
    return connected.astimezone().strftime("%H:%M:%S") if connected else ""


def _identity_tip(participant: Participant) -> str:
    if participant.muted:
        return f"{participant.identity} is muted: nobody else in the room hears them"
    return participant.identity


class ParticipantsModel(RecordTableModel[Participant]):
    """Participants of one room, keyed by SID; those on a call the console knows drag out.

    number_of gives the phone number or SIP address a participant came in by, when the console
    knows its call ('' otherwise). A refresh redraws only the participants that changed: a
    call's number never changes, and its status comes in the record.
    """

    redraws_unchanged = False

    def __init__(self, number_of: Callable[[Participant], str] | None = None, parent=None) -> None:
        self._number_of = number_of or (lambda p: "")
        columns = [
            Column[Participant](
                "Identity", lambda p: p.identity, chars=14, tip=_identity_tip, stretch=2
            ),
            Column[Participant]("Kind", lambda p: p.kind or "—", chars=5),
            Column[Participant]("Number", self.number_text, chars=18, stretch=1),
            Column[Participant]("Status", lambda p: p.status, chars=11, status=lambda p: p.status),
            Column[Participant]("Since", _since, chars=8),
            Column[Participant](
                "Call", lambda p: p.call_status, chars=11, status=lambda p: p.call_status
            ),
        ]
        super().__init__(columns, key=lambda p: p.sid, parent=parent)

    def number(self, participant: Participant) -> str:
        """The number or SIP address a participant came in by, as dialed ('' when unknown)."""
        return self._number_of(participant) if participant.call_sid else ""

    def number_text(self, participant: Participant) -> str:
        """The number, formatted with its country."""
        return display_number(self.number(participant))

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            person = self.record_at(index.row()) if index.isValid() else None
            return muted_icon() if person is not None and person.muted else None
        return super().data(index, role)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        person = self.record_at(index.row()) if index.isValid() else None
        return flags | Qt.ItemFlag.ItemIsDragEnabled if person and person.call_sid else flags

    def mimeTypes(self) -> list[str]:
        return [PARTICIPANT_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData | None:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        person = self.record_at(rows[0]) if rows else None
        return participant_mime(person.sid) if person and person.call_sid else None

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction
