"""The checks behind `switchboard doctor`: credentials, webhook, tunnel, and the way through."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from console.core.credentials import (
    Credentials,
    describe_sources,
    part_sources,
    resolve_credentials,
)
from console.core.gateways.twilio_http import sandbox_url_from_env
from console.core.preferences import Preferences
from console.core.secrets_store import SecretStore
from console.core.self_check import CheckResult, check_public_webhook, check_signed_webhook
from console.core.tunnel import AgentTunnel, Tunnel, TunnelError, make_tunnel, ngrok_authtoken

LOCAL_TIMEOUT = 3.0
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass
class Check:
    """One line of the report; ok None means not applicable (neither green nor red)."""

    name: str
    ok: bool | None
    detail: str


@dataclass
class Report:
    """Everything doctor found, as lines for a person or one JSON object."""

    mode: str = "sandbox"
    mode_detail: str = ""
    api: str = ""
    account_sid: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    tunnel: dict[str, Any] = field(default_factory=dict)
    signatures: dict[str, Any] = field(default_factory=dict)
    database: dict[str, Any] | None = None  # the team database, when one is given
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check that applies is green."""
        return all(check.ok is not False for check in self.checks)

    def add(self, name: str, ok: bool | None, detail: str) -> bool | None:
        """Record one check; returns ok."""
        self.checks.append(Check(name, ok, detail))
        return ok

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON-ready object (no secrets in it)."""
        return {
            "ok": self.ok,
            "mode": self.mode,
            "api": self.api,
            "account_sid": self.account_sid,
            "credentials": {"sources": self.sources},
            "webhook": self.webhook,
            "tunnel": self.tunnel,
            "signatures": self.signatures,
            **({"database": self.database} if self.database is not None else {}),
            "checks": [vars(check) for check in self.checks],
        }

    def lines(self) -> list[str]:
        """One line per check, ✓ or ✗ (– where a check does not apply), then a verdict."""
        marks = {True: "✓", False: "✗", None: "–"}
        out = [f"• mode: {self.mode_detail}"]
        out += [f"{marks[c.ok]} {c.name}: {c.detail}" for c in self.checks]
        failed = sum(check.ok is False for check in self.checks)
        plural = "s" if failed > 1 else ""
        verdict = f"{failed} check{plural} failed: a live call would not work yet."
        out.append(verdict if failed else "Ready for live calls.")
        return out


def probe_webhook(port: int) -> tuple[str, str]:
    """("", the public URL it reports) if our webhook answers on 127.0.0.1:port, else (why, "")."""
    if not 0 < port <= 65535:
        return "no port to check (the webhook takes any free port): pass --webhook-port", ""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=LOCAL_TIMEOUT).close()
    except OSError:
        return (
            f"nothing listens on 127.0.0.1:{port}; start the console or `switchboard webhook`",
            "",
        )
    nonce = secrets.token_hex(8)
    try:
        answer = requests.get(
            f"http://127.0.0.1:{port}/health", params={"nonce": nonce}, timeout=LOCAL_TIMEOUT
        )
        body = answer.json()
    except (requests.RequestException, ValueError):
        body = None
    if not isinstance(body, dict) or body.get("nonce") != nonce:
        return f"port {port} is taken by something that is not Switchboard's webhook", ""
    return "", str(body.get("public_url") or "")


def _is_local(url: str, port: int) -> bool:
    """Whether url is the webhook's own loopback URL (so no tunnel is behind it)."""
    return url.rstrip("/") in ("", *(f"http://{host}:{port}" for host in _LOOPBACK))


