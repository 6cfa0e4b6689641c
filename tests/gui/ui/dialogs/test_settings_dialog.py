"""The settings dialog, driven as an operator would: typing, Test, OK; secrets only in keyring."""

import threading
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from console.core.gateways.gateway import TwilioError
from console.core.secrets_store import API_SECRET, AUTH_TOKEN, SERVICE, TEAM_TOKEN, SecretStore
from console.tasks import TaskRunner
from console.ui.dialogs.settings_dialog import SettingsDialog

SID = "AC" + "0123456789abcdef" * 2
KEY = "SK" + "fedcba9876543210" * 2
TOKEN = "tok-5f1e9a0c7d"
SECRET = "sec-8b2d4c6e1a"

LABELS = (
    "Account SID",
    "Auth Token",
    "API Key SID",
    "API Secret",
    "Region",
    "Refresh interval",
    "Webhook port",
    "Test",
    "Keyring notice",
    "Test result",
)


def control(dialog: QWidget, name: str) -> QWidget:
    """The one widget of dialog whose accessible name is name."""
    found = [w for w in dialog.findChildren(QWidget) if w.accessibleName() == name]
    assert len(found) == 1, f"{len(found)} widgets named {name!r}"
    return found[0]


@pytest.fixture
def runner(qtbot):
    runner = TaskRunner()
    yield runner
    assert runner.wait(5000)


@pytest.fixture
def make_dialog(qtbot, preferences, secrets, runner):
    def make(check=lambda credentials: "unused", env=None, store=None):
        dialog = SettingsDialog(preferences, store or secrets, env or {}, runner, check)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return make


def type_into(qtbot, dialog, name: str, text: str) -> None:
    widget = control(dialog, name)
    widget.selectAll()
    qtbot.keyClicks(widget, text)


def click(qtbot, dialog, name: str) -> None:
    qtbot.mouseClick(control(dialog, name), Qt.MouseButton.LeftButton)


def test_every_control_has_its_accessible_name(make_dialog):
    dialog = make_dialog()
    for name in LABELS:
        control(dialog, name)


def test_typed_values_are_saved_with_secrets_only_in_the_keyring(
    qtbot, make_dialog, preferences, memory_keyring, user_dirs
):
    dialog = make_dialog()
    type_into(qtbot, dialog, "Account SID", SID)
    type_into(qtbot, dialog, "Auth Token", TOKEN)
    type_into(qtbot, dialog, "API Key SID", KEY)
    type_into(qtbot, dialog, "API Secret", SECRET)
    region = control(dialog, "Region")
    region.setFocus()
    qtbot.keyClicks(region, "DE")
    assert region.currentData() == "DE"
    type_into(qtbot, dialog, "Refresh interval", "30")
    type_into(qtbot, dialog, "Webhook port", "9090")

    with qtbot.waitSignal(dialog.settings_saved, timeout=2000):
        click(qtbot, dialog, "OK")

    assert dialog.result() == dialog.DialogCode.Accepted
    assert memory_keyring.passwords == {(SERVICE, AUTH_TOKEN): TOKEN, (SERVICE, API_SECRET): SECRET}
    assert (preferences.account_sid, preferences.api_key_sid) == (SID, KEY)
    assert (preferences.region, preferences.refresh_interval) == ("DE", 30)
    assert preferences.webhook_port == 9090
    ini = Path(preferences.settings.fileName()).read_bytes()
    assert SID.encode() in ini  # the file really was written
    assert TOKEN.encode() not in ini and SECRET.encode() not in ini
    leaked = [
        path
        for path in user_dirs.root.rglob("*")
        if path.is_file() and (TOKEN.encode() in path.read_bytes())
    ]
    assert leaked == []


def test_stored_values_are_shown_and_clearing_a_secret_deletes_it(
    qtbot, make_dialog, preferences, secrets, memory_keyring
):
    preferences.account_sid = SID
    preferences.refresh_interval = 12
    secrets.set(AUTH_TOKEN, TOKEN)
    dialog = make_dialog()
    assert control(dialog, "Account SID").text() == SID
    assert control(dialog, "Auth Token").text() == TOKEN
    assert control(dialog, "Refresh interval").value() == 12
    control(dialog, "Auth Token").clear()
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000):
        click(qtbot, dialog, "OK")
    assert memory_keyring.passwords == {}


def test_cancel_saves_nothing(qtbot, make_dialog, preferences, memory_keyring):
    dialog = make_dialog()
    type_into(qtbot, dialog, "Account SID", SID)
    type_into(qtbot, dialog, "Auth Token", TOKEN)
    click(qtbot, dialog, "Cancel")
    assert dialog.result() == dialog.DialogCode.Rejected
    assert preferences.account_sid == ""
    assert memory_keyring.passwords == {}


