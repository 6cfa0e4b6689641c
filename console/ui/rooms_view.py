"""The rooms table, onto whose rows a waiting caller or a participant can be dragged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QStyledItemDelegate, QWidget

from console.core.calls.records import Room
from console.models.participants_model import participant_sid_of
from console.models.rooms_model import RoomsModel
from console.models.waiting_model import call_sid_of
from console.ui.table_view import RecordTableView

if TYPE_CHECKING:
    from PySide6.QtWidgets import QStyleOptionViewItem


class _DropTargetDelegate(QStyledItemDelegate):
    """Paints the row under a drag as if selected, so the operator sees where it will land."""

    def __init__(self, view: RoomsView) -> None:
        super().__init__(view)
        self._view = view

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        if index.row() == self._view.drop_row:
            # Loaded on the first drag: QStyle's enums cost start-up time.
            from PySide6.QtGui import QPalette
            from PySide6.QtWidgets import QStyle

            option.state |= QStyle.StateFlag.State_Selected | QStyle.StateFlag.State_HasFocus
            option.palette.setCurrentColorGroup(QPalette.ColorGroup.Active)


def _dragged(event: QDropEvent) -> tuple[str, str]:
    """('caller', CallSid) or ('participant', SID) for what is dragged; ('', '') otherwise."""
    data = event.mimeData()
    if sid := call_sid_of(data):
        return "caller", sid
    if sid := participant_sid_of(data):
        return "participant", sid
    return "", ""


class RoomsView(RecordTableView):
    """Accepts a waiting caller or a participant over a room row only, and says where it landed.

    Only drag events reach Python: the view's own handlers take them, so no filter sees every
    paint and mouse move of the table.
    """

    caller_dropped = Signal(str, object)  # call_sid of a waiting caller, the Room it was dropped on
    participant_dropped = Signal(str, object)  # a participant's SID, the Room it was dropped on

    def __init__(self, model: RoomsModel, parent: QWidget | None = None) -> None:
        super().__init__(model, "Rooms", parent)
        self.drop_row = -1  # the row under a drag, highlighted
        # Painting through a Python delegate costs a call into Python for every cell: the
        # highlighting one is used only while something is dragged over the rooms.
        self._plain_delegate = self.itemDelegate()
        self._drop_delegate = _DropTargetDelegate(self)
        self.setAcceptDrops(True)  # Qt hands this on to the viewport, where drags arrive

    def room_at(self, event: QDropEvent) -> Room | None:
        """The room under a drag or drop, or None."""
        index = self.indexAt(event.position().toPoint())
        return self.model().record_at(index.row()) if index.isValid() else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dragged(event)[0]:
            event.acceptProposedAction()  # entering may be over empty space; moves decide
        else:
            event.ignore()  # anything else dragged here is refused

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._judge(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._highlight(-1)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        room = self._judge(event)
        self._highlight(-1)
        kind, sid = _dragged(event)
        if room is None:
            return
        if kind == "caller":
            self.caller_dropped.emit(sid, room)
        elif kind == "participant":
            self.participant_dropped.emit(sid, room)

    def _judge(self, event: QDropEvent) -> Room | None:
        """Accept a caller or participant over a room row (returning the room); refuse the rest."""
        room = self.room_at(event) if _dragged(event)[0] else None
        if room is None:
            self._highlight(-1)
            event.ignore()
            return None
        self._highlight(self.indexAt(event.position().toPoint()).row())
        kind = _dragged(event)[0]
        action = Qt.DropAction.MoveAction if kind == "participant" else Qt.DropAction.CopyAction
        event.setDropAction(action)
        event.accept()
        return room

    def _highlight(self, row: int) -> None:
        if row != self.drop_row:
            self.drop_row = row
            delegate = self._plain_delegate if row < 0 else self._drop_delegate
            if self.itemDelegate() is not delegate:
                self.setItemDelegate(delegate)  # redraws the viewport too
            self.viewport().update()
