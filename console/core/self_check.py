"""Checks that the webhook answers through its public URL, and keeps the tunnel up when not."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from twilio.request_validator import RequestValidator

from console.core.tunnel import Tunnel, TunnelError

log = logging.getLogger(__name__)

KINDS = ("ok", "tunnel-down", "wrong-port", "auth", "error")
CHECK_TIMEOUT = 5.0
# ngrok's edge answers for the tunnel with these when the upstream port refuses or is not HTTP.
_NGROK_WRONG_PORT = frozenset({"ERR_NGROK_8012", "ERR_NGROK_3004"})
_HEADERS = {"User-Agent": "switchboard-self-check", "ngrok-skip-browser-warning": "1"}


@dataclass(frozen=True)
class CheckResult:
    """One self-check: ok, the reason in words, its kind (see KINDS), and the URL checked."""

    ok: bool
    reason: str
    kind: str = "ok"
    public_url: str = ""


def _failed(kind: str, reason: str, base: str) -> CheckResult:
    return CheckResult(False, reason, kind, base)


def _unreachable(error: requests.RequestException, base: str, timeout: float) -> CheckResult:
    host = urlsplit(base).hostname or base
    if isinstance(error, requests.Timeout):
        why = f"no answer within {timeout:g} s"
    elif isinstance(error, requests.exceptions.SSLError):
        why = "the TLS handshake failed"
    elif isinstance(error, requests.ConnectionError):
        text = str(error)
        if "NameResolution" in text or "Name or service not known" in text:
            why = f"{host} does not resolve"
        elif "Connection refused" in text or "ConnectionRefused" in text:
            why = "connection refused"
        else:
            why = "no connection"
    else:
        return _failed("error", f"self-check failed: {type(error).__name__}", base)
    return _failed("tunnel-down", f"tunnel down: nothing answers at {base} ({why})", base)


def _edge_problem(answer: requests.Response, base: str) -> CheckResult | None:
    """A failure the tunnel itself reports (ngrok error pages, auth in front, redirects)."""
    code = answer.headers.get("ngrok-error-code", "")
    status = answer.status_code
    if code in _NGROK_WRONG_PORT:
        return _failed(
            "wrong-port",
            f"wrong port: the tunnel is up but nothing usable answers on the port it forwards to "
            f"(HTTP {status}, {code})",
            base,
        )
    if status in (401, 407):
        return _failed(
            "auth",
            f"auth failing: {base} asks for a login (HTTP {status}) before the webhook",
            base,
        )
    if 300 <= status < 400:
        where = answer.headers.get("Location", "elsewhere")
        return _failed(
            "auth", f"auth failing: {base} redirects to {where} (a login in front of it?)", base
        )
    if code:
        what = "the endpoint is offline" if code == "ERR_NGROK_3200" else f"HTTP {status}"
        return _failed("tunnel-down", f"tunnel down: ngrok says {what} ({code})", base)
    return None


def _same_base(one: str, other: str) -> bool:
    return one.strip().rstrip("/").lower() == other.strip().rstrip("/").lower()


def _ask(
    session: requests.Session | None,
    method: str,
    url: str,
    base: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    **options: object,
) -> requests.Response | CheckResult:
    """Send one check request (no redirects followed); the answer, or why it did not come back
    from our webhook (unreachable, or the tunnel's edge answered instead)."""
    try:
        answer = (session or requests).request(
            method,
            url,
            headers={**_HEADERS, **(headers or {})},
            timeout=timeout,
            allow_redirects=False,
            **options,
        )
    except requests.RequestException as error:
        return _unreachable(error, base, timeout)
    problem = _edge_problem(answer, base)
    return answer if problem is None else problem


def check_public_webhook(
    public_url: str, timeout: float = CHECK_TIMEOUT, session: requests.Session | None = None
) -> CheckResult:
    """GET {public}/health?nonce=… through the tunnel; ok when our webhook echoes the nonce."""
    base = public_url.strip().rstrip("/")
    nonce = secrets.token_hex(8)
    answer = _ask(session, "GET", f"{base}/health", base, timeout, params={"nonce": nonce})
    if isinstance(answer, CheckResult):
        return answer
    if answer.status_code == 403:
        return _failed("auth", f"auth failing: {base} answered HTTP 403 to the health check", base)
    if answer.status_code == 404:
        return _failed(
            "wrong-port",
            f"wrong port: something else answers on that port ({base}/health is HTTP 404)",
            base,
        )
    if answer.status_code != 200:
        return _failed("error", f"the webhook answered HTTP {answer.status_code} at {base}", base)
    try:
        body = answer.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("nonce") != nonce:
        return _failed(
            "wrong-port",
            "wrong port: something else answers on that port (not Switchboard's health check)",
            base,
        )
    reported = body.get("public_url")
    if isinstance(reported, str) and reported and not _same_base(reported, base):
        return _failed(
            "auth",
            f"auth failing: the webhook checks signatures against {reported}, not {base}",
            base,
        )
    return CheckResult(True, f"the webhook answers through {base}", "ok", base)


def check_signed_webhook(
    public_url: str,
    auth_token: str,
    timeout: float = CHECK_TIMEOUT,
    session: requests.Session | None = None,
) -> CheckResult:
    """POST a request signed with auth_token to {public}/voice/status; ok when it gets 204."""
    base = public_url.strip().rstrip("/")
    url = f"{base}/voice/status"
    fields = {"SwitchboardSelfCheck": secrets.token_hex(8)}  # no CallSid: no call's row changes
    signature = RequestValidator(auth_token).compute_signature(url, fields)
    signed = {"X-Twilio-Signature": signature}
    answer = _ask(session, "POST", url, base, timeout, headers=signed, data=fields)
    if isinstance(answer, CheckResult):
        return answer
    if answer.status_code == 403:
        return _failed(
            "auth",
            "auth failing: the webhook rejected a request signed with this Auth Token "
            "(it has another token, or checks another public URL)",
            base,
        )
    if answer.status_code == 404:
        return _failed(
            "wrong-port", f"wrong port: something else answers on that port ({url} is 404)", base
        )
    if answer.status_code != 204:
        return _failed("error", f"the webhook answered HTTP {answer.status_code} at {url}", base)
    return CheckResult(True, f"signed requests through {base} are accepted", "ok", base)


def check_tunnel(
    public_url: str,
    auth_token: str = "",
    timeout: float = CHECK_TIMEOUT,
    session: requests.Session | None = None,
) -> CheckResult:
    """The health check, then (with an Auth Token) the signature check, both through the tunnel."""
    result = check_public_webhook(public_url, timeout, session)
    if result.ok and auth_token:
        signed = check_signed_webhook(public_url, auth_token, timeout, session)
        if not signed.ok:
            return signed
        return CheckResult(True, f"{result.reason}; signatures check out", "ok", result.public_url)
    return result


class TunnelWatcher:
    """Re-checks the webhook through the tunnel; on failure re-detects or reconnects the tunnel.

    Plain object, no Qt: the GUI calls check() from its background pool (e.g. every minute).
    The signature check runs at first and whenever the previous check failed or the URL changed.
    """

    def __init__(
        self,
        public_url: str,
        webhook_port: int,
        tunnel: Tunnel | None = None,
        auth_token: str = "",
        on_public_url: Callable[[str], object] | None = None,
        timeout: float = CHECK_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self._public_url = public_url.strip().rstrip("/")
        self._port = webhook_port
        self._tunnel = tunnel
        self._auth_token = auth_token
        self._on_public_url = on_public_url
        self._timeout = timeout
        self._session = session
        self._last: CheckResult | None = None
        self._lock = threading.Lock()

    @property
    def public_url(self) -> str:
        """The public URL now in use (it changes when a reconnect gives a new one)."""
        return self._public_url

    @property
    def last(self) -> CheckResult | None:
        """The latest result, or None before the first check."""
        return self._last

    def check(self) -> CheckResult:
        """Check once; if that fails, reopen the tunnel and check again. Never raises."""
        with self._lock:
            try:
                signed = self._last is None or not self._last.ok
                result = self._probe(signed)
                if not result.ok and self._tunnel is not None and self._tunnel.provider != "manual":
                    result = self._reopen(result)
            except Exception as error:  # a self-check must never take the console down
                log.exception("tunnel self-check failed")
                result = _failed("error", f"self-check failed: {type(error).__name__}", "")
            self._last = result
            return result

    def _probe(self, signed: bool) -> CheckResult:
        if not self._public_url:
            return _failed("tunnel-down", "tunnel down: there is no public URL yet", "")
        token = self._auth_token if signed else ""
        return check_tunnel(self._public_url, token, self._timeout, self._session)

    def _reopen(self, failed: CheckResult) -> CheckResult:
        assert self._tunnel is not None
        log.info(
            "self-check failed (%s); reopening the %s tunnel", failed.reason, self._tunnel.provider
        )
        self._tunnel.close()
        try:
            url = self._tunnel.open(self._port)
        except TunnelError as error:
            return _failed(error.kind, f"{failed.reason}; reopening: {error}", self._public_url)
        if url != self._public_url:
            log.info("the tunnel's public URL is now %s", url)
            self._public_url = url
            if self._on_public_url is not None:
                self._on_public_url(url)
        return self._probe(signed=True)
