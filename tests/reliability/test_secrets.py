"""Secrets: the Auth Token, the API secret and the ngrok authtoken never leave the keyring.

A whole live session (against a sandbox that accepts exactly these secrets, through a stand-in for
the ngrok SDK) is run with distinctive secret values, from the keyring or from the environment:
dialing, a refused dial, a forged webhook request, Settings with a failing and a passing Test and
a save, `doctor` and `doctor --json`. Then every log record (DEBUG and up), everything written to
stdout and stderr, every file under the test's user directories (settings, history), the event log,
every status bar message and every text the window and its dialogs showed is searched for them.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import requests
from PySide6.QtCore import QObject, QSettings, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from console.app import ConsoleSession, open_console
from console.commands.cli import main
from console.core.preferences import Preferences
from console.core.secrets_store import API_SECRET, AUTH_TOKEN, NGROK_AUTHTOKEN
from sandbox import Sandbox, SandboxServer
from tests.helpers.widgets import by_name

AUTH = "AuthTok3n-SECRET-7f3a9c1e5b2d4f6a"
API = "ApiS3cret-SECRET-0c9e8d7b6a5f4e3d"
NGROK = "2NgrokT0ken-SECRET_9b8a7c6d5e4f3a2b"
WRONG = "Wr0ngApiS3cret-SECRET-1a2b3c4d5e6f"  # typed into Settings by mistake: a secret too
SECRETS = (AUTH, API, NGROK, WRONG)
WAIT = 15_000
ROOT = Path(__file__).resolve().parents[2]
FAKE_NGROK = Path(__file__).with_name("fake_ngrok")


def leaked_forms(secret: str, users: Iterable[str]) -> set[str]:
    """The secret as text could carry it: plain, URL-encoded, base64, hex, in a Basic header."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), secret.encode().hex()}
    forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
    forms |= {base64.b64encode(f"{user}:{secret}".encode()).decode() for user in users}
    return forms


class Leaks:
    """Collects everything to search, and says where any secret turned up."""

    def __init__(self, users: Iterable[str]) -> None:
        self.forms = {s: leaked_forms(s, users) for s in SECRETS}
        self.searched: list[str] = []
        self.found: list[str] = []

    def search(self, where: str, content: str | bytes) -> None:
        self.searched.append(where)
        for secret, forms in self.forms.items():
            for form in forms:
                needle = form.encode() if isinstance(content, bytes) else form
                if needle in content:
                    self.found.append(f"{secret!r} as {form!r} in {where}")

    def search_files(self, root: Path) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.search(str(path.relative_to(root)), path.read_bytes())


class Shown(QObject):
    """Every status bar message the window showed."""

    def __init__(self, session: ConsoleSession) -> None:
        super().__init__()
        self.messages: list[str] = []
        session.window.statusBar().messageChanged.connect(self.on_status_message_changed)

    @Slot(str)
    def on_status_message_changed(self, message: str) -> None:
        self.messages.append(message)


def widget_texts(root: QWidget) -> list[str]:
    """What a person can read in root: labels, tooltips, and fields that are not password fields."""
    texts = [root.windowTitle(), root.toolTip()]
    for widget in [root, *root.findChildren(QWidget)]:
        texts += [widget.toolTip(), widget.accessibleDescription()]
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QLineEdit) and widget.echoMode() == QLineEdit.EchoMode.Normal:
            texts += [widget.text(), widget.placeholderText()]
        elif isinstance(widget, QComboBox):
            texts.append(widget.currentText())
    return texts


def everything_at_debug(caplog) -> None:
    """Capture every record at DEBUG, also from loggers an earlier test quietened.

    (`switchboard` without -v sets the twilio logger to WARNING, in-process that stays.)
    """
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level > logging.DEBUG:
            caplog.set_level(logging.DEBUG, logger=name)