def test_test_button_runs_the_check_off_the_gui_thread(qtbot, make_dialog):
    release = threading.Event()
    seen = {}

    def check(credentials):
        seen["thread"] = threading.current_thread()
        seen["credentials"] = credentials
        assert release.wait(5)
        return "Acme Support"

    dialog = make_dialog(check)
    type_into(qtbot, dialog, "Account SID", SID)
    type_into(qtbot, dialog, "Auth Token", TOKEN)
    test_button, result = control(dialog, "Test"), control(dialog, "Test result")
    click(qtbot, dialog, "Test")

    qtbot.waitUntil(lambda: "thread" in seen)
    assert not test_button.isEnabled()  # the GUI is free while the check blocks
    assert result.text() == "Testing…"
    release.set()
    qtbot.waitUntil(lambda: result.text() == "Connected to Acme Support")
    assert test_button.isEnabled()
    assert seen["thread"] is not threading.main_thread()
    assert seen["credentials"].client_login() == (SID, TOKEN, SID)


def test_test_button_shows_twilios_error(qtbot, make_dialog):
    def check(credentials):
        raise TwilioError("Authenticate", 20003, 401)

    dialog = make_dialog(check)
    type_into(qtbot, dialog, "Account SID", SID)
    type_into(qtbot, dialog, "API Key SID", KEY)
    type_into(qtbot, dialog, "API Secret", SECRET)
    click(qtbot, dialog, "Test")
    result = control(dialog, "Test result")
    qtbot.waitUntil(lambda: result.text() == "Authenticate (Twilio error 20003)")
    assert control(dialog, "Test").isEnabled()


def test_test_without_usable_credentials_asks_for_them(qtbot, make_dialog, runner):
    calls = []
    dialog = make_dialog(calls.append)
    type_into(qtbot, dialog, "Account SID", SID)
    click(qtbot, dialog, "Test")
    assert "Auth Token" in control(dialog, "Test result").text()
    assert runner.pending == 0 and calls == []


def test_keyring_notice_only_without_a_keyring(make_dialog):
    assert not control(make_dialog(), "Keyring notice").isVisible()
    dialog = make_dialog(store=SecretStore(backend=fail.Keyring()))
    notice = control(dialog, "Keyring notice")
    assert notice.isVisible()
    assert "this session only" in notice.text()


def test_invalid_sids_show_errors_and_disable_ok(qtbot, make_dialog, preferences):
    dialog = make_dialog()
    ok = control(dialog, "OK")
    assert ok.isEnabled()  # empty is fine: no account means the sandbox
    type_into(qtbot, dialog, "Account SID", "AC1234")
    error = control(dialog, "Account SID error")
    assert not ok.isEnabled() and not control(dialog, "Test").isEnabled()
    assert error.isVisible() and "32 hex digits" in error.text()
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter does not slip past the check
    assert dialog.isVisible() and preferences.account_sid == ""

    type_into(qtbot, dialog, "Account SID", SID)
    assert ok.isEnabled() and not error.isVisible()
    type_into(qtbot, dialog, "API Key SID", SID)  # an Account SID where a key belongs
    assert not ok.isEnabled() and control(dialog, "API Key SID error").isVisible()


def test_environment_overrides_disable_their_fields(
    qtbot, make_dialog, preferences, secrets, memory_keyring
):
    secrets.set(AUTH_TOKEN, "stored-token")
    seen = []

    def check(credentials):
        seen.append(credentials)
        return "Env Account"

    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "env-token"}
    dialog = make_dialog(check, env=env)
    sid, token = control(dialog, "Account SID"), control(dialog, "Auth Token")
    assert not sid.isEnabled() and not token.isEnabled()
    assert sid.text() == SID
    assert token.text() == ""  # an environment secret never goes into a widget
    assert "TWILIO_AUTH_TOKEN" in control(dialog, "Auth Token note").text()
    assert control(dialog, "API Key SID").isEnabled()

    click(qtbot, dialog, "Test")
    result = control(dialog, "Test result")
    qtbot.waitUntil(lambda: result.text() == "Connected to Env Account")
    assert seen[0].auth_token == "env-token" and seen[0].source == "environment"

    with qtbot.waitSignal(dialog.settings_saved, timeout=2000):
        click(qtbot, dialog, "OK")
    # The environment's values are used, never copied into storage.
    assert memory_keyring.passwords == {(SERVICE, AUTH_TOKEN): "stored-token"}
    assert preferences.account_sid == ""


def test_a_result_after_the_dialog_is_deleted_is_ignored(qtbot, make_dialog, runner):
    release = threading.Event()
    dialog = make_dialog(lambda credentials: release.wait(5) and "Late")
    type_into(qtbot, dialog, "Account SID", SID)
    type_into(qtbot, dialog, "Auth Token", TOKEN)
    click(qtbot, dialog, "Test")
    dialog.finished.connect(dialog.deleteLater)  # as the main window does
    with qtbot.waitSignal(dialog.destroyed, timeout=2000):
        click(qtbot, dialog, "Cancel")
    release.set()
    qtbot.waitUntil(lambda: runner.pending == 0)  # the late result reaches a dead dialog quietly


