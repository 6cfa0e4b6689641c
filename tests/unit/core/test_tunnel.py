"""Tunnel providers: an ngrok agent found through its API, a typed URL, and the ngrok SDK."""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from console.core.public_url import normalize_public_url
from console.core.secrets_store import NGROK_AUTHTOKEN
from console.core.tunnel import (
    AgentTunnel,
    ManualTunnel,
    NgrokSdkTunnel,
    TunnelError,
    make_tunnel,
    ngrok_authtoken,
)
from tests.helpers.ngrok_agent_stub import AgentApiStub

PORT = 8080
BOGUS_TOKEN = "2bogusNgrokToken_9f8e7d6c5b4a"  # distinctive so a leak is easy to spot


@pytest.fixture
def agent() -> Iterator[AgentApiStub]:
    stub = AgentApiStub()
    yield stub
    stub.stop()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the running agent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "addr",
    ["localhost:8080", "http://localhost:8080", "127.0.0.1:8080", "8080", "http://[::1]:8080"],
)
def test_agent_tunnel_finds_the_https_tunnel_to_the_webhook_port(agent, addr):
    agent.add_tunnel("https://other.ngrok.app", "http://localhost:3000")
    agent.add_tunnel("http://ours.ngrok.app", addr, proto="http")
    agent.add_tunnel("https://ours.ngrok.app/", addr)

    assert AgentTunnel(agent.url).open(PORT) == "https://ours.ngrok.app"
    assert agent.requests == ["/api/tunnels"]


def test_agent_tunnel_takes_the_http_tunnel_when_there_is_no_https_one(agent):
    agent.add_tunnel("tcp://0.tcp.ngrok.io:12345", "localhost:8080", proto="tcp")
    agent.add_tunnel("http://plain.ngrok.app", "localhost:8080", proto="http")

    assert AgentTunnel(agent.url + "/").open(PORT) == "http://plain.ngrok.app"


def test_agent_tunnel_says_wrong_port_with_both_ports(agent):
    agent.add_tunnel("https://other.ngrok.app", "http://localhost:3000")

    with pytest.raises(TunnelError) as caught:
        AgentTunnel(agent.url).open(PORT)

    assert (
        str(caught.value) == "wrong port: the agent forwards to 3000, the webhook listens on 8080"
    )
    assert caught.value.kind == "wrong-port"


def test_agent_tunnel_lists_every_other_port(agent):
    for port in (5000, 3000, 443):
        agent.add_tunnel(f"https://p{port}.ngrok.app", f"localhost:{port}")
    agent.add_tunnel("https://tls.ngrok.app", "https://localhost")  # upstream TLS, port 443

    with pytest.raises(TunnelError, match=r"forwards to 443, 3000 and 5000, the webhook listens"):
        AgentTunnel(agent.url).open(PORT)


def test_agent_tunnel_refuses_a_tunnel_that_speaks_tls_to_the_webhook(agent):
    agent.add_tunnel("https://tls.ngrok.app", "https://localhost:8080")

    with pytest.raises(TunnelError, match=r"https://localhost:8080, but the webhook speaks plain"):
        AgentTunnel(agent.url).open(PORT)


def test_agent_tunnel_without_tunnels_says_how_to_start_one(agent):
    with pytest.raises(TunnelError, match=r"has no web tunnel; start one with `ngrok http 8080`"):
        AgentTunnel(agent.url).open(PORT)


def test_agent_tunnel_when_no_agent_runs_names_the_api_address():
    api = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()

    with pytest.raises(TunnelError) as caught:
        AgentTunnel(api).open(PORT)

    assert f"no ngrok agent answers at {api}" in str(caught.value)
    assert caught.value.kind == "tunnel-down"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"<html>hello</html>", "does not answer like an ngrok agent"),
        (200, b'{"tunnels": "none"}', "does not answer like an ngrok agent"),
        (502, b"{}", "answered HTTP 502"),
    ],
)
def test_agent_tunnel_explains_an_api_that_is_not_an_agents(agent, status, body, message):
    agent.status, agent.raw_body = status, body

    with pytest.raises(TunnelError, match=message):
        AgentTunnel(agent.url).open(PORT)


def test_agent_tunnel_rejects_a_malformed_api_url():
    with pytest.raises(TunnelError, match="not a URL for the ngrok agent's API"):
        AgentTunnel("localhost:4040").open(PORT)


# -- a URL typed by hand -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("https://abc.ngrok.app", "https://abc.ngrok.app"),
        (" HTTPS://ABC.ngrok.app/ ", "https://abc.ngrok.app"),
        ("http://hooks.example.org:8443", "http://hooks.example.org:8443"),
    ],
)
def test_manual_tunnel_normalizes_a_good_url(typed, normal):
    assert ManualTunnel(typed).open(PORT) == normal


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "no public URL"),
        ("abc.ngrok.app", "not a web address"),
        ("ftp://abc.ngrok.app", "not a web address"),
        ("https://abc.ngrok.app/voice", "has a path"),
        ("https://abc.ngrok.app/?x=1", "has a path"),
        ("https://user:pw@abc.ngrok.app", "user name or password"),
        ("https://abc.ngrok.app:99999", "not a port number"),
    ],
)
def test_manual_tunnel_says_what_is_wrong_with_a_bad_url(typed, message):
    with pytest.raises(TunnelError, match=message):
        ManualTunnel(typed).open(PORT)
    with pytest.raises(ValueError, match=message):
        normalize_public_url(typed)


# -- choosing a provider -----------------------------------------------------------------------


