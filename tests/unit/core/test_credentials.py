"""Credentials from environment and stores, the secret store's fallback, and preferences on disk."""

import logging

import keyring
import pytest
from keyring.backends import chainer, fail, null
from PySide6.QtCore import QSettings

from console.core.credentials import (
    Credentials,
    describe_sources,
    is_account_sid,
    is_api_key_sid,
    part_sources,
    resolve_credentials,
)
from console.core.preferences import Preferences
from console.core.secrets_store import API_SECRET, AUTH_TOKEN, NGROK_AUTHTOKEN, SERVICE, SecretStore

SID = "AC" + "0123456789abcdef" * 2
KEY = "SK" + "fedcba9876543210" * 2
TOKEN = "tok-5f1e9a0c7d"  # distinctive so a leak is easy to spot
SECRET = "sec-8b2d4c6e1a"


class BrokenKeyring(keyring.backend.KeyringBackend):
    """A backend that looks fine until it is used (a locked or vanished keyring)."""

    priority = -20  # never chosen by keyring's own discovery

    def get_password(self, service, username, *password):
        raise keyring.errors.KeyringLocked("locked")

    set_password = delete_password = get_password


def files_containing(root, needle: str) -> list:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# ---- Credentials ---------------------------------------------------------------------------


def test_repr_and_str_never_show_secrets():
    credentials = Credentials(SID, TOKEN, KEY, SECRET, source="keyring")
    for text in (repr(credentials), str(credentials), f"{credentials}", f"{credentials!r}"):
        assert TOKEN not in text and SECRET not in text
        assert SID in text and KEY in text and "keyring" in text


def test_usable_needs_account_and_token_or_key_with_secret():
    assert Credentials(SID, TOKEN).usable
    assert Credentials(SID, api_key_sid=KEY, api_secret=SECRET).usable
    assert not Credentials(SID).usable
    assert not Credentials("", TOKEN).usable
    assert not Credentials(SID, api_key_sid=KEY).usable  # a key without its secret
    assert not Credentials(SID, api_secret=SECRET).usable


def test_client_login_prefers_the_api_key():
    assert Credentials(SID, TOKEN).client_login() == (SID, TOKEN, SID)
    assert Credentials(SID, TOKEN, KEY, SECRET).client_login() == (KEY, SECRET, SID)
    assert Credentials(SID, TOKEN, KEY, "").client_login() == (SID, TOKEN, SID)
    with pytest.raises(ValueError):
        Credentials(SID).client_login()


def test_sid_formats():
    assert is_account_sid(SID) and is_account_sid("AC" + "ABCDEF0123456789" * 2)
    assert not is_account_sid(KEY) and not is_account_sid(SID + "0") and not is_account_sid("")
    assert not is_account_sid("AC" + "g" * 32)
    assert is_api_key_sid(KEY) and not is_api_key_sid(SID) and not is_api_key_sid(KEY[:-1])


# ---- resolve_credentials ---------------------------------------------------------------------


def test_nothing_stored_and_no_environment_gives_none(preferences, secrets):
    assert resolve_credentials(preferences, secrets, {}) is None


def test_unusable_stored_values_give_none(preferences, secrets):
    preferences.account_sid = SID  # no token, no key
    assert resolve_credentials(preferences, secrets, {}) is None
    preferences.api_key_sid = KEY  # a key without its secret
    assert resolve_credentials(preferences, secrets, {}) is None


def test_stored_credentials_come_from_keyring(preferences, secrets):
    preferences.account_sid = SID
    secrets.set(AUTH_TOKEN, TOKEN)
    credentials = resolve_credentials(preferences, secrets, {})
    assert credentials == Credentials(SID, TOKEN, source="keyring")


