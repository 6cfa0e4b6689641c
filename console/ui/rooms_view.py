"""The rooms table, onto whose rows a waiting caller can be dragged from the Waiting panel."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QWidget

from console.core.records import Room
from console.models.rooms_model import RoomsModel
from console.models.waiting_model import call_sid_of
from console.ui.table_view import RecordTableView


class RoomsView(RecordTableView):
    """Accepts a dragged waiting caller over a room row only, and reports where it was dropped.

    Only drag events reach Python: the view's own handlers take them, so no filter sees every
    paint and mouse move of the table.
    """

    caller_dropped = Signal(str, object)  # call_sid of a waiting caller, the Room it was dropped on

    def __init__(self, model: RoomsModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "Rooms", parent)
        self.setAcceptDrops(True)  # Qt hands this on to the viewport, where drags arrive

    def room_at(self, event: QDropEvent) -> Room | None:
        """The room under a drag or drop, or None."""
        index = self.indexAt(event.position().toPoint())
        return self.model().record_at(index.row()) if index.isValid() else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if call_sid_of(event.mimeData()):
            event.acceptProposedAction()  # entering may be over empty space; moves decide
        else:
            event.ignore()  # anything else dragged here is refused

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._judge(event)

    def dropEvent(self, event: QDropEvent) -> None:
        room = self._judge(event)
        if room is not None:
            self.caller_dropped.emit(call_sid_of(event.mimeData()), room)

    def _judge(self, event: QDropEvent) -> Room | None:
        """Accept a waiting caller over a room row (returning the room); refuse the rest."""
        room = self.room_at(event) if call_sid_of(event.mimeData()) else None
        if room is None:
            event.ignore()
            return None
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
        return room
