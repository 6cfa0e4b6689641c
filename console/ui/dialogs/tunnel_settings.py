"""The Settings section that says how Twilio reaches the webhook in live mode (the tunnel)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QWidget

from console.core.preferences import Preferences, agent_api_url, ngrok_domain_name
from console.core.public_url import normalize_public_url
from console.core.secrets_store import NGROK_AUTHTOKEN, SecretStore
from console.core.tunnel import ENV_NGROK_AUTHTOKEN

PROVIDERS = (
    ("agent", "A running ngrok agent"),
    ("ngrok", "ngrok, built in"),
    ("manual", "A URL I enter"),
    ("none", "None (Twilio reaches this computer directly)"),
)
ERROR_STYLE = "color: #c0392b;"


class TunnelSettingsBox(QGroupBox):
    """Provider choice and the fields that provider needs; secrets go to the keyring only."""

    edited = Signal()

    def __init__(self, env: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__("Tunnel (live mode)", parent)
        self._token_from_env = bool(env.get(ENV_NGROK_AUTHTOKEN, "").strip())
        self.provider = QComboBox(accessibleName="Tunnel")
        for value, label in PROVIDERS:
            self.provider.addItem(label, value)
        self.authtoken = QLineEdit(accessibleName="ngrok authtoken")
        self.authtoken.setEchoMode(QLineEdit.EchoMode.Password)
        self.domain = QLineEdit(accessibleName="ngrok domain")
        self.domain.setPlaceholderText("optional reserved domain, e.g. abc.ngrok.app")
        self.agent_api = QLineEdit(accessibleName="Agent API")
        self.agent_api.setPlaceholderText("http://127.0.0.1:4040")
        self.public_url = QLineEdit(accessibleName="Public URL")
        self.public_url.setPlaceholderText("https://switchboard.example.com")
        self.error = QLabel(accessibleName="Tunnel error", wordWrap=True, styleSheet=ERROR_STYLE)
        self._form = QFormLayout(self)
        self._form.addRow("&Tunnel", self.provider)
        self._form.addRow("ngrok &authtoken", self.authtoken)
        self._form.addRow("ngrok &domain", self.domain)
        self._form.addRow("Agent &API", self.agent_api)
        self._form.addRow("Public &URL", self.public_url)
        self._form.addRow(self.error)
        if self._token_from_env:
            self.authtoken.setEnabled(False)
            self.authtoken.setPlaceholderText(f"from {ENV_NGROK_AUTHTOKEN}")
        self.provider.currentIndexChanged.connect(self.on_provider_changed)
        for edit in (self.authtoken, self.domain, self.agent_api, self.public_url):
            edit.textChanged.connect(self.on_field_edited)

    def load(self, preferences: Preferences, secrets: SecretStore) -> None:
        """Show what is stored."""
        self.provider.setCurrentIndex(max(0, self.provider.findData(preferences.tunnel_provider)))
        if not self._token_from_env:
            self.authtoken.setText(secrets.get(NGROK_AUTHTOKEN))
        self.domain.setText(preferences.ngrok_domain)
        self.agent_api.setText(preferences.ngrok_api_url)
        self.public_url.setText(preferences.public_url)
        self.on_provider_changed()

    def problem(self) -> str:
        """What stops these settings from being saved, or ""."""
        choice = self.provider.currentData()
        checks = {
            "ngrok": (ngrok_domain_name, self.domain.text()),
            "agent": (agent_api_url, self.agent_api.text() or "http://127.0.0.1:4040"),
            "manual": (normalize_public_url, self.public_url.text()),
        }
        if choice == "manual" and not self.public_url.text().strip():
            return "Enter the public URL that reaches this computer's webhook port."
        if choice not in checks:
            return ""
        check, text = checks[choice]
        try:
            check(text)
        except ValueError as error:
            return str(error)
        return ""

    def save(self, preferences: Preferences, secrets: SecretStore) -> None:
        """Store the choice; the authtoken goes to the keyring (or this session) only."""
        preferences.tunnel_provider = self.provider.currentData()
        choice = self.provider.currentData()
        if choice == "ngrok":
            preferences.ngrok_domain = self.domain.text()
            if not self._token_from_env:
                secrets.set(NGROK_AUTHTOKEN, self.authtoken.text().strip())
        elif choice == "agent":
            preferences.ngrok_api_url = self.agent_api.text() or "http://127.0.0.1:4040"
        elif choice == "manual":
            preferences.public_url = normalize_public_url(self.public_url.text())

    @Slot()
    def on_provider_changed(self) -> None:
        choice = self.provider.currentData()
        shown = {
            self.authtoken: choice == "ngrok",
            self.domain: choice == "ngrok",
            self.agent_api: choice == "agent",
            self.public_url: choice == "manual",
        }
        for field, visible in shown.items():
            self._form.setRowVisible(field, visible)
        self.on_field_edited()

    @Slot()
    def on_field_edited(self) -> None:
        problem = self.problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.edited.emit()