def test_environment_overrides_each_field_separately(preferences, secrets):
    other_sid = "AC" + "9" * 32
    preferences.account_sid = SID
    preferences.api_key_sid = KEY
    secrets.set(AUTH_TOKEN, TOKEN)
    secrets.set(API_SECRET, SECRET)

    only_token = resolve_credentials(preferences, secrets, {"TWILIO_AUTH_TOKEN": "env-token"})
    assert only_token == Credentials(SID, "env-token", KEY, SECRET, "environment + keyring")

    only_sid = resolve_credentials(preferences, secrets, {"TWILIO_ACCOUNT_SID": other_sid})
    assert (only_sid.account_sid, only_sid.auth_token) == (other_sid, TOKEN)
    assert (only_sid.api_key_sid, only_sid.api_secret) == (KEY, SECRET)

    key_only = resolve_credentials(preferences, secrets, {"TWILIO_API_KEY": "SK" + "1" * 32})
    assert key_only.api_key_sid == "SK" + "1" * 32 and key_only.api_secret == SECRET

    secret_only = resolve_credentials(preferences, secrets, {"TWILIO_API_SECRET": "env-secret"})
    assert secret_only.api_secret == "env-secret" and secret_only.auth_token == TOKEN

    everything = {
        "TWILIO_ACCOUNT_SID": other_sid,
        "TWILIO_AUTH_TOKEN": "t",
        "TWILIO_API_KEY": "SK" + "2" * 32,
        "TWILIO_API_SECRET": "s",
    }
    assert resolve_credentials(preferences, secrets, everything) == Credentials(
        other_sid, "t", "SK" + "2" * 32, "s", "environment"
    )


def test_environment_alone_is_enough_and_blank_variables_do_not_count(preferences, secrets):
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_API_KEY": "  "}
    assert resolve_credentials(preferences, secrets, env) == Credentials(
        SID, TOKEN, source="environment"
    )
    assert resolve_credentials(preferences, secrets, {"TWILIO_ACCOUNT_SID": SID}) is None


def test_sources_are_described_without_secrets(preferences, secrets):
    preferences.account_sid = SID
    preferences.api_key_sid = KEY
    secrets.set(AUTH_TOKEN, TOKEN)
    sources = part_sources(preferences, secrets, {"TWILIO_ACCOUNT_SID": SID})
    assert sources == {
        "account_sid": "environment",
        "auth_token": "keyring",
        "api_key_sid": "settings",
        "api_secret": "",
    }
    text = describe_sources(sources)
    assert (
        text == "Account SID from environment, Auth Token from keyring, API Key SID from settings"
    )
    assert TOKEN not in text
    assert describe_sources(part_sources(preferences, SecretStore(fail.Keyring()), {})) == (
        "Account SID from settings, API Key SID from settings"
    )


def test_without_a_keyring_the_source_is_this_session(preferences):
    store = SecretStore(backend=fail.Keyring())
    preferences.account_sid = SID
    store.set(AUTH_TOKEN, TOKEN)
    assert resolve_credentials(preferences, store, {}).source == "this session"
    env = {"TWILIO_ACCOUNT_SID": SID}
    assert resolve_credentials(preferences, store, env).source == "environment + this session"


# ---- SecretStore ------------------------------------------------------------------------------


def test_secret_store_uses_the_keyring(memory_keyring):
    store = SecretStore(backend=memory_keyring)
    assert store.persistent
    assert store.get(AUTH_TOKEN) == ""
    store.set(AUTH_TOKEN, TOKEN)
    store.set(NGROK_AUTHTOKEN, "ngrok")
    assert memory_keyring.passwords[(SERVICE, AUTH_TOKEN)] == TOKEN
    assert SecretStore(backend=memory_keyring).get(AUTH_TOKEN) == TOKEN  # a later session
    store.set(AUTH_TOKEN, "")  # empty deletes
    assert (SERVICE, AUTH_TOKEN) not in memory_keyring.passwords
    store.set(AUTH_TOKEN, "")  # deleting what is not there is fine
    assert store.get(AUTH_TOKEN) == ""


def test_secret_store_defaults_to_keyrings_current_backend(memory_keyring):
    store = SecretStore()  # the autouse fixture installed memory_keyring
    store.set(API_SECRET, SECRET)
    assert keyring.get_password(SERVICE, API_SECRET) == SECRET


