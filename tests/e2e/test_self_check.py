"""The tunnel self-check through a loopback stand-in for the tunnel, and keeping the tunnel up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from console.core.credentials import Credentials
from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from console.core.runtime import start_live
from console.core.self_check import (
    TunnelWatcher,
    check_public_webhook,
    check_signed_webhook,
    check_tunnel,
)
from console.core.tunnel import AgentTunnel
from tests.helpers import wait_until
from tests.helpers.ngrok_agent_stub import AgentApiStub
from tests.helpers.tunnel_proxy import TunnelProxy
from tests.helpers.tunneled_webhook import TunneledWebhook, free_port
from webhook.events import CallStatusEvent

TOKEN = "5e1f0c0ffee0ddba11ab1e5eedcafe42"


@pytest.fixture
def hook() -> Iterator[TunneledWebhook]:
    tunneled = TunneledWebhook(TOKEN)
    yield tunneled
    tunneled.stop()


@pytest.fixture
def agent() -> Iterator[AgentApiStub]:
    stub = AgentApiStub()
    yield stub
    stub.stop()


@pytest.fixture
def other_server() -> Iterator[str]:
    """Some other web app, answering 200 with a page to anything (what a wrong port finds)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html><body>Welcome to nginx!</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield str(server.server_port)
    server.shutdown()
    server.server_close()
    thread.join(2)


def serves_locally(hook: TunneledWebhook) -> bool:
    return requests.get(f"{hook.local_url}/health", timeout=5).json()["status"] == "ok"


def test_the_webhook_answers_through_the_tunnel_and_accepts_signed_requests(hook):
    health = check_public_webhook(hook.public_url)
    assert (health.ok, health.kind, health.public_url) == (True, "ok", hook.public_url)

    signed = check_signed_webhook(hook.public_url, TOKEN)
    assert (signed.ok, signed.kind) == (True, "ok")
    assert [path.split("?")[0] for _, path in hook.proxy.forwarded] == ["/health", "/voice/status"]
    (event,) = wait_until(lambda: [e for e in hook.events if isinstance(e, CallStatusEvent)])
    assert event.call_sid == ""  # no call's row can change because of a self-check

    assert check_tunnel(hook.public_url + "/", TOKEN).ok


def test_a_dropped_tunnel_is_tunnel_down_while_the_webhook_keeps_serving(hook):
    hook.proxy.drop()

    result = check_public_webhook(hook.public_url)

    assert (result.ok, result.kind) == (False, "tunnel-down")
    assert result.reason == "tunnel down: ngrok says the endpoint is offline (ERR_NGROK_3200)"
    assert serves_locally(hook)


def test_a_tunnel_that_is_gone_is_tunnel_down(hook):
    hook.proxy.stop()

    result = check_tunnel(hook.public_url, TOKEN, timeout=2)

    assert (result.ok, result.kind) == (False, "tunnel-down")
    assert (
        result.reason == f"tunnel down: nothing answers at {hook.public_url} (connection refused)"
    )


def test_a_tunnel_to_a_port_where_nothing_listens_is_wrong_port(hook):
    hook.proxy.upstream_port = free_port()

    result = check_public_webhook(hook.public_url)

    assert (result.ok, result.kind) == (False, "wrong-port")
    assert "ERR_NGROK_8012" in result.reason and result.reason.startswith("wrong port:")


def test_a_tunnel_to_another_web_app_is_wrong_port(hook, other_server, agent):
    hook.proxy.upstream_port = int(other_server)
    result = check_public_webhook(hook.public_url)
    assert (result.ok, result.kind) == (False, "wrong-port")
    assert "something else answers on that port" in result.reason

    hook.proxy.upstream_port = int(agent.url.rsplit(":", 1)[1])  # answers 404 to /health
    result = check_tunnel(hook.public_url, TOKEN)
    assert (result.ok, result.kind) == (False, "wrong-port")
    assert "something else answers on that port" in result.reason


def test_a_login_in_front_of_the_tunnel_is_auth(hook):
    hook.proxy.basic_auth = ("ops", "s3cret")

    result = check_tunnel(hook.public_url, TOKEN)

    assert (result.ok, result.kind) == (False, "auth")
    assert result.reason.startswith("auth failing:") and "HTTP 401" in result.reason


def test_a_webhook_with_another_auth_token_is_auth_failing(hook):
    result = check_tunnel(hook.public_url, "0" * 32)

    assert (result.ok, result.kind) == (False, "auth")
    assert "rejected a request signed with this Auth Token" in result.reason


def test_a_webhook_checking_another_public_url_is_auth_failing(hook):
    hook.app.config["PUBLIC_URL"] = hook.local_url

    result = check_public_webhook(hook.public_url)

    assert (result.ok, result.kind) == (False, "auth")
    assert f"checks signatures against {hook.local_url}, not {hook.public_url}" in result.reason


