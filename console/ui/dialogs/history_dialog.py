"""The History window: every call placed or received, searchable, exportable, and redialable."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QItemSelectionModel, QSignalBlocker, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.core.calls.history_store import (
    DEFAULT_LIMIT,
    HistoryEntry,
    HistoryReader,
    Progress,
    StatusRecord,
)
from console.core.calls.team_history import TeamHistory
from console.models.history_model import HistoryModel
from console.models.record_table_model import RECORD_ROLE
from console.tasks import TaskRunner
from console.ui.table_view import RecordTableView

SEARCH_DELAY_MS = 250  # typing pauses this long before the history is searched
STATUS_FILTERS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("All", None),
    ("completed", ("completed",)),
    ("busy", ("busy",)),
    ("no-answer", ("no-answer",)),
    ("busy or no-answer", ("busy", "no-answer")),
    ("failed", ("failed",)),
    ("canceled", ("canceled",)),
    ("in-progress", ("in-progress",)),
    ("ringing", ("ringing",)),
    ("queued", ("queued", "initiated")),
)
DIRECTION_FILTERS = (("All", ""), ("outbound", "outbound"), ("inbound", "inbound"))
History = HistoryReader  # this desktop's calls, or the team's (TeamHistory, with operators)
_ERROR_STYLE = "color: #c0392b;"


def _error_text(error: object) -> str:
    return str(error) or type(error).__name__


def _timeline(sid: str, statuses: list[StatusRecord]) -> str:
    steps = " → ".join(f"{s.status} {s.at.astimezone().strftime('%H:%M:%S')}" for s in statuses)
    return f"{sid}: {steps}" if steps else sid


class HistoryDialog(QDialog):
    """Past calls newest first: search, filter by status and direction, export CSV, dial again.

    Over the team's history it also shows who handled each call and filters by operator.
    """

    dial_list_requested = Signal(object)  # list[HistoryEntry]: the calls to dial again
    export_progressed = Signal(int)  # calls written so far by the export under way (any thread)

    def __init__(
        self,
        history: History,
        runner: TaskRunner,
        parent: QWidget | None = None,
        *,
        choose_path: Callable[[], str] | None = None,
        limit: int = DEFAULT_LIMIT,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Call history")
        self._history, self._runner = history, runner
        self._team = isinstance(history, TeamHistory)
        self._choose_path = choose_path or self._ask_export_path
        self._limit = limit
        self._query = 0  # the newest query sent; older answers are dropped
        self._searching = False
        self._stale = False  # refresh() was called while a query ran
        self._detail_for = ""
        self._build()
        self._connect_signals()
        self.resize(self._wide_enough(), 520)
        self.refresh()
        if isinstance(history, TeamHistory):
            loaded, failed = self.on_operators_loaded, self.on_operators_failed
            self._runner.submit(history.operators, loaded, failed)

    def _wide_enough(self) -> int:
        """Wide enough for every column at its usual width, within the screen."""
        margins = 60  # the dialog's and the table's frames, and a scroll bar
        wanted = sum(self.table.starting_widths()) + margins
        screen = self.screen().availableGeometry().width() if self.screen() else wanted
        return max(720, min(wanted, screen - 40))

    def _build(self) -> None:
        self.search = QLineEdit(accessibleName="Search history", clearButtonEnabled=True)
        self.search.setPlaceholderText("Search numbers, rooms, identities, SIDs, errors…")
        self.status_filter = QComboBox(accessibleName="Status filter")
        for label, statuses in STATUS_FILTERS:
            self.status_filter.addItem(label, statuses)
        self.direction_filter = QComboBox(accessibleName="Direction filter")
        for label, value in DIRECTION_FILTERS:
            self.direction_filter.addItem(label, value)
        self.operator_filter: QComboBox | None = None
        if self._team:
            self.operator_filter = QComboBox(accessibleName="Operator filter")
            self.operator_filter.addItem("All", None)
            grows = QComboBox.SizeAdjustPolicy.AdjustToContents  # names arrive after it shows
            self.operator_filter.setSizeAdjustPolicy(grows)
        self.model = HistoryModel(self, operators=self._team)
        self.table = RecordTableView(self.model, "History")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)  # one line a call; the tooltip has the whole error
        self.count = QLabel(accessibleName="History status")
        self.detail = QLabel(accessibleName="Call statuses", wordWrap=True)
        self.detail.setStyleSheet("color: #5d6d7e;")
        self.export_button = QPushButton("&Export CSV…", accessibleName="Export CSV")
        self.dial_button = QPushButton("&Dial these…", accessibleName="Dial these")
        self.dial_button.setEnabled(False)
        self.dial_button.setToolTip("Make a dial list of the selected calls (or all shown)")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        for button in (self.export_button, self.dial_button, *self.buttons.buttons()):
            button.setAutoDefault(False)  # Enter in the search field searches, nothing more
        search_label = QLabel("&Search")
        search_label.setBuddy(self.search)
        status_label = QLabel("S&tatus")
        status_label.setBuddy(self.status_filter)
        direction_label = QLabel("D&irection")
        direction_label.setBuddy(self.direction_filter)
        filters = QHBoxLayout()
        filters.addWidget(search_label)
        filters.addWidget(self.search, 1)
        filters.addWidget(status_label)
        filters.addWidget(self.status_filter)
        filters.addWidget(direction_label)
        filters.addWidget(self.direction_filter)
        if self.operator_filter is not None:
            operator_label = QLabel("&Operator")
            operator_label.setBuddy(self.operator_filter)
            filters.addWidget(operator_label)
            filters.addWidget(self.operator_filter)
        actions = QHBoxLayout()
        actions.addWidget(self.count, 1)
        actions.addWidget(self.export_button)
        actions.addWidget(self.dial_button)
        actions.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(actions)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self.on_search_text_changed)
        self.search.returnPressed.connect(self.on_search_return_pressed)
        self._search_timer.timeout.connect(self.refresh)
        self.status_filter.currentIndexChanged.connect(self.on_filter_changed)
        self.direction_filter.currentIndexChanged.connect(self.on_filter_changed)
        if self.operator_filter is not None:
            self.operator_filter.currentIndexChanged.connect(self.on_filter_changed)
        self.table.selectionModel().selectionChanged.connect(self.on_table_selection_changed)
        self.export_button.clicked.connect(self.on_export_clicked)
        self.export_progressed.connect(self.on_export_progressed)
        self.dial_button.clicked.connect(self.on_dial_clicked)
        self.buttons.rejected.connect(self.reject)

    def filters(self) -> dict[str, Any]:
        """The search as shown: text, statuses, direction (and operator), for history.search."""
        shown = {
            "text": self.search.text(),
            "status": self.status_filter.currentData(),
            "direction": self.direction_filter.currentData() or None,
        }
        if self.operator_filter is not None:
            shown["operator"] = self.operator_filter.currentData() or None
        return shown

    def selected_entries(self) -> list[HistoryEntry]:
        """The selected calls in table order, or every call shown when none is selected."""
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        records = [self.model.record_at(row) for row in rows] if rows else self.model.records()
        return [record for record in records if record is not None]

    @Slot()
    def refresh(self) -> None:
        """Search the history again with the filters shown (on the runner, never here)."""
        self._search_timer.stop()
        if self._searching:
            self._stale = True  # one more search when this one answers, not one per call
            return
        self._searching, self._stale = True, False
        self._query += 1
        self.count.setText("Searching…")
        search = functools.partial(self._history.search, **self.filters(), limit=self._limit)
        self._runner.submit(
            search,
            functools.partial(self.on_search_done, self._query),
            functools.partial(self.on_search_failed, self._query),
        )

    @Slot(int, object)
    def on_search_done(self, query: int, entries: object) -> None:
        """Show the calls found, keeping the selection."""
        if not shiboken6.isValid(self) or not self._search_answered(query):
            return
        assert isinstance(entries, list)
        kept = {entry.sid for entry in self.selected_entries()} if self._has_selection() else set()
        self.model.set_records(entries)
        self._reselect(kept)
        self._add_operators(str(getattr(entry, "operator", "")) for entry in entries)
        self.on_table_selection_changed()  # a reset clears the selection without a signal
        shown = len(entries)
        text = f"{shown} call{'' if shown == 1 else 's'}"
        if shown >= self._limit:
            text += f" (the newest {self._limit}; narrow the search to see older ones)"
        self.count.setText(text)
        self.count.setStyleSheet("")
        self.dial_button.setEnabled(shown > 0)

    @Slot(int, object)
    def on_search_failed(self, query: int, error: object) -> None:
        """Say why the history could not be read, where the count would be."""
        if not shiboken6.isValid(self) or not self._search_answered(query):
            return
        self.count.setText(_error_text(error))
        self.count.setStyleSheet(_ERROR_STYLE)

    @Slot(object)
    def on_operators_loaded(self, names: object) -> None:
        """The operators online: each can be chosen in the Operator filter."""
        if shiboken6.isValid(self):
            assert isinstance(names, list)
            self._add_operators(names)

    @Slot(object)
    def on_operators_failed(self, error: object) -> None:
        """The filter still offers every operator the history shows; the search says the rest."""

    def _add_operators(self, names: Iterable[str]) -> None:
        """Offer these operators in the filter, in name order, keeping the one chosen."""
        combo = self.operator_filter
        if combo is None:
            return
        known = {combo.itemData(i) for i in range(1, combo.count())}
        every = sorted(known | {n for n in names if n}, key=str.casefold)
        with QSignalBlocker(combo):  # the chosen operator stays chosen: no new search
            for place, name in enumerate(every, start=1):  # "All" stays first
                if name not in known:
                    combo.insertItem(place, name, name)

    def _search_answered(self, query: int) -> bool:
        self._searching = False
        if self._stale:
            self.refresh()
            return False
        return query == self._query

    def _has_selection(self) -> bool:
        return self.table.selectionModel().hasSelection()

    def _reselect(self, sids: set[str]) -> None:
        selection = self.table.selectionModel()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for sid in sids:
            row = self.model.row_of(sid)
            if row >= 0 and not selection.isRowSelected(row):
                selection.select(self.model.index(row, 0), flags)

    @Slot(str)
    def on_search_text_changed(self, _: str) -> None:
        self._search_timer.start()

    @Slot()
    def on_search_return_pressed(self) -> None:
        self.refresh()

    @Slot()
    def on_filter_changed(self) -> None:
        self.refresh()

    @Slot()
    def on_table_selection_changed(self) -> None:
        """Show every status the selected call went through, and when."""
        rows = self.table.selectionModel().selectedRows()
        entry = rows[0].data(RECORD_ROLE) if len(rows) == 1 else None
        sid = entry.sid if isinstance(entry, HistoryEntry) else ""
        if sid == self._detail_for:
            return
        self._detail_for = sid
        self.detail.setText("")
        if sid:
            self._runner.submit(
                functools.partial(self._history.statuses_of, sid),
                functools.partial(self.on_statuses_loaded, sid),
                functools.partial(self.on_statuses_failed, sid),
            )

    @Slot(str, object)
    def on_statuses_loaded(self, sid: str, statuses: object) -> None:
        if shiboken6.isValid(self) and sid == self._detail_for:
            assert isinstance(statuses, list)
            self.detail.setText(_timeline(sid, statuses))

    @Slot(str, object)
    def on_statuses_failed(self, sid: str, error: object) -> None:
        if shiboken6.isValid(self) and sid == self._detail_for:
            self.detail.setText(_error_text(error))

    def _ask_export_path(self) -> str:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(
            self, "Export call history", "call-history.csv", "CSV files (*.csv)"
        )
        return path

    @Slot()
    def on_export_clicked(self) -> None:
        """Write every call matching the filters (not only the newest shown) to a CSV file."""
        path = self._choose_path()
        if not path:
            return
        self.export_button.setEnabled(False)
        self.count.setText("Exporting…")
        export = functools.partial(
            _export, self._history, Path(path), self.filters(), self._tell_progress
        )
        self._runner.submit(
            export, functools.partial(self.on_export_done, path), self.on_export_failed
        )

    def _tell_progress(self, written: int) -> None:
        """The export's progress, from its worker thread to this window (if still open)."""
        if shiboken6.isValid(self):
            self.export_progressed.emit(written)

    @Slot(int)
    def on_export_progressed(self, written: int) -> None:
        """Say how far the export is while it runs."""
        if not self.export_button.isEnabled():
            self.count.setText(f"Exporting… {written:,} call{'' if written == 1 else 's'} so far")

    @Slot(str, object)
    def on_export_done(self, path: str, written: object) -> None:
        if shiboken6.isValid(self):
            self.export_button.setEnabled(True)
            self.count.setText(f"Exported {written} call{'' if written == 1 else 's'} to {path}")
            self.count.setStyleSheet("")

    @Slot(object)
    def on_export_failed(self, error: object) -> None:
        if shiboken6.isValid(self):
            self.export_button.setEnabled(True)
            self.count.setText(_error_text(error))
            self.count.setStyleSheet(_ERROR_STYLE)

    @Slot()
    def on_dial_clicked(self) -> None:
        entries = self.selected_entries()
        if entries:
            self.dial_list_requested.emit(entries)


def _export(
    history: History, path: Path, filters: dict[str, Any], progress: Progress | None = None
) -> int:
    """Write every call the filters find to path, as it is read (runs on a worker). The file
    is written beside path and moved there when whole: a failed export replaces nothing."""
    part = path.with_name(f".{path.name}.part")
    try:
        with part.open("w", newline="", encoding="utf-8") as file:
            written = history.export_csv(file, **filters, limit=None, progress=progress)
        os.replace(part, path)
    except OSError as error:
        raise OSError(f"Cannot write {path}: {error.strerror or error}") from None
    finally:
        part.unlink(missing_ok=True)
    return written
