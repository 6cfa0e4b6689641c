"""The rooms table: unique name, type, participant count and age."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt

from console.core.calls.records import Room
from console.models.control_icons import recording_icon
from console.models.record_table_model import Column, RecordTableModel


def format_age(created: datetime | None, now: datetime) -> str:
    """A short age such as 45s, 12m or 3h05m."""
    if created is None:
        return ""
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _room_tip(room: Room) -> str:
    return f"{room.unique_name} is recording" if room.recording else room.unique_name


class RoomsModel(RecordTableModel[Room]):
    """In-progress rooms, keyed by SID; a refresh redraws the rooms that changed, and the ages."""

    redraws_unchanged = False

    def __init__(self, clock: Callable[[], datetime] | None = None, parent=None) -> None:
        now = clock or (lambda: datetime.now(UTC))
        columns = [
            Column[Room]("Room", lambda r: r.unique_name, chars=16, tip=_room_tip, stretch=1),
            Column[Room]("Type", lambda r: r.type, chars=11),
            Column[Room]("People", lambda r: str(r.participant_count), chars=6),
            Column[Room]("Age", lambda r: format_age(r.created, now()), chars=6, clocked=True),
        ]
        super().__init__(columns, key=lambda r: r.sid, parent=parent)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0:
            room = self.record_at(index.row()) if index.isValid() else None
            return recording_icon() if room is not None and room.recording else None
        return super().data(index, role)
