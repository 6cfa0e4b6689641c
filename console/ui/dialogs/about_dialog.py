"""Help ▸ About: the version and mode, and in sandbox mode how to script against the sandbox."""

from __future__ import annotations

import shlex

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.call_routing import SandboxLogin


def curl_example(login: SandboxLogin, to: str = "+15005550006") -> str:
    """A curl command that rings one of the sandbox's numbers, as printed: + is URL-encoded."""
    auth = shlex.quote(f"{login.account_sid}:{login.auth_token}")
    return (
        f"curl -u {auth} {login.url}/sandbox/IncomingCalls \\\n"
        f"     --data-urlencode From=+14155550100 --data-urlencode To={to}"
    )


class AboutDialog(QDialog):
    """Version, mode and webhook; the sandbox's URL, Account SID and token with copy buttons."""

    def __init__(
        self,
        version: str,
        mode: str,
        webhook_url: str,
        login: SandboxLogin | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Switchboard")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        about = QLabel(
            f"<h3>Switchboard {version}</h3>"
            "<p>An operator console for Twilio Programmable Video: dial phones and SIP into "
            "rooms, route incoming calls.</p>"
            f"<p>Mode: <b>{mode}</b><br>Webhook: {webhook_url}</p>",
            wordWrap=True,
            accessibleName="About",
        )
        about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(about)
        self.sandbox_box: QGroupBox | None = None
        if login is not None:
            layout.addWidget(self._sandbox_box(login))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setAccessibleName("Close")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _sandbox_box(self, login: SandboxLogin) -> QGroupBox:
        box = QGroupBox("Sandbox details")
        form = QFormLayout(box)
        note = QLabel(
            "The sandbox's own test credentials: they open only this local sandbox, never a "
            "Twilio account. A trainer can script calls against it with them.",
            wordWrap=True,
        )
        form.addRow(note)
        for caption, value, name in (
            ("URL", login.url, "Sandbox URL"),
            ("Account SID", login.account_sid, "Sandbox Account SID"),
            ("Auth Token", login.auth_token, "Sandbox Auth Token"),
        ):
            form.addRow(caption, self._copyable(value, name))
        example = QPlainTextEdit(curl_example(login), accessibleName="Sandbox curl example")
        example.setReadOnly(True)
        example.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        example.setFixedHeight(example.fontMetrics().lineSpacing() * 3 + 16)
        form.addRow("Ring a number", self._with_copy(example, example.toPlainText(), "curl"))
        self.sandbox_box = box
        return box

    def _copyable(self, value: str, name: str) -> QWidget:
        field = QLineEdit(value, accessibleName=name, readOnly=True)
        return self._with_copy(field, value, name)

    def _with_copy(self, field: QWidget, value: str, name: str) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(field, 1)
        copy = QPushButton("Copy", accessibleName=f"Copy {name}")
        copy.setToolTip(f"Copy the {name} to the clipboard")
        copy.setAutoDefault(False)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(value))
        layout.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)
        return row