def test_the_watcher_re_detects_the_agents_new_tunnel_when_the_old_one_drops(hook, agent):
    agent.add_tunnel(hook.public_url, f"http://localhost:{hook.port}", proto="http")
    seen: list[str] = []

    def on_public_url(url: str) -> None:
        seen.append(url)
        hook.app.config["PUBLIC_URL"] = url

    watcher = TunnelWatcher(
        hook.public_url, hook.port, AgentTunnel(agent.url), TOKEN, on_public_url, timeout=2
    )
    assert watcher.check().ok

    hook.proxy.drop()  # the agent restarted with a new URL
    second = TunnelProxy(hook.port)
    try:
        agent.tunnels.clear()
        agent.add_tunnel(second.url, f"localhost:{hook.port}", proto="http")

        result = watcher.check()

        assert (result.ok, result.public_url) == (True, second.url)
        assert watcher.public_url == second.url and seen == [second.url]
        assert (
            "POST",
            "/voice/status",
        ) in second.forwarded  # signatures rechecked after the change

        second.drop()
        agent.stop()  # and now the agent is gone too: red, with both reasons, and no crash
        result = watcher.check()
        assert (result.ok, result.kind) == (False, "tunnel-down")
        assert "endpoint is offline" in result.reason and "no ngrok agent answers" in result.reason
        assert watcher.last == result
        assert serves_locally(hook)
    finally:
        second.stop()


class ReconnectingTunnel:
    """Stands in for the ngrok SDK tunnel: each open() is a new tunnel with a new URL."""

    provider = "ngrok"

    def __init__(self) -> None:
        self.proxies: list[TunnelProxy] = []
        self.closed = 0

    def open(self, webhook_port: int) -> str:
        self.proxies.append(TunnelProxy(webhook_port))
        return self.proxies[-1].url

    def close(self) -> None:
        self.closed += 1
        if self.proxies:
            self.proxies[-1].drop()


def test_the_watcher_reconnects_a_dropped_ngrok_tunnel(hook):
    tunnel = ReconnectingTunnel()
    first = tunnel.open(hook.port)
    hook.app.config["PUBLIC_URL"] = first
    watcher = TunnelWatcher(
        first, hook.port, tunnel, TOKEN, lambda url: hook.app.config.update(PUBLIC_URL=url)
    )
    try:
        assert watcher.check().ok
        tunnel.proxies[0].stop()  # the connection to ngrok broke

        result = watcher.check()

        assert result.ok and tunnel.closed == 1
        assert watcher.public_url == tunnel.proxies[1].url == hook.app.config["PUBLIC_URL"]
    finally:
        for proxy in tunnel.proxies[1:]:
            proxy.stop()


def test_live_calls_are_created_with_the_agents_public_url(sandbox, sandbox_server, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_TWILIO_URL", sandbox_server.url)
    port = free_port()
    proxy = TunnelProxy(port)
    agent = AgentApiStub()
    agent.add_tunnel(proxy.url, f"http://localhost:{port}", proto="http")
    credentials = Credentials(sandbox.account_sid, sandbox.auth_token)
    runtime = start_live(credentials, lambda event: None, port, tunnel=AgentTunnel(agent.url))
    try:
        assert runtime.public_url == proxy.url
        assert runtime.webhook.app.config["PUBLIC_URL"] == proxy.url
        assert runtime.outbound_url("R", "alice").startswith(f"{proxy.url}/voice/outbound?")
        gateway = Gateway(make_client(sandbox.account_sid, sandbox.auth_token))
        room = gateway.create_room("R")
        gateway.place_call(
            "+15551234567",
            "+15005550006",
            runtime.outbound_url("R", "alice"),
            runtime.call_status_url,
            ["initiated", "ringing", "answered", "completed"],
        )
        wait_until(lambda: [p.identity for p in gateway.list_participants(room.sid)] == ["alice"])
        assert ("POST", "/voice/outbound?room=R&identity=alice") in proxy.forwarded
    finally:
        runtime.stop()
        agent.stop()
        proxy.stop()


def test_a_live_session_starts_on_the_local_url_when_the_tunnel_is_missing(
    sandbox, sandbox_server, monkeypatch, agent
):
    monkeypatch.setenv("SWITCHBOARD_TWILIO_URL", sandbox_server.url)
    credentials = Credentials(sandbox.account_sid, sandbox.auth_token)
    runtime = start_live(credentials, lambda event: None, 0, tunnel=AgentTunnel(agent.url))
    try:
        assert runtime.public_url == runtime.webhook.local_url
        assert any("Tunnel (agent) not open: tunnel down" in note for note in runtime.notes)
        proxy = TunnelProxy(runtime.webhook.port)
        try:
            runtime.set_public_url(proxy.url + "/")
            assert runtime.call_status_url == f"{proxy.url}/voice/status"
            assert check_tunnel(proxy.url, sandbox.auth_token).ok
        finally:
            proxy.stop()
    finally:
        runtime.stop()