def test_make_tunnel_follows_the_preference(preferences, secrets):
    assert isinstance(make_tunnel(preferences, secrets, {}), AgentTunnel)  # the default
    preferences.ngrok_api_url = "http://127.0.0.1:4141"
    assert make_tunnel(preferences, secrets, {}).api_url == "http://127.0.0.1:4141"

    preferences.tunnel_provider = "manual"
    preferences.public_url = "https://typed.example.org"
    assert make_tunnel(preferences, secrets, {}).open(PORT) == "https://typed.example.org"

    preferences.tunnel_provider = "none"
    assert make_tunnel(preferences, secrets, {}) is None

    preferences.tunnel_provider = "ngrok"
    preferences.ngrok_domain = "mine.ngrok.app"
    tunnel = make_tunnel(preferences, secrets, {})
    assert isinstance(tunnel, NgrokSdkTunnel)
    assert tunnel.domain == "mine.ngrok.app"


def test_ngrok_authtoken_comes_from_the_environment_before_the_keyring(secrets):
    assert ngrok_authtoken(secrets, {}) == ("", "")
    secrets.set(NGROK_AUTHTOKEN, "stored-token")
    assert ngrok_authtoken(secrets, {}) == ("stored-token", "keyring")
    assert ngrok_authtoken(secrets, {"NGROK_AUTHTOKEN": " env-token "}) == (
        "env-token",
        "environment",
    )


# -- the ngrok SDK -----------------------------------------------------------------------------


class ScriptedSdk:
    """The two ngrok SDK calls NgrokSdkTunnel uses, answering as a test scripts."""

    def __init__(self, url: str = "https://abc.ngrok.app", error: Exception | None = None) -> None:
        self.url, self.error = url, error
        self.forwarded: list[tuple[str, dict]] = []
        self.disconnected: list[str] = []
        self.release = threading.Event()
        self.block = False

    def forward(self, addr: str, **options: object):
        self.forwarded.append((addr, options))
        if self.block:
            self.release.wait(10)
        if self.error is not None:
            raise self.error
        url = self.url

        class Listener:
            def url(self) -> str:
                return url

        return Listener()

    def disconnect(self, url: str) -> None:
        self.disconnected.append(url)


def test_ngrok_tunnel_forwards_to_the_webhook_and_disconnects_on_close():
    sdk = ScriptedSdk("https://abc.ngrok.app/")
    tunnel = NgrokSdkTunnel(BOGUS_TOKEN, domain="abc.ngrok.app", sdk=sdk)

    assert tunnel.open(PORT) == "https://abc.ngrok.app"
    assert tunnel.open(PORT) == "https://abc.ngrok.app"  # already open: no second tunnel
    tunnel.close()
    tunnel.close()

    assert sdk.forwarded == [
        ("127.0.0.1:8080", {"authtoken": BOGUS_TOKEN, "domain": "abc.ngrok.app"})
    ]
    assert sdk.disconnected == ["https://abc.ngrok.app"]
    assert BOGUS_TOKEN not in repr(tunnel)


def test_ngrok_tunnel_without_an_authtoken_says_where_to_put_one():
    sdk = ScriptedSdk()

    with pytest.raises(TunnelError, match="enter it in Settings or set NGROK_AUTHTOKEN"):
        NgrokSdkTunnel("", sdk=sdk).open(PORT)

    assert sdk.forwarded == []


def test_ngrok_tunnel_never_quotes_the_authtoken(caplog):
    caplog.set_level(logging.DEBUG)
    rejected = ValueError(
        "failed to connect session",
        f"authentication failed: Your authtoken: {BOGUS_TOKEN}\n\nERR_NGROK_105",
    )

    with pytest.raises(TunnelError) as caught:
        NgrokSdkTunnel(BOGUS_TOKEN, sdk=ScriptedSdk(error=rejected)).open(PORT)

    assert caught.value.kind == "auth"
    assert "ngrok rejected the authtoken" in str(caught.value)
    assert "ERR_NGROK_105" in str(caught.value)
    assert BOGUS_TOKEN not in str(caught.value)
    assert BOGUS_TOKEN not in caplog.text


def test_ngrok_tunnel_gives_up_after_its_timeout_and_closes_a_late_tunnel():
    sdk = ScriptedSdk()
    sdk.block = True
    tunnel = NgrokSdkTunnel(BOGUS_TOKEN, timeout=0.2, sdk=sdk)
    started = time.monotonic()

    with pytest.raises(TunnelError, match=r"did not open a tunnel within 0.2 s"):
        tunnel.open(PORT)

    assert time.monotonic() - started < 2
    sdk.release.set()
    from tests.helpers import wait_until

    wait_until(lambda: sdk.disconnected == ["https://abc.ngrok.app"])
    assert tunnel.url == ""


@pytest.mark.skipif(importlib.util.find_spec("ngrok") is None, reason="ngrok is not installed")
def test_the_real_ngrok_sdk_fails_fast_and_clearly_with_a_bogus_token(caplog):
    caplog.set_level(logging.DEBUG)
    tunnel = NgrokSdkTunnel(BOGUS_TOKEN)
    started = time.monotonic()

    with pytest.raises(TunnelError) as caught:
        tunnel.open(closed_port())

    elapsed = time.monotonic() - started
    assert elapsed < 16  # the timeout bounds it even where DNS hangs; offline it takes ~0.1 s
    message = str(caught.value)
    assert message.startswith(("tunnel down: ngrok", "ngrok rejected the authtoken"))
    assert BOGUS_TOKEN not in message
    assert BOGUS_TOKEN not in caplog.text
    assert tunnel.url == ""