def _on_this_computer(url: str) -> bool:
    """Whether url is a sandbox on loopback, which reaches a local webhook without a tunnel."""
    return bool(url) and (urlsplit(url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def _credentials(
    report: Report, preferences: Preferences, store: SecretStore, env: Mapping[str, str]
) -> Credentials | None:
    from console.core.runtime import check_credentials

    report.sources = part_sources(preferences, store, env)
    credentials = resolve_credentials(preferences, store, env)
    sandbox_api = sandbox_url_from_env(env)
    report.api = f"sandbox API at {sandbox_api}" if sandbox_api else "Twilio"
    if credentials is None:
        report.mode_detail = "sandbox (no usable Twilio credentials, so no live calls)"
        report.add("credentials", False, describe_sources(report.sources))
        report.add("credential check", None, "skipped: no credentials")
        return None
    report.mode, report.account_sid = "live", credentials.account_sid
    report.mode_detail = f"live, account {credentials.account_sid}, API: {report.api}"
    report.add("credentials", True, describe_sources(report.sources))
    try:
        name = check_credentials(credentials)
    except Exception as error:  # TwilioError, or anything the SDK let through
        report.add("credential check", False, f"{report.api} refused them: {error}")
    else:
        report.add("credential check", True, f"{report.api} accepts them (account “{name}”)")
    return credentials


def _open_tunnel(
    report: Report, tunnel: Tunnel | None, port: int, reported: str, sandbox_api: bool
) -> tuple[str, Tunnel | None]:
    """(public URL, tunnel to close afterwards) or ("", None) with the reason in report.tunnel."""
    provider = tunnel.provider if tunnel is not None else "none"
    report.tunnel = {
        "provider": provider,
        "public_url": None,
        "reachable": False,
        "error": None,
        "kind": "tunnel-down",
    }
    if not 0 < port <= 65535:
        report.tunnel["error"] = "no webhook port to look for: pass --webhook-port"
        return "", None
    if tunnel is None:
        if sandbox_api:  # a sandbox on this computer reaches the webhook without a tunnel
            return f"http://127.0.0.1:{port}", None
        report.tunnel["error"] = "no tunnel: Twilio cannot reach a webhook on this computer"
        return "", None
    if provider == "ngrok" and not _is_local(reported, port):
        return reported, None  # the running console's own tunnel
    try:
        return tunnel.open(port), tunnel
    except TunnelError as error:
        report.tunnel.update(error=str(error), kind=error.kind)
        return "", None


def diagnose(
    preferences: Preferences,
    store: SecretStore,
    env: Mapping[str, str],
    webhook_port: int | None = None,
    ngrok_api: str | None = None,
) -> Report:
    """Run every check; ngrok_api forces the running-agent provider at that URL."""
    report = Report()
    credentials = _credentials(report, preferences, store, env)

    port = preferences.webhook_port if webhook_port is None else webhook_port
    problem, reported = probe_webhook(port)
    report.webhook = {"port": port, "listening": not problem, "error": problem or None}
    if not problem:
        report.webhook["public_url"] = reported
    report.add("webhook", not problem, problem or f"listening on http://127.0.0.1:{port}")

    sandbox_api = sandbox_url_from_env(env)
    unneeded = not ngrok_api and _on_this_computer(sandbox_api) and not preferences.tunnel_chosen
    if ngrok_api:
        tunnel: Tunnel | None = AgentTunnel(ngrok_api)
    elif unneeded:
        tunnel = None  # the sandbox reaches the webhook on loopback: no tunnel is needed
    else:
        tunnel = make_tunnel(preferences, store, env)
    public, opened = _open_tunnel(report, tunnel, port, reported, bool(sandbox_api))
    try:
        _through_tunnel(report, public, credentials, tunnel, store, env, unneeded)
    finally:
        if opened is not None:
            opened.close()
    return report


def _through_tunnel(
    report: Report,
    public: str,
    credentials: Credentials | None,
    tunnel: Tunnel | None,
    store: SecretStore,
    env: Mapping[str, str],
    unneeded: bool = False,
) -> None:
    provider = report.tunnel["provider"]
    where = ""
    if provider == "ngrok":
        where = f", authtoken from {ngrok_authtoken(store, env)[1] or 'nowhere'}"
    elif provider == "agent" and isinstance(tunnel, AgentTunnel):
        where = f", agent API at {tunnel.api_url}"
    if not public:
        report.add("tunnel", False, f"{provider}{where}: {report.tunnel['error']}")
        report.add("through the tunnel", False, "not checked: no public URL")
        report.signatures = {"ok": None, "error": "not checked: no public URL"}
        return
    report.tunnel["public_url"] = public
    if unneeded:
        where = f" (the sandbox at {sandbox_url_from_env(env)} calls it on this computer)"
        report.add("tunnel", True, f"not needed{where}: {public}")
    else:
        report.add("tunnel", True, f"{provider}{where}: {public}")
    result: CheckResult = check_public_webhook(public)
    report.tunnel.update(reachable=result.ok, error=None if result.ok else result.reason)
    report.tunnel["kind"] = result.kind
    report.add("through the tunnel", result.ok, result.reason)
    token = credentials.auth_token if credentials is not None else ""
    if not result.ok or not token:
        why = "no Auth Token to sign with" if result.ok else "the webhook is not reachable"
        report.signatures = {"ok": None, "error": f"not checked: {why}"}
        report.add("signatures", None, f"not checked: {why}")
        return
    signed = check_signed_webhook(public, token)
    report.signatures = {"ok": signed.ok, "error": None if signed.ok else signed.reason}
    report.add("signatures", signed.ok, signed.reason)
