"""The servers and Twilio client a console session runs on: sandbox mode or live mode."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests

from console.core.calls.history import CallHistory
from console.core.credentials import Credentials
from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client, sandbox_url_from_env
from console.core.tunnel import Tunnel, TunnelError
from webhook import PortInUse, WebhookServer, create_app
from webhook.events import Event

log = logging.getLogger(__name__)


HEALTH_TIMEOUT = 5.0


@dataclass
class Runtime:
    """What one session talks to: a gateway, the webhook it serves, and how to stop it all."""

    mode: str  # "sandbox", "live" or "team"
    account_sid: str
    gateway: Gateway
    webhook: WebhookServer | None  # None in team mode: the team server serves the webhook
    public_url: str
    notes: list[str] = field(default_factory=list)
    sandbox_url: str = ""  # where the sandbox's REST API answers, in sandbox mode
    tunnel: Tunnel | None = None  # what makes public_url reach the webhook, in live mode
    history: CallHistory | None = None  # where calls and their statuses are recorded
    operator: str = ""  # team mode: the operator this console works as
    team_state: tuple[str, str] = ("", "")  # team mode: the event stream's state and why
    team_stream: object | None = None  # team mode: the TeamEventStream feeding the window
    _cleanups: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._cleanups.append(lambda: self.gateway.close())  # after the servers and the tunnel

    @property
    def label(self) -> str:
        """The mode as the status bar shows it."""
        if self.mode == "team":
            host = self.public_url.split("://", 1)[-1]
            return " · ".join(part for part in ("Team", host, self.operator) if part)
        return "Sandbox" if self.mode == "sandbox" else f"Live · {self.account_sid}"

    def outbound_url(self, room: str, identity: str) -> str:
        """The signed URL Twilio fetches when the callee answers; room and identity travel in it."""
        return f"{self.public_url}/voice/outbound?{urlencode({'room': room, 'identity': identity})}"

    @property
    def call_status_url(self) -> str:
        """Where call progress callbacks go."""
        return f"{self.public_url}/voice/status"

    @property
    def room_status_url(self) -> str:
        """Where room callbacks go."""
        return f"{self.public_url}/video/status"

    def set_public_url(self, url: str) -> None:
        """Create calls with url and check signatures against it (e.g. after a tunnel reconnect)."""
        public = url.strip().rstrip("/")
        self.public_url = public
        if self.webhook is not None:
            self.webhook.app.config["PUBLIC_URL"] = public

    def check_health(self) -> str:
        """'' when /health echoes our nonce through the public URL; else the reason it did not."""
        nonce = secrets.token_hex(8)
        try:
            answer = requests.get(
                f"{self.public_url}/health", params={"nonce": nonce}, timeout=HEALTH_TIMEOUT
            )
        except requests.RequestException as error:
            return f"webhook unreachable ({type(error).__name__})"
        if answer.status_code != 200:
            return f"webhook answered HTTP {answer.status_code}"
        try:
            echoed = answer.json().get("nonce")
        except ValueError:
            return "webhook answered something that is not Switchboard's health check"
        return "" if echoed == nonce else "another server answered the health check"

    def keep_history(self, history: CallHistory) -> None:
        """Record calls in history; it closes after everything else has stopped."""
        self.history = history
        self._cleanups.insert(0, history.close)

    def add_cleanup(self, cleanup: Callable[[], object]) -> None:
        """Run cleanup at stop(), after the ones added later (reverse order)."""
        self._cleanups.append(cleanup)

    def stop(self) -> None:
        """Stop everything this runtime started, newest first."""
        while self._cleanups:
            cleanup = self._cleanups.pop()
            try:
                cleanup()
            except Exception:
                log.exception("cleanup failed")


def _identities_in(gateway: Gateway) -> Callable[[str], set[str]]:
    """For the webhook: who is connected in a room, so an incoming caller gets a free identity."""

    def identities(room_name: str) -> set[str]:
        room = gateway.find_room(room_name)
        return {p.identity for p in gateway.list_participants(room.sid)} if room else set()

    return identities


def _start_webhook(
    auth_token: str,
    on_event: Callable[[Event], object],
    port: int,
    notes: list[str],
    gateway: Gateway,
) -> WebhookServer:
    from webhook.routes_file import default_routes_path

    config = {
        "AUTH_TOKEN": auth_token,
        "SKIP_SIGNATURE": not auth_token,
        "ROUTES_FILE": str(default_routes_path()),  # also when absent: the dialog may create it
        "ROOM_IDENTITIES": _identities_in(gateway),
    }
    app = create_app(config, on_event)
    server = WebhookServer(app, port=port)
    try:
        server.start()
    except PortInUse:
        if port == 0:
            raise
        server = WebhookServer(app, port=0)
        server.start()
        notes.append(f"Port {port} was in use, so the webhook listens on {server.port}.")
    return server


def start_sandbox(
    on_event: Callable[[Event], object], webhook_port: int = 0, ring_delay: float = 1.0
) -> Runtime:
    """Start the offline sandbox and the webhook on loopback; the public URL is the local one."""
    from sandbox import Sandbox, SandboxServer

    box = Sandbox(ring_delay=ring_delay)
    server = SandboxServer(box)
    try:
        server.start()
    except Exception:
        box.close()
        raise
    notes: list[str] = []
    gateway = Gateway(make_client(box.account_sid, box.auth_token, base_url=server.url))
    try:
        hook = _start_webhook(box.auth_token, on_event, webhook_port, notes, gateway)
    except Exception:
        server.stop()
        box.close()
        raise
    hook.app.config["PUBLIC_URL"] = hook.local_url
    runtime = Runtime("sandbox", box.account_sid, gateway, hook, hook.local_url, notes, server.url)
    runtime.add_cleanup(box.close)
    runtime.add_cleanup(server.stop)
    runtime.add_cleanup(hook.stop)
    return runtime


def start_live(
    credentials: Credentials,
    on_event: Callable[[Event], object],
    webhook_port: int = 8080,
    public_url: str = "",
    tunnel: Tunnel | None = None,
    env: Mapping[str, str] | None = None,
) -> Runtime:
    """Use the operator's Twilio account (or SWITCHBOARD_TWILIO_URL); serve the webhook locally.

    The public URL is public_url if given, else the one tunnel opens to the webhook's port; when
    the tunnel cannot open, the session still starts (on the local URL) with the reason in notes.
    """
    username, password, account_sid = credentials.client_login()
    client = make_client(username, password, account_sid=account_sid, env=env)
    notes: list[str] = []
    gateway = Gateway(client)
    hook = _start_webhook(credentials.auth_token, on_event, webhook_port, notes, gateway)
    opened = ""
    if tunnel is not None and not public_url:
        try:
            opened = tunnel.open(int(hook.port or 0))
        except TunnelError as error:
            notes.append(f"Tunnel ({tunnel.provider}) not open: {error}")
        except BaseException:
            hook.stop()
            raise
    public = (public_url or opened or hook.local_url).rstrip("/")
    hook.app.config["PUBLIC_URL"] = public
    if not credentials.auth_token:
        notes.append("No Auth Token: the webhook cannot check Twilio's signatures.")
    if not (public_url or opened) and not sandbox_url_from_env(env):
        notes.append("No public URL: Twilio cannot reach this webhook until a tunnel is set up.")
    runtime = Runtime("live", account_sid, gateway, hook, public, notes, tunnel=tunnel)
    runtime.add_cleanup(hook.stop)
    if tunnel is not None:
        runtime.add_cleanup(tunnel.close)  # runs before hook.stop: newest first
    return runtime


def check_credentials(credentials: Credentials) -> str:
    """Ask the API who these credentials belong to; the account's friendly name, or TwilioError."""
    username, password, account_sid = credentials.client_login()
    return Gateway(make_client(username, password, account_sid=account_sid)).check_credentials()
