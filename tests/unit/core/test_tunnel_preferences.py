"""The tunnel preferences: provider, agent API URL, reserved ngrok domain, hand-entered URL."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from console.core.preferences import Preferences


def test_tunnel_preferences_have_defaults(preferences):
    assert preferences.tunnel_provider == "agent"
    assert preferences.ngrok_api_url == "http://127.0.0.1:4040"
    assert preferences.ngrok_domain == ""
    assert preferences.public_url == ""


def test_tunnel_preferences_survive_a_restart(preferences):
    preferences.tunnel_provider = " NGROK "
    preferences.ngrok_api_url = "http://127.0.0.1:4041/"
    preferences.ngrok_domain = "https://Mine.ngrok.app/"
    preferences.public_url = "https://Hooks.example.org/"
    preferences.sync()

    again = Preferences(QSettings(preferences.settings.fileName(), QSettings.Format.IniFormat))
    assert again.tunnel_provider == "ngrok"
    assert again.ngrok_api_url == "http://127.0.0.1:4041"
    assert again.ngrok_domain == "mine.ngrok.app"
    assert again.public_url == "https://hooks.example.org"


@pytest.mark.parametrize("provider", ["ngrok", "agent", "manual", "none"])
def test_every_tunnel_provider_can_be_chosen(preferences, provider):
    preferences.tunnel_provider = provider
    assert preferences.tunnel_provider == provider


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("tunnel_provider", "cloudflare", "not a tunnel provider"),
        ("ngrok_api_url", "localhost:4040", "not a URL for the ngrok agent's API"),
        ("ngrok_api_url", "http://127.0.0.1:4040?x=1", "not a URL for the ngrok agent's API"),
        ("ngrok_domain", "not a domain", "not a domain name"),
        ("public_url", "https://abc.ngrok.app/voice", "has a path"),
    ],
)
def test_bad_tunnel_preferences_are_refused_and_nothing_is_stored(
    preferences, name, value, message
):
    before = getattr(preferences, name)

    with pytest.raises(ValueError, match=message):
        setattr(preferences, name, value)

    assert getattr(preferences, name) == before


def test_empty_values_reset_to_the_defaults(preferences):
    preferences.ngrok_api_url = "http://10.0.0.2:4040"
    preferences.ngrok_domain = "mine.ngrok.app"
    preferences.public_url = "https://hooks.example.org"

    preferences.ngrok_api_url = " "
    preferences.ngrok_domain = ""
    preferences.public_url = ""

    assert preferences.ngrok_api_url == "http://127.0.0.1:4040"
    assert preferences.ngrok_domain == ""
    assert preferences.public_url == ""


def test_malformed_stored_tunnel_values_read_as_defaults(preferences):
    settings = preferences.settings
    settings.setValue("tunnel/provider", "carrier-pigeon")
    settings.setValue("tunnel/ngrok_api_url", "not a url")
    settings.setValue("tunnel/ngrok_domain", ["a", "list"])
    settings.setValue("tunnel/public_url", "https://abc.ngrok.app/with/path")

    assert preferences.tunnel_provider == "agent"
    assert preferences.ngrok_api_url == "http://127.0.0.1:4040"
    assert preferences.ngrok_domain == ""
    assert preferences.public_url == ""