@pytest.fixture
def fake_ngrok(monkeypatch):
    """The ngrok SDK stand-in, accepting only NGROK, as `import ngrok` finds it."""
    spec = importlib.util.spec_from_file_location("ngrok", FAKE_NGROK / "ngrok.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.ACCEPTED = NGROK
    monkeypatch.setitem(sys.modules, "ngrok", module)
    yield module
    for url in list(module._open):
        module.disconnect(url)


@pytest.fixture
def twilio() -> Iterator[SandboxServer]:
    """A sandbox standing in for Twilio, whose Auth Token and API secret are the secrets."""
    box = Sandbox(auth_token=AUTH, ring_delay=0.05)
    box.api_key_secret = API
    server = SandboxServer(box)
    server.start()
    yield server
    server.stop()
    box.close()


def dial(qtbot, window, number: str, room: str, identity: str) -> None:
    qtbot.waitUntil(lambda: by_name(window, "From", QComboBox).count() > 0, timeout=WAIT)
    field = by_name(window, "Number", QLineEdit)
    qtbot.waitUntil(field.isEnabled, timeout=WAIT)  # live mode: after the first check
    field.clear()
    qtbot.keyClicks(field, number)
    room_box = by_name(window, "Room", QComboBox).lineEdit()
    room_box.clear()
    qtbot.keyClicks(room_box, room)
    who = by_name(window, "Identity", QLineEdit)
    who.clear()
    qtbot.keyClicks(who, identity)
    button = by_name(window, "Dial", QPushButton)
    qtbot.waitUntil(button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def use_settings(qtbot, session: ConsoleSession, from_keyring: bool, texts: list[str]) -> None:
    """Open Settings, Test a wrong API secret, then the right one, and save."""
    window = session.window
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.findChild(QDialog, "settings") is not None, timeout=WAIT)
    dialog = window.findChild(QDialog, "settings")
    qtbot.waitUntil(dialog.isVisible)
    secret = by_name(dialog, "API Secret", QLineEdit)
    result = by_name(dialog, "Test result", QLabel)
    test = by_name(dialog, "Test", QPushButton)
    if from_keyring:
        assert secret.echoMode() == QLineEdit.EchoMode.Password and secret.text() == API
        assert by_name(dialog, "ngrok authtoken", QLineEdit).text() == NGROK
        secret.clear()
        qtbot.keyClicks(secret, WRONG)
        qtbot.mouseClick(test, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "20003" in result.text(), timeout=WAIT)  # refused, in words
        texts += widget_texts(dialog)
        secret.clear()
        qtbot.keyClicks(secret, API)
    else:  # environment secrets never go into a widget
        assert secret.text() == "" and "TWILIO_API_SECRET" in secret.placeholderText()
    qtbot.waitUntil(test.isEnabled, timeout=WAIT)
    qtbot.mouseClick(test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: result.text().startswith("Connected"), timeout=WAIT)
    texts += widget_texts(dialog)
    qtbot.mouseClick(by_name(dialog, "OK", QPushButton), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)


def doctor_in_process(capfd, port: int) -> list[str]:
    """`switchboard -v doctor` and `doctor --json` here, reading this test's keyring."""
    outputs = []
    for args in ([], ["--json"]):
        main(["-v", "doctor", "--webhook-port", str(port), *args])
        captured = capfd.readouterr()
        outputs.append(captured.out + captured.err)
    return outputs


def doctor_process(env: dict[str, str], user_dirs, port: int) -> list[str]:
    """`switchboard -v doctor` and `doctor --json` as real processes, reading the environment."""
    config = user_dirs.config / "Switchboard" / "Switchboard.conf"  # its Preferences.default()
    settings = QSettings(str(config), QSettings.Format.IniFormat)
    settings.setValue("tunnel/provider", "ngrok")
    settings.sync()
    run_env = {
        **os.environ,
        **env,
        "PYTHONPATH": os.pathsep.join([str(FAKE_NGROK), str(ROOT)]),
        "FAKE_NGROK_REFUSE_ALL": "1",  # doctor opens its own tunnel: refused, quoting the token
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "PYTHONIOENCODING": "utf-8",
    }
    outputs = []
    for args in (["-v", "doctor"], ["doctor", "--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "console", *args, "--webhook-port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env,
            cwd=ROOT,
        )
        outputs.append(done.stdout + done.stderr)
    assert "ngrok rejected the authtoken" in outputs[0], outputs[0]
    assert json.loads(outputs[1].splitlines()[0])["tunnel"]["error"]
    return outputs


@pytest.mark.parametrize("source", ["keyring", "environment"])
def test_no_secret_in_logs_files_history_window_or_doctor(
    source, qtbot, caplog, capfd, monkeypatch, secrets, user_dirs, twilio, fake_ngrok
):
    everything_at_debug(caplog)
    preferences = Preferences.default()  # the operator's own settings file, as doctor reads it
    box = twilio.sandbox
    env = {"SWITCHBOARD_TWILIO_URL": twilio.url}
    from_keyring = source == "keyring"
    if from_keyring:
        preferences.account_sid = box.account_sid
        preferences.api_key_sid = box.api_key_sid
        secrets.set(AUTH_TOKEN, AUTH)
        secrets.set(API_SECRET, API)
        secrets.set(NGROK_AUTHTOKEN, NGROK)
    else:
        env |= {
            "TWILIO_ACCOUNT_SID": box.account_sid,
            "TWILIO_AUTH_TOKEN": AUTH,
            "TWILIO_API_KEY": box.api_key_sid,
            "TWILIO_API_SECRET": API,
            "NGROK_AUTHTOKEN": NGROK,
        }
        fake_ngrok.REFUSE_ALL = True  # the tunnel fails, with the token in the SDK's words
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    preferences.tunnel_provider = "ngrok"
    preferences.webhook_port = 0
    leaks = Leaks([box.account_sid, box.api_key_sid])
    texts: list[str] = []

    session = open_console(preferences, secrets, dict(os.environ))
    qtbot.addWidget(session.window)
    shown = Shown(session)
    session.window.show()
    try:
        runtime, window = session.runtime, session.window
        assert runtime.mode == "live" and fake_ngrok.forwarded == [NGROK]
        if from_keyring:
            assert runtime.public_url.startswith("http://127.0.0.1:")  # through the tunnel
            assert runtime.public_url != runtime.webhook.local_url
        else:
            note = next(n for n in runtime.notes if "ngrok rejected the authtoken" in n)
            assert "[authtoken]" in note  # the SDK's text, with the token taken out
        dial(qtbot, window, "+15551234567", "Secrets", "sam")
        model = session.controller.participants_model
        qtbot.waitUntil(lambda: [p.identity for p in model.records()] == ["sam"], timeout=WAIT)
        dial(qtbot, window, "+15005550001", "Secrets", "refused")  # Twilio refuses the number
        error = by_name(window, "Dial error", QLabel)
        qtbot.waitUntil(lambda: "21211" in error.text(), timeout=WAIT)
        texts += widget_texts(window)
        forged = requests.post(
            runtime.call_status_url,
            data={"CallSid": "CA" + "0" * 32, "CallStatus": "completed"},
            headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
            timeout=5,
        )
        assert forged.status_code == 403
        use_settings(qtbot, session, from_keyring, texts)
        texts += widget_texts(window)
        port = int(runtime.webhook.port)
        if from_keyring:
            doctor_outputs = doctor_in_process(capfd, port)
            assert "Ready for live calls." in doctor_outputs[0], doctor_outputs[0]
            assert "keyring" in doctor_outputs[0]  # where the secrets are, never what
        else:
            doctor_outputs = doctor_process(env, user_dirs, port)
            assert "environment" in doctor_outputs[0]
        for number, output in enumerate(doctor_outputs):
            leaks.search(f"doctor output {number}", output)
        leaks.search("event log", "\n".join(window.event_log.lines()))
    finally:
        session.window.close()
        assert session.shutdown()
    preferences.sync()

    assert secrets.get(API_SECRET) == (API if from_keyring else "")  # saved to the keyring only
    leaks.search("status bar", "\n".join(shown.messages))
    leaks.search("window texts", "\n".join(texts))
    leaks.search("log records", "\n".join(r.getMessage() for r in caplog.records))
    leaks.search("log text", caplog.text)
    out, err = capfd.readouterr()
    leaks.search("stdout and stderr", out + err)
    leaks.search_files(user_dirs.root)  # QSettings files, the history database, routes
    assert any(name.endswith(".ini") for name in leaks.searched), leaks.searched
    # DEBUG logging was on throughout, the SDK's request log (it lists headers) among it.
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.name.startswith("twilio") and "Headers" in r.getMessage() for r in caplog.records)
    assert leaks.found == [], leaks.found
