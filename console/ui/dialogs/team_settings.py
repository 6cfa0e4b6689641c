"""The Settings section for joining a team: the team server's URL and this operator's token."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import shiboken6
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from console.core.gateways.team_login import SERVER_VARIABLE, TOKEN_VARIABLE
from console.core.preferences import Preferences
from console.core.secrets_store import TEAM_TOKEN, SecretStore
from console.core.team_settings import check_server_url
from console.tasks import TaskRunner

ERROR_STYLE = "color: #c0392b;"


def sign_in(server: str, token: str) -> str:
    """The operator a token signs in as on a server (raises the gateway's typed errors)."""
    from console.core.gateways.team_gateway import TeamGateway

    gateway = TeamGateway(server, token, retry_delays=())
    try:
        return gateway.check_credentials()
    finally:
        gateway.close()


class TeamSettingsBox(QGroupBox):
    """Server URL and operator token (the token goes to the keyring only); Test signs in."""

    edited = Signal()

    def __init__(
        self,
        env: Mapping[str, str],
        runner: TaskRunner,
        check: Callable[[str, str], str] = sign_in,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Team", parent)
        self._runner, self._check = runner, check
        self._server_from_env = bool(env.get(SERVER_VARIABLE, "").strip())
        self._token_from_env = bool(env.get(TOKEN_VARIABLE, "").strip())
        self.server = QLineEdit(accessibleName="Team server")
        self.server.setPlaceholderText("empty: work alone; e.g. https://team.example.com")
        self.token = QLineEdit(accessibleName="Operator token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.test_button = QPushButton("Sign &in test", accessibleName="Test team sign-in")
        self.test_button.setToolTip("Ask the team server who this token belongs to")
        self.result = QLabel(accessibleName="Team test result", wordWrap=True)
        self.error = QLabel(accessibleName="Team error", wordWrap=True, styleSheet=ERROR_STYLE)
        self.note = QLabel(
            "A team takes effect when Switchboard restarts: the console then works through "
            "the team server, with no webhook, tunnel or Twilio credentials of its own.",
            wordWrap=True,
        )
        self.note.setStyleSheet("color: palette(placeholder-text);")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.result, 1)
        form = QFormLayout(self)
        form.addRow("Team &server", self.server)
        form.addRow("Operator &token", self.token)
        form.addRow("", test_row)
        form.addRow(self.error)
        form.addRow(self.note)
        for edit, from_env, variable in (
            (self.server, self._server_from_env, SERVER_VARIABLE),
            (self.token, self._token_from_env, TOKEN_VARIABLE),
        ):
            if from_env:
                edit.setEnabled(False)
                edit.setPlaceholderText(f"from {variable}")
            edit.textChanged.connect(self.on_field_edited)
        self.test_button.clicked.connect(self.on_test_clicked)

    def load(self, preferences: Preferences, secrets: SecretStore) -> None:
        """Show what is stored (never a token from the environment)."""
        if not self._server_from_env:
            self.server.setText(preferences.team_server)
        if not self._token_from_env:
            self.token.setText(secrets.get(TEAM_TOKEN))
        self.on_field_edited()

    def problem(self) -> str:
        """What stops these settings from being saved, or ""."""
        server, token = self.server.text().strip(), self.token.text().strip()
        if self._server_from_env:
            return ""
        if not server:
            if token and not self._token_from_env:
                return "Enter the team server's URL, or clear the token to work alone."
            return ""
        try:
            check_server_url(server)
        except ValueError as error:
            return str(error)
        if not token and not self._token_from_env:
            return "Enter this operator's token (from `switchboard server operator add NAME`)."
        return ""

    def save(self, preferences: Preferences, secrets: SecretStore) -> None:
        """Store the server in the settings and the token in the keyring (or this session)."""
        if not self._server_from_env:
            server = self.server.text().strip()
            preferences.team_server = check_server_url(server) if server else ""
        if not self._token_from_env:
            secrets.set(TEAM_TOKEN, self.token.text().strip())

    @Slot()
    def on_field_edited(self) -> None:
        """Show what is wrong, if anything; Test needs a server and a token typed here."""
        problem = self.problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        typed = bool(self.server.text().strip() and self.token.text().strip())
        self.test_button.setEnabled(typed and not problem)
        self.edited.emit()

    @Slot()
    def on_test_clicked(self) -> None:
        """Sign in off the GUI thread and say as whom."""
        server, token = check_server_url(self.server.text()), self.token.text().strip()
        self.test_button.setEnabled(False)
        self.result.setText("Signing in…")
        self.result.setStyleSheet("")
        self._runner.submit(
            lambda: self._check(server, token), self.on_test_succeeded, self.on_test_failed
        )

    @Slot(object)
    def on_test_succeeded(self, operator: object) -> None:
        """The token works: name its operator."""
        if shiboken6.isValid(self):
            self.result.setText(f"Signed in as {operator}")
            self.on_field_edited()

    @Slot(object)
    def on_test_failed(self, error: object) -> None:
        """Say why, in the server's words."""
        if shiboken6.isValid(self):
            self.result.setText(str(error) or type(error).__name__)
            self.result.setStyleSheet(ERROR_STYLE)
            self.on_field_edited()
