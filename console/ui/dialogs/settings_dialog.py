"""The settings dialog: Twilio credentials (secrets to the keyring only) and console preferences."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping

import phonenumbers
import shiboken6
from PySide6.QtCore import QLocale, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.core.credentials import (
    ENVIRONMENT,
    FIELDS,
    SECRET_NAMES,
    Credentials,
    combine_sources,
    env_overrides,
    is_account_sid,
    is_api_key_sid,
)
from console.core.preferences import (
    MAX_PORT,
    MAX_REFRESH_INTERVAL,
    MIN_REFRESH_INTERVAL,
    Preferences,
)
from console.core.secrets_store import SecretStore
from console.tasks import TaskRunner
from console.ui.dialogs.team_settings import TeamSettingsBox
from console.ui.dialogs.tunnel_settings import TunnelSettingsBox

log = logging.getLogger(__name__)

FORM = "settings dialog"  # Credentials.source for values typed into this dialog
# Field -> (caption with its mnemonic, placeholder).
_FIELD_TEXT = {
    "account_sid": ("&Account SID", "AC followed by 32 hex digits"),
    "auth_token": ("Auth &Token", ""),
    "api_key_sid": ("API &Key SID", "optional: SK followed by 32 hex digits"),
    "api_secret": ("API &Secret", "optional: the API key's secret"),
}
_SID_CHECKS = {
    "account_sid": (is_account_sid, "An Account SID is AC followed by 32 hex digits."),
    "api_key_sid": (is_api_key_sid, "An API Key SID is SK followed by 32 hex digits."),
}
_ERROR_STYLE = "color: #b3261e;"
_NOTE_STYLE = "color: palette(placeholder-text);"
_NOTICE_STYLE = (
    "background: #fff4ce; color: #3b2f00; border: 1px solid #e0c060;"
    " border-radius: 4px; padding: 6px;"
)


def region_label(code: str) -> str:
    """A region code with its English name, e.g. "US — United States"."""
    territory = QLocale.codeToTerritory(code)
    name = QLocale.territoryToString(territory) if territory.value else ""
    return f"{code} — {name}" if name else code


class SettingsDialog(QDialog):
    """Edits credentials and preferences; OK saves them, Test checks the credentials off-thread."""

    settings_saved = Signal()

    def __init__(
        self,
        preferences: Preferences,
        secrets: SecretStore,
        env: Mapping[str, str],
        runner: TaskRunner,
        check: Callable[[Credentials], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._preferences, self._secrets = preferences, secrets
        self._runner, self._check = runner, check
        self._overrides = env_overrides(env)
        self._tunnel = TunnelSettingsBox(env)
        self._team = TeamSettingsBox(env, runner)
        self._testing = False
        self.setWindowTitle("Settings")
        self._build()
        self._load()
        self._connect_signals()
        self.on_field_edited()

    def credentials(self) -> Credentials:
        """The credentials the dialog shows now, environment variables taking precedence."""
        values = {
            name: self._overrides.get(name) or edit.text().strip()
            for name, edit in self._edits.items()
        }
        sources = {
            name: ENVIRONMENT if name in self._overrides else FORM
            for name, value in values.items()
            if value
        }
        return Credentials(**values, source=combine_sources(sources))

    def is_valid(self) -> bool:
        """Whether every editable field holds an acceptable value (empty SIDs are fine)."""
        problems = self._tunnel.problem() or self._team.problem()
        return not any(self._field_errors().values()) and not problems

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addWidget(self._account_box())
        layout.addWidget(self._tunnel)
        layout.addWidget(self._team)
        layout.addWidget(self._console_box())
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setAccessibleName("OK")
        self._buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        layout.addWidget(self._buttons)
        self._align_captions()

    def _align_captions(self) -> None:
        """Every group's captions take the widest one's width, so the fields line up."""
        forms = [box.layout() for box in self.findChildren(QGroupBox)]
        captions = [
            form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
            for form in forms
            if isinstance(form, QFormLayout)
            for row in range(form.rowCount())
            if form.itemAt(row, QFormLayout.ItemRole.LabelRole) is not None
        ]
        captions = [c for c in captions if isinstance(c, QLabel)]
        width = max((c.sizeHint().width() for c in captions), default=0)
        for caption in captions:
            caption.setMinimumWidth(width)

    def _account_box(self) -> QGroupBox:
        account = QGroupBox("Twilio account")
        form = QFormLayout(account)
        self._edits: dict[str, QLineEdit] = {}
        self._errors: dict[str, QLabel] = {}
        for name, (variable, label) in FIELDS.items():
            edit = QLineEdit()
            edit.setAccessibleName(label)
            if name in SECRET_NAMES:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            caption_text, placeholder = _FIELD_TEXT[name]
            edit.setPlaceholderText(placeholder)
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("M" * 36))
            self._edits[name] = edit
            caption = QLabel(caption_text)
            caption.setBuddy(edit)
            form.addRow(caption, edit)
            if name in self._overrides:
                note = _small_label(
                    f"Set by {variable} in the environment; the stored value is not used.",
                    f"{label} note",
                    _NOTE_STYLE,
                )
                form.addRow("", note)
            if name not in SECRET_NAMES:
                error = _small_label("", f"{label} error", _ERROR_STYLE)
                error.hide()
                self._errors[name] = error
                form.addRow("", error)

        self._test_button = QPushButton("T&est")
        self._test_button.setAccessibleName("Test")
        self._test_button.setAutoDefault(False)
        self._test_result = QLabel()
        self._test_result.setAccessibleName("Test result")
        self._test_result.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self._test_button)
        test_row.addWidget(self._test_result, 1)
        form.addRow(test_row)

        self._keyring_notice = QLabel(
            "No system keyring is available: the Auth Token and API Secret are kept for "
            "this session only and must be entered again next time."
        )
        self._keyring_notice.setAccessibleName("Keyring notice")
        self._keyring_notice.setWordWrap(True)
        self._keyring_notice.setStyleSheet(_NOTICE_STYLE)
        self._keyring_notice.setVisible(not self._secrets.persistent)
        form.addRow(self._keyring_notice)
        return account

    def _console_box(self) -> QGroupBox:
        console = QGroupBox("Console")
        console_form = QFormLayout(console)
        self._region = QComboBox()
        self._region.setAccessibleName("Region")
        for code in sorted(phonenumbers.SUPPORTED_REGIONS):
            self._region.addItem(region_label(code), code)
        self._refresh = QSpinBox()
        self._refresh.setAccessibleName("Refresh interval")
        self._refresh.setRange(MIN_REFRESH_INTERVAL, MAX_REFRESH_INTERVAL)
        self._refresh.setSuffix(" s")
        self._port = QSpinBox()
        self._port.setAccessibleName("Webhook port")
        self._port.setRange(0, MAX_PORT)
        self._port.setSpecialValueText("Any free port")
        self._sound = QCheckBox("Beep when a caller starts waiting")
        self._sound.setAccessibleName("Sound for waiting callers")
        self._sound.setToolTip(
            "A new waiting caller always flashes the window and shows a notification; "
            "this adds a beep."
        )
        for text, widget in (
            ("&Region", self._region),
            ("Re&fresh interval", self._refresh),
            ("&Webhook port", self._port),
            ("S&ound", self._sound),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            console_form.addRow(caption, widget)
        return console

    def _load(self) -> None:
        stored = {
            "account_sid": self._preferences.account_sid,
            "api_key_sid": self._preferences.api_key_sid,
            **{name: self._secrets.get(key) for name, key in SECRET_NAMES.items()},
        }
        for name, edit in self._edits.items():
            variable = FIELDS[name][0]
            if name not in self._overrides:
                edit.setText(stored[name])
                continue
            edit.setEnabled(False)
            if name in SECRET_NAMES:  # never put an environment secret into a widget
                edit.setPlaceholderText(f"from {variable}")
            else:
                edit.setText(self._overrides[name])
        self._region.setCurrentIndex(max(self._region.findData(self._preferences.region), 0))
        self._refresh.setValue(self._preferences.refresh_interval)
        self._port.setValue(self._preferences.webhook_port)
        self._sound.setChecked(self._preferences.waiting_sound)
        self._tunnel.load(self._preferences, self._secrets)
        self._team.load(self._preferences, self._secrets)

    def _connect_signals(self) -> None:
        for edit in self._edits.values():
            edit.textChanged.connect(self.on_field_edited)
        self._tunnel.edited.connect(self.on_field_edited)
        self._team.edited.connect(self.on_field_edited)
        self._test_button.clicked.connect(self.on_test_clicked)
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)

    def _field_errors(self) -> dict[str, str]:
        errors = {}
        for name, (is_valid, message) in _SID_CHECKS.items():
            text = self._edits[name].text().strip()
            editable = name not in self._overrides
            errors[name] = message if editable and text and not is_valid(text) else ""
        return errors

    @Slot()
    def on_field_edited(self) -> None:
        """Show or hide inline errors, and allow OK and Test only while the form is valid."""
        errors = self._field_errors()
        for name, label in self._errors.items():
            label.setText(errors.get(name, ""))
            label.setVisible(bool(errors.get(name)))
        valid = not any(errors.values())
        self._ok.setEnabled(valid and not self._tunnel.problem() and not self._team.problem())
        self._test_button.setEnabled(valid and not self._testing)

    @Slot()
    def on_test_clicked(self) -> None:
        """Run the check on the task runner with the credentials as shown."""
        credentials = self.credentials()
        if not credentials.usable:
            self._test_result.setText(
                "Enter an Account SID and an Auth Token, or an API Key SID and API Secret."
            )
            return
        self._testing = True
        self._test_button.setEnabled(False)
        self._test_result.setText("Testing…")
        self._test_result.setStyleSheet("")
        self._runner.submit(
            functools.partial(self._check, credentials),
            on_done=self.on_test_succeeded,
            on_error=self.on_test_failed,
        )

    @Slot(object)
    def on_test_succeeded(self, name: object) -> None:
        """Show the account the credentials reach."""
        if shiboken6.isValid(self):
            self._finish_test(f"Connected to {name}" if name else "Connected", "")

    @Slot(object)
    def on_test_failed(self, error: object) -> None:
        """Show why the check failed, in Twilio's words."""
        if shiboken6.isValid(self):
            self._finish_test(str(error) or type(error).__name__, _ERROR_STYLE)

    def _finish_test(self, text: str, style: str) -> None:
        self._testing = False
        self._test_result.setText(text)
        self._test_result.setStyleSheet(style)
        self.on_field_edited()

    def accept(self) -> None:
        """Save preferences and secrets (secrets only to the SecretStore), then close."""
        if not self.is_valid():
            return
        prefs = self._preferences
        prefs.region = self._region.currentData()
        prefs.refresh_interval = self._refresh.value()
        prefs.webhook_port = self._port.value()
        prefs.waiting_sound = self._sound.isChecked()
        self._tunnel.save(prefs, self._secrets)
        self._team.save(prefs, self._secrets)
        for name, edit in self._edits.items():
            if name in self._overrides:
                continue  # the environment's value is never copied into storage
            value = edit.text().strip()
            if name in SECRET_NAMES:
                self._secrets.set(SECRET_NAMES[name], value)
            else:
                setattr(prefs, name, value)
        prefs.sync()
        log.info("settings saved (secrets kept in %s)", self._secrets.backend_name)
        self.settings_saved.emit()
        super().accept()


def _small_label(text: str, accessible_name: str, style: str) -> QLabel:
    label = QLabel(text)
    label.setAccessibleName(accessible_name)
    label.setWordWrap(True)
    label.setStyleSheet(style)
    return label
