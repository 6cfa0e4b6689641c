"""Fixtures for sandbox tests: a served Sandbox, the real webhook, a scripted webhook, the SDK."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.serving import make_server

from sandbox.clock import Clock
from sandbox.core import Sandbox
from sandbox.server import SandboxServer
from tests.helpers.openapi_check import ResponseLog, ValidatingHttpClient
from tests.helpers.sandbox_faults import Faults
from webhook import WebhookServer, create_app

RING_DELAY = 0.05


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with a short ring, playing calls at 4x speed."""
    box = Sandbox(ring_delay=RING_DELAY, webhook_timeout=15.0, clock=Clock(speed=4.0))
    yield box
    box.close()


@pytest.fixture
def sandbox_server(sandbox: Sandbox) -> Iterator[SandboxServer]:
    """The sandbox served on a free loopback port."""
    server = SandboxServer(sandbox)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def faults(sandbox: Sandbox, sandbox_server: SandboxServer) -> Faults:
    """The served sandbox's fault plan."""
    return Faults(sandbox_server.url, (sandbox.account_sid, sandbox.auth_token))


@pytest.fixture
def response_log() -> ResponseLog:
    """Every response the SDK saw, each one validated against Twilio's OpenAPI."""
    return ResponseLog()


@pytest.fixture
def client(sandbox: Sandbox, sandbox_server: SandboxServer, response_log: ResponseLog) -> Client:
    """The official twilio SDK, reaching the sandbox through a validating twilio.http client."""
    http = ValidatingHttpClient(sandbox_server.url, response_log)
    return Client(sandbox.account_sid, sandbox.auth_token, http_client=http)


@dataclass
class RunningWebhook:
    """The real webhook app, served, with the events it handed on."""

    url: str
    events: list = field(default_factory=list)

    def of_kind(self, kind: type) -> list:
        """Events of one type, in arrival order."""
        return [e for e in list(self.events) if isinstance(e, kind)]


@pytest.fixture
def webhook(sandbox: Sandbox) -> Iterator[RunningWebhook]:
    """Switchboard's webhook, checking signatures with the sandbox's Auth Token."""
    events: list = []
    app = create_app({"AUTH_TOKEN": sandbox.auth_token, "DEFAULT_ROOM": "Lobby"}, events.append)
    server = WebhookServer(app)
    server.start()
    app.config["PUBLIC_URL"] = server.local_url
    yield RunningWebhook(server.local_url, events)
    server.stop()


@dataclass
class ScriptedWebhook:
    """A webhook whose answers tests choose; it records each request and checks its signature."""

    url: str
    answers: dict[str, Callable[[], Response]]
    requests: list[dict] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def requests_to(self, path: str) -> list[dict]:
        """The recorded requests for one path."""
        return [r for r in list(self.requests) if r["path"] == path]


@pytest.fixture
def scripted(sandbox: Sandbox) -> Iterator[ScriptedWebhook]:
    """A plain Flask webhook (werkzeug-served) on loopback, answering whatever a test scripts."""
    app = Flask("scripted")
    holder: dict[str, ScriptedWebhook] = {}
    validator = RequestValidator(sandbox.auth_token)

    @app.route("/<path:path>", methods=["GET", "POST"])
    def answer(path: str) -> Response:
        hook = holder["hook"]
        url = request.url
        signed = validator.validate(url, request.form, request.headers.get("X-Twilio-Signature"))
        hook.requests.append({"path": "/" + path, "form": request.form.to_dict(), "signed": signed})
        make = hook.answers.get("/" + path)
        if make is None:
            return Response("", status=404)
        return make()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    hook = ScriptedWebhook(f"http://127.0.0.1:{server.server_port}", {})
    holder["hook"] = hook
    yield hook
    hook.release.set()
    server.shutdown()
    server.server_close()
    thread.join(2)
