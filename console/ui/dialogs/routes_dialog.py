"""Edits routes.toml: routes by called number, meeting codes and known callers, saved atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

import shiboken6
from PySide6.QtCore import QModelIndex, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from console.core.routes_form import (
    ACTION_ROOM,
    ACTIONS,
    CALLER_COLUMNS,
    CODE_COLUMNS,
    ROOM_ACTIONS,
    ROUTE_COLUMNS,
    LoadedRoutes,
    RoutesChanged,
    Row,
    caller_rows,
    check_caller_rows,
    check_code_rows,
    check_route_rows,
    check_rules,
    code_rows,
    load_routes,
    route_rows,
    rules_from_rows,
    save_if_unchanged,
)
from console.models.rules_table_model import RulesTableModel
from console.tasks import TaskRunner
from console.ui.dialogs.rules_box import RulesBox
from console.ui.prompts import ask
from webhook.routes import RoutesError, RoutingRules, parse_routes, render_routes

log = logging.getLogger(__name__)

_ERROR_STYLE = "color: #b3261e;"
_BANNER_STYLE = (
    "background: #fde7e9; color: #5f1212; border: 1px solid #e8a0a0;"
    " border-radius: 4px; padding: 6px;"
)
_NOTE_STYLE = "color: palette(placeholder-text);"
ROOM_COLUMN, ACTION_COLUMN = 2, 1


def _unused_room(row: Row, column: int) -> bool:
    """A route's room means nothing unless its action is Room."""
    return column == ROOM_COLUMN and row[ACTION_COLUMN] not in ROOM_ACTIONS