def test_tab_walks_the_form_top_to_bottom(qtbot, make_dialog):
    dialog = make_dialog()
    control(dialog, "Account SID").setFocus()
    qtbot.waitUntil(lambda: control(dialog, "Account SID").hasFocus())
    order = []
    for _ in range(14):
        order.append(dialog.focusWidget().accessibleName())
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
    assert order == [
        "Account SID",
        "Auth Token",
        "API Key SID",
        "API Secret",
        "Test",
        "Tunnel",
        "Agent API",  # the default provider's one field; the others are hidden
        "Team server",
        "Operator token",  # its sign-in test waits for a server and a token
        "Region",
        "Refresh interval",
        "Webhook port",
        "Sound for waiting callers",
        "OK",
    ]


def test_tunnel_choice_shows_its_fields_and_keeps_the_ngrok_token_in_the_keyring(
    qtbot, make_dialog, preferences, secrets, user_dirs
):
    dialog = make_dialog()
    tunnel = control(dialog, "Tunnel")
    tunnel.setCurrentIndex(tunnel.findData("ngrok"))
    assert control(dialog, "ngrok authtoken").isVisibleTo(dialog)
    assert not control(dialog, "Agent API").isVisibleTo(dialog)
    qtbot.keyClicks(control(dialog, "ngrok authtoken"), "2abcNGROKsecret")
    qtbot.keyClicks(control(dialog, "ngrok domain"), "not a domain!")
    assert not control(dialog, "OK").isEnabled()
    assert "domain" in control(dialog, "Tunnel error").text()
    control(dialog, "ngrok domain").clear()
    qtbot.keyClicks(control(dialog, "ngrok domain"), "abc.ngrok.app")
    assert control(dialog, "OK").isEnabled()
    dialog.accept()
    assert preferences.tunnel_provider == "ngrok"
    assert preferences.ngrok_domain == "abc.ngrok.app"
    assert secrets.get("ngrok_authtoken") == "2abcNGROKsecret"
    for path in user_dirs.root.rglob("*"):
        if path.is_file():
            assert b"2abcNGROKsecret" not in path.read_bytes()


def test_a_manual_tunnel_needs_a_url(qtbot, make_dialog, preferences):
    dialog = make_dialog()
    tunnel = control(dialog, "Tunnel")
    tunnel.setCurrentIndex(tunnel.findData("manual"))
    assert not control(dialog, "OK").isEnabled()
    qtbot.keyClicks(control(dialog, "Public URL"), "https://switchboard.example.com/")
    assert control(dialog, "OK").isEnabled()
    dialog.accept()
    assert preferences.public_url == "https://switchboard.example.com"


def test_team_settings_keep_the_token_in_the_keyring_and_check_the_url(
    qtbot, make_dialog, preferences, memory_keyring
):
    dialog = make_dialog()
    type_into(qtbot, dialog, "Operator token", "op-token-1")
    assert "Enter the team server's URL" in control(dialog, "Team error").text()
    assert not control(dialog, "OK").isEnabled()
    type_into(qtbot, dialog, "Team server", "team.example.com")  # no scheme
    assert "http(s) URL" in control(dialog, "Team error").text()
    assert not control(dialog, "OK").isEnabled()
    control(dialog, "Team server").clear()
    type_into(qtbot, dialog, "Team server", "https://team.example.com/")
    assert control(dialog, "OK").isEnabled() and control(dialog, "Test team sign-in").isEnabled()
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000):
        click(qtbot, dialog, "OK")
    assert preferences.team_server == "https://team.example.com"
    assert memory_keyring.passwords[(SERVICE, TEAM_TOKEN)] == "op-token-1"
    assert "op-token-1" not in Path(preferences.settings.fileName()).read_text()


def test_a_team_from_the_environment_is_shown_but_never_stored(
    qtbot, preferences, secrets, runner, memory_keyring
):
    env = {"SWITCHBOARD_SERVER": "https://team.example.com", "SWITCHBOARD_TOKEN": "env-token"}
    dialog = SettingsDialog(preferences, secrets, env, runner, lambda credentials: "")
    qtbot.addWidget(dialog)
    for name, variable in (("Team server", "SERVER"), ("Operator token", "TOKEN")):
        assert not control(dialog, name).isEnabled()
        assert control(dialog, name).placeholderText() == f"from SWITCHBOARD_{variable}"
        assert control(dialog, name).text() == ""
    with qtbot.waitSignal(dialog.settings_saved, timeout=2000):
        click(qtbot, dialog, "OK")
    assert preferences.team_server == ""
    assert (SERVICE, TEAM_TOKEN) not in memory_keyring.passwords
