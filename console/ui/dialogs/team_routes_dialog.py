"""Edits the team's routes on the team server; a save over another operator's is never silent."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from html import escape
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QPushButton, QWidget

from console.core.gateways.team_records import TeamRoutes, TeamRoutesChanged, TeamRoutesInvalid
from console.core.routes_form import (
    TEAM_SOURCE,
    LoadedRoutes,
    load_team_routes,
    save_team_routes,
    team_routes_loaded,
)
from console.tasks import TaskRunner
from console.ui.dialogs.routes_dialog import RoutesDialog
from webhook.routes import RoutingRules, render_routes

if TYPE_CHECKING:
    from console.core.gateways.team_gateway import TeamGateway

ROUTES_CHANGED = "routes.changed"  # the team event of a save of the routes


def _where_wrong(error: TeamRoutesInvalid) -> str:
    """The server's refusal as the routes file's problems read: line, key, what is wrong."""
    where = f"line {error.line}" if error.line > 0 else "the routes as a whole"
    where += f', key "{error.key}"' if error.key else ""
    return f"{where}: {error.problem}"


class TeamRoutesDialog(RoutesDialog):
    """The team's routes in the Routes editor: loaded from the server and saved with the version
    they started from. When another operator saved first, the editor shows their version and
    keeps this operator's, to restore and save knowingly."""

    FORM_NOTE = "What Save sends to the team server. Comments are not kept."
    RAW_NOTE = "The routes as the team server holds them. Fix them here, then Save."
    KEPT_NOTE = "The team's routes stay as they are until you save a correct version."

    def __init__(
        self,
        server: TeamGateway,
        runner: TaskRunner,
        parent: QWidget | None = None,
        operator: str = "",
    ) -> None:
        self.server = server
        self.operator = operator  # this console's operator: their own saves are no news
        self._mine = ""  # this operator's unsaved routes, after another operator saved first
        super().__init__(None, runner, parent)
        self.setWindowTitle("Team routes")
        self.restore_button = QPushButton(
            "&Restore my changes", accessibleName="Restore my changes"
        )
        self.restore_button.setToolTip("Put your routes back in the editor, over the new version")
        self.restore_button.setAutoDefault(False)
        self.restore_button.hide()
        self.restore_button.clicked.connect(self.on_restore_clicked)
        left = Qt.AlignmentFlag.AlignLeft
        self.layout().insertWidget(2, self.restore_button, 0, left)  # under the banner

    @property
    def version(self) -> int:
        """The version of the team's routes this editor started from (0: never saved)."""
        return self._loaded.version if self._loaded is not None else 0

    def _source_name(self) -> str:
        return TEAM_SOURCE

    def _where(self) -> str:
        return f"the team's routes on {self.server.host}"

    def _describe(self) -> str:
        shown = f", version {self.version}" if self.version else ""
        return (
            "Where incoming calls go, shared by the team on "
            f"<code>{escape(self.server.host)}</code>{shown}"
        )

    def _missing_note(self) -> str:
        return "The team has no routes yet; Save creates them."

    def _load_task(self) -> Callable[[], LoadedRoutes]:
        return partial(load_team_routes, self.server)

    def _text_to_save(self, rules: RoutingRules) -> str:
        """The raw text while fixing it as text (comments kept), else the form's rules."""
        return self.text.toPlainText() if self._text_mode else render_routes(rules)

    def _save_task(self, rules: RoutingRules, force: bool) -> Callable[[], object]:
        # never forced: a save over another operator's starts from the version they saved
        return partial(save_team_routes, self.server, self._text_to_save(rules), self.version)

    def _saved_where(self, result: object) -> str:
        assert isinstance(result, LoadedRoutes)
        return f"the team server at {self.server.host} (version {result.version})"

    def _save_refused(self, error: object) -> bool:
        if isinstance(error, TeamRoutesChanged):
            self._show_theirs(error.current)
            return True
        if isinstance(error, TeamRoutesInvalid):
            self._show_file_error(
                f"The team server refused these routes: {_where_wrong(error)}\n\n{self.KEPT_NOTE}"
            )
            return True
        return False

    def _show_theirs(self, current: TeamRoutes) -> None:
        """Another operator saved first: show their version, and keep this operator's."""
        rules = self.rules()
        self._mine = self._text_to_save(rules) if rules is not None else self.text.toPlainText()
        self._reload(team_routes_loaded(current))
        self._show_file_error(
            f"Another operator saved the team's routes while you were editing: they are now "
            f"version {current.version}, shown here. Your changes were not saved. "
            f"Restore my changes puts yours back; Save then replaces version {current.version}."
        )
        self.restore_button.show()
        self._set_status(f"Showing version {current.version}, saved by another operator.")

    def on_team_event(self, event: object) -> None:
        """Another operator saved the routes while this editor is open: say so at once, before
        this operator's Save finds out (which then shows theirs and keeps these to restore)."""
        data: Mapping[str, Any] = getattr(event, "data", None) or {}
        if getattr(event, "kind", "") != ROUTES_CHANGED or not shiboken6.isValid(self):
            return
        if self._loaded is None:
            return  # still loading: the load brings the newest version anyway
        version, who = int(data.get("version") or 0), str(data.get("operator") or "")
        if version <= self.version or (who and who == self.operator):
            return
        self._show_file_error(
            f"{who or 'Another operator'} saved the team's routes (version {version}) while "
            f"this editor was open on version {self.version}. Save shows their version and "
            "keeps your changes, to restore and save knowingly; Cancel keeps theirs."
        )

    def _reload(self, loaded: LoadedRoutes) -> None:
        """Show other routes in the editor, as if it had just opened them."""
        self._text_mode = self._form_ready = False
        self._show_file_error("")
        self.tabs.setTabEnabled(self.text_tab, True)
        self.on_load_done(loaded)

    @Slot()
    def on_restore_clicked(self) -> None:
        """This operator's routes back in the editor; Save replaces the version now shown."""
        if not self._mine or self._busy:
            return
        version = self.version
        self._reload(team_routes_loaded(TeamRoutes(version, self._mine)))
        self._mine = ""
        self.restore_button.hide()
        self._set_status(f"Your changes are back. Save replaces version {version} with them.")