class RoutesDialog(QDialog):
    """The routes file as three tables; a malformed file is shown as text, never overwritten.

    The team's routes (TeamRoutesDialog) are edited the same way through the hooks below.
    """

    routes_saved = Signal(str)  # where they were written: the path (or the team's version)
    FORM_NOTE = "What Save writes. Comments in the file are not kept."
    RAW_NOTE = "The file as it is on disk. Fix it here, then Save, or Edit in the form."
    KEPT_NOTE = "The file is left as it is until you save a correct version."

    def __init__(
        self, path: Path | None, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Routes")
        self.path, self._runner = Path(path) if path is not None else None, runner
        self._loaded: LoadedRoutes | None = None
        self._text_mode = False  # editing a malformed file's raw text
        self._form_ready = False  # the tables hold rules (from the file or from fixed text)
        self._busy = True  # loading or saving
        self.routes_model = RulesTableModel(ROUTE_COLUMNS, check_route_rows, _unused_room, self)
        self.codes_model = RulesTableModel(CODE_COLUMNS, check_code_rows, parent=self)
        self.callers_model = RulesTableModel(CALLER_COLUMNS, check_caller_rows, parent=self)
        self._build()
        self._connect_signals()
        self._set_status(f"Loading {self._source_name()}…")
        self._update()
        self._runner.submit(self._load_task(), self.on_load_done, self.on_load_failed)

    # -- where the routes are kept (a file here; TeamRoutesDialog: the team server) ------------

    def _source_name(self) -> str:
        """The routes' short name, for "Loading …" and the problems found in them."""
        assert self.path is not None
        return self.path.name

    def _where(self) -> str:
        """Where the routes are kept, for "Could not read …"."""
        return str(self.path)

    def _describe(self) -> str:
        """The line at the top: where the routes are kept."""
        return f"Where incoming calls go, kept in <code>{self.path}</code>"

    def _missing_note(self) -> str:
        return f"{self._source_name()} does not exist yet; Save creates it."

    def _load_task(self) -> Callable[[], LoadedRoutes]:
        """Reading the routes, to run on the TaskRunner."""
        return partial(load_routes, self.path)

    def _save_task(self, rules: RoutingRules, force: bool) -> Callable[[], object]:
        """Writing rules (force: over a change made meanwhile), to run on the TaskRunner."""
        assert self._loaded is not None
        return partial(save_if_unchanged, self.path, rules, self._loaded.stamp, force)

    def _saved_where(self, result: object) -> str:
        """What routes_saved says for a save's result: the path written."""
        return str(result)

    def _save_refused(self, error: object) -> bool:
        """Handle a refusal only this kind of routes has; True when it was handled."""
        if not isinstance(error, RoutesChanged):
            return False
        accept, reject = QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.RejectRole
        ask(
            self,
            "routes-changed",
            "Routes file changed",
            f"{self.path} changed on disk after this dialog opened it. Overwrite it?",
            [
                ("&Overwrite", accept, lambda: self._save(force=True)),
                ("Cancel", reject, lambda: None),
            ],
        )
        return True

    # -- construction --------------------------------------------------------------------------

    def _build(self) -> None:
        self.file_label = QLabel(accessibleName="Routes file", wordWrap=True)
        self.file_label.setText(self._describe())
        self.file_error = QLabel(accessibleName="Routes file error", wordWrap=True)
        self.file_error.setStyleSheet(_BANNER_STYLE)
        self.file_error.hide()
        routes_box = RulesBox("Routes by called number", self.routes_model, "Routes", "route",
                              "R", ("", ACTION_ROOM, ""))  # fmt: skip
        routes_box.view.set_choices(ACTION_COLUMN, ACTIONS)
        codes_box = RulesBox("Meeting codes", self.codes_model, "Meeting codes", "code", "C")
        callers_box = RulesBox("Known callers", self.callers_model, "Known callers", "caller", "K")
        self.boxes = (routes_box, codes_box, callers_box)
        lower = QHBoxLayout()
        lower.addWidget(codes_box)
        lower.addWidget(callers_box)
        rules_page = QWidget()
        rules_layout = QVBoxLayout(rules_page)
        rules_layout.addWidget(routes_box, 3)
        rules_layout.addLayout(lower, 2)
        self.text = QPlainTextEdit(accessibleName="Routes text")
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text_note = QLabel(wordWrap=True, accessibleName="Routes text note")
        self.text_note.setStyleSheet(_NOTE_STYLE)
        self.to_form_button = QPushButton("Edit in the &form", accessibleName="Edit in the form")
        self.to_form_button.setToolTip("Show these rules in the tables (comments are not kept)")
        text_page = QWidget()
        text_layout = QVBoxLayout(text_page)
        text_layout.addWidget(self.text_note)
        text_layout.addWidget(self.text, 1)
        text_row = QHBoxLayout()
        text_row.addStretch(1)
        text_row.addWidget(self.to_form_button)
        text_layout.addLayout(text_row)
        self.tabs = QTabWidget(accessibleName="Routes views")
        self.rules_tab = self.tabs.addTab(rules_page, "&Rules")
        self.text_tab = self.tabs.addTab(text_page, "&Text")
        self.problem = QLabel(accessibleName="Routes problem", wordWrap=True)
        self.problem.setStyleSheet(_ERROR_STYLE)
        self.status = QLabel(accessibleName="Routes status", wordWrap=True)
        self.status.setStyleSheet(_NOTE_STYLE)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setAccessibleName("Save")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        layout = QVBoxLayout(self)
        layout.addWidget(self.file_label)
        layout.addWidget(self.file_error)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(760, 620)

    def _connect_signals(self) -> None:
        for model in (self.routes_model, self.codes_model, self.callers_model):
            model.rows_edited.connect(self.on_model_rows_edited)
        for box in self.boxes:
            box.view.selectionModel().currentChanged.connect(self.on_view_current_changed)
        self.text.textChanged.connect(self.on_text_changed)
        self.to_form_button.clicked.connect(self.on_to_form_clicked)
        self.buttons.accepted.connect(self.on_save_clicked)
        self.buttons.rejected.connect(self.reject)

    # -- what the dialog shows -----------------------------------------------------------------

    def rules(self) -> RoutingRules | None:
        """The rules the dialog would save now, or None while they have a problem."""
        if self._text_mode:
            try:
                return parse_routes(self.text.toPlainText(), self._source_name())
            except RoutesError:
                return None
        if any(m.errors() for m in (self.routes_model, self.codes_model, self.callers_model)):
            return None
        rules = self._form_rules()
        return None if check_rules(rules) else rules

    def _form_rules(self) -> RoutingRules:
        loaded = self._loaded.rules if self._loaded is not None else None
        waits = {r.number: r.max_wait for r in loaded.routes if r.wait_for_room} if loaded else {}
        return rules_from_rows(
            self.routes_model.rows(), self.codes_model.rows(), self.callers_model.rows(), waits
        )

    def _current_problem(self) -> str:
        if not self._form_ready and not self._text_mode:
            return ""
        if self._text_mode:
            try:
                parse_routes(self.text.toPlainText(), self._source_name())
            except RoutesError as error:
                return str(error)
            return ""
        tables = (
            ("Routes", self.routes_model),
            ("Meeting codes", self.codes_model),
            ("Known callers", self.callers_model),
        )
        for name, model in tables:
            if (first := model.first_error()) is not None:
                row, column, message = first
                return f"{name}, row {row + 1}, {model.title(column)}: {message}"
        return check_rules(self._form_rules())

    def _set_status(self, text: str) -> None:
        self.status.setText(text)

    def _update(self) -> None:
        problem = self._current_problem()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        form_ok = self._form_ready and not self._text_mode
        self.tabs.setTabEnabled(self.rules_tab, form_ok)
        self.tabs.widget(self.rules_tab).setEnabled(not self._busy)
        self.text.setReadOnly(not self._text_mode or self._busy)
        self.text.setEnabled(self._text_mode or not problem)  # a stale preview is greyed
        self.to_form_button.setVisible(self._text_mode)
        self.to_form_button.setEnabled(self._text_mode and not problem and not self._busy)
        for box in self.boxes:
            box.update_buttons()
        usable = form_ok or self._text_mode  # never an unreadable file's empty form
        self.save_button.setEnabled(
            usable and not self._busy and not problem and self.rules() is not None
        )
        if form_ok and not problem:
            self._show_text(render_routes(self._form_rules()))

    def _show_text(self, text: str) -> None:
        if self.text.toPlainText() != text:
            self.text.blockSignals(True)
            self.text.setPlainText(text)
            self.text.blockSignals(False)

    def _show_file_error(self, text: str) -> None:
        self.file_error.setText(text)
        self.file_error.setVisible(bool(text))

    # -- loading -------------------------------------------------------------------------------

    @Slot(object)
    def on_load_done(self, loaded: LoadedRoutes) -> None:
        if not shiboken6.isValid(self):
            return
        self._loaded, self._busy = loaded, False
        self.file_label.setText(self._describe())
        if loaded.rules is not None:
            self._fill_form(loaded.rules)
            self.text_note.setText(self.FORM_NOTE)
            self._set_status("" if loaded.exists else self._missing_note())
        else:
            self._text_mode = loaded.text is not None
            self._show_file_error(f"{loaded.error}\n\n{self.KEPT_NOTE}")
            self.text_note.setText(self.RAW_NOTE)
            self._show_text(loaded.text or "")
            self.tabs.setTabEnabled(self.text_tab, loaded.text is not None)
            self._set_status("")
        self._update()
        self.tabs.setCurrentIndex(self.rules_tab if self._form_ready else self.text_tab)

    @Slot(object)
    def on_load_failed(self, error: object) -> None:
        if shiboken6.isValid(self):
            self._busy = False
            self._show_file_error(f"Could not read {self._where()}: {error}")
            self._update()

    def _fill_form(self, rules: RoutingRules) -> None:
        self._form_ready = True
        self.routes_model.set_rows(route_rows(rules))
        self.codes_model.set_rows(code_rows(rules))
        self.callers_model.set_rows(caller_rows(rules))

    # -- editing -------------------------------------------------------------------------------

    @Slot()
    def on_model_rows_edited(self) -> None:
        self._update()

    @Slot(QModelIndex, QModelIndex)
    def on_view_current_changed(self, *_: QModelIndex) -> None:
        self._update()

    @Slot()
    def on_text_changed(self) -> None:
        if self._text_mode:
            self._update()

    @Slot()
    def on_to_form_clicked(self) -> None:
        rules = self.rules()
        if rules is None or not self._text_mode:
            return
        self._text_mode = False
        self._fill_form(rules)
        self.text_note.setText(self.FORM_NOTE)
        self._update()
        self.tabs.setCurrentIndex(self.rules_tab)

    # -- saving --------------------------------------------------------------------------------

    @Slot()
    def on_save_clicked(self) -> None:
        self._save(force=False)

    def _save(self, force: bool) -> None:
        rules = self.rules()
        if rules is None or self._busy or self._loaded is None or not self.save_button.isEnabled():
            return
        task = self._save_task(rules, force)
        self._busy = True
        self._set_status(f"Saving {self._source_name()}…")
        self._update()
        self._runner.submit(task, self.on_save_done, self.on_save_failed)

    @Slot(object)
    def on_save_done(self, result: object) -> None:
        if not shiboken6.isValid(self):
            return
        where = self._saved_where(result)
        log.info("routes saved to %s", where)
        self._busy = False
        self._set_status(f"Saved {where}")
        self.routes_saved.emit(where)
        if self.isVisible():  # not when the operator cancelled while it was being written
            self.accept()

    @Slot(object)
    def on_save_failed(self, error: object) -> None:
        if not shiboken6.isValid(self):
            return
        self._busy = False
        self._set_status("")
        self._update()
        if not self._save_refused(error):
            self._show_file_error(f"Could not save {self._where()}: {error}")