def test_unknown_secret_names_are_refused(secrets):
    with pytest.raises(ValueError):
        secrets.get("password")
    with pytest.raises(ValueError):
        secrets.set("auth-token", TOKEN)


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_no_keyring_keeps_secrets_in_memory_only(backend, user_dirs, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    store = SecretStore(backend=backend)
    assert not store.persistent
    assert "this session only" in store.backend_name
    store.set(AUTH_TOKEN, TOKEN)
    store.set(API_SECRET, SECRET)
    assert (store.get(AUTH_TOKEN), store.get(API_SECRET)) == (TOKEN, SECRET)
    store.set(API_SECRET, "")
    assert store.get(API_SECRET) == ""
    assert SecretStore(backend=backend).get(AUTH_TOKEN) == ""  # gone with the session
    for root in (user_dirs.root, tmp_path):
        assert files_containing(root, TOKEN) == []
    assert TOKEN not in caplog.text and SECRET not in caplog.text


def test_an_empty_chainer_is_no_keyring(monkeypatch):
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    store = SecretStore(backend=chainer.ChainerBackend())
    assert not store.persistent
    store.set(AUTH_TOKEN, TOKEN)
    assert store.get(AUTH_TOKEN) == TOKEN


def test_a_keyring_failing_in_use_falls_back_to_memory(user_dirs, caplog):
    caplog.set_level(logging.DEBUG)
    store = SecretStore(backend=BrokenKeyring())
    assert store.persistent  # nothing known to be wrong yet
    store.set(AUTH_TOKEN, TOKEN)
    assert not store.persistent
    assert store.get(AUTH_TOKEN) == TOKEN
    assert "KeyringLocked" in caplog.text and TOKEN not in caplog.text
    assert files_containing(user_dirs.root, TOKEN) == []


def test_a_keyring_failing_on_read_falls_back_to_memory():
    store = SecretStore(backend=BrokenKeyring())
    assert store.get(API_SECRET) == ""
    assert not store.persistent


# ---- Preferences ------------------------------------------------------------------------------


def test_preferences_defaults(preferences):
    assert preferences.region == "US"
    assert preferences.refresh_interval == 5
    assert preferences.webhook_port == 8080
    assert preferences.account_sid == preferences.api_key_sid == ""
    assert preferences.last_from == preferences.last_room == ""
    assert preferences.window_geometry == b""


def test_preferences_survive_garbage_in_the_file(user_dirs):
    path = user_dirs.settings / "garbage.ini"
    path.write_text(
        "[dial]\nregion=Narnia\nlast_from=a, b, c\nlast_room=@Variant(\\0\\0\\0\\x7f)\n"
        "[refresh]\ninterval=soon\n"
        "[webhook]\nport=99999\n"
        "[twilio]\naccount_sid=1, 2\napi_key_sid=@Invalid()\n"
        "[window]\ngeometry=not bytes\n"
        "\x00\xff garbage line without equals\n",
        encoding="latin-1",
    )
    preferences = Preferences(QSettings(str(path), QSettings.Format.IniFormat))
    assert preferences.region == "US"
    assert preferences.refresh_interval == 5
    assert preferences.webhook_port == 8080
    assert preferences.account_sid == ""
    assert preferences.api_key_sid == ""
    assert preferences.last_from == ""
    assert preferences.last_room == ""
    assert preferences.window_geometry == b""


def test_preferences_clamp_and_check(preferences):
    preferences.refresh_interval = 0
    assert preferences.refresh_interval == 1
    preferences.refresh_interval = 10_000
    assert preferences.refresh_interval == 600
    preferences.settings.setValue("refresh/interval", "-3")  # edited by hand
    assert preferences.refresh_interval == 1
    with pytest.raises(ValueError):
        preferences.webhook_port = 70000
    with pytest.raises(ValueError):
        preferences.region = "XX"
    preferences.region = "gb"
    assert preferences.region == "GB"


def test_preferences_read_back_from_the_same_file(preferences):
    preferences.region = "DE"
    preferences.refresh_interval = 42
    preferences.webhook_port = 0
    preferences.account_sid = SID
    preferences.api_key_sid = KEY
    preferences.last_from = "+15551234567"
    preferences.last_room = "DailyStandup"
    preferences.window_geometry = b"\x01\xd9\xd0\xcb\x00\x03"
    preferences.sync()
    again = Preferences(QSettings(preferences.settings.fileName(), QSettings.Format.IniFormat))
    assert (again.region, again.refresh_interval, again.webhook_port) == ("DE", 42, 0)
    assert (again.account_sid, again.api_key_sid) == (SID, KEY)
    assert (again.last_from, again.last_room) == ("+15551234567", "DailyStandup")
    assert again.window_geometry == b"\x01\xd9\xd0\xcb\x00\x03"


def test_default_preferences_live_in_the_isolated_settings_dir(user_dirs):
    preferences = Preferences.default()
    preferences.last_room = "Support"
    preferences.sync()
    assert preferences.settings.fileName().startswith(str(user_dirs.settings))
    assert Preferences.default().last_room == "Support"
