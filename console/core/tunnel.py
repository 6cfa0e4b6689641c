"""How Twilio reaches the local webhook: the ngrok SDK, a running ngrok agent, or a URL by hand."""

from __future__ import annotations

import inspect
import logging
import queue
import re
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from console.core.public_url import normalize_public_url

if TYPE_CHECKING:  # requests and keyring load when a tunnel is used, not with the preferences
    import requests

    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore

log = logging.getLogger(__name__)

T = TypeVar("T")

ENV_NGROK_AUTHTOKEN = "NGROK_AUTHTOKEN"
DEFAULT_AGENT_API = "http://127.0.0.1:4040"
NGROK_TIMEOUT = 15.0  # seconds the SDK may take to open a tunnel before the caller gives up
AGENT_TIMEOUT = 3.0  # seconds for the agent's local API
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]"})
_NGROK_CODE = re.compile(r"ERR_NGROK_\d+")


class TunnelError(Exception):
    """A tunnel that could not be opened or found, in words the operator can act on.

    kind is one of the self-check kinds: "tunnel-down", "wrong-port", "auth" or "error".
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.message, self.kind = message, kind

    def __str__(self) -> str:
        return self.message


class Tunnel(Protocol):
    """One way to give the webhook a public URL."""

    provider: str

    def open(self, webhook_port: int) -> str:
        """Make the webhook reachable; returns the public URL (no trailing slash)."""
        ...

    def close(self) -> None:
        """Give the public URL up (a no-op where the tunnel is not ours)."""
        ...


class ManualTunnel:
    """A public URL the operator typed in: checked for shape, opened by someone else."""

    provider = "manual"

    def __init__(self, url: str) -> None:
        self.url = url

    def open(self, webhook_port: int) -> str:
        """The typed URL, normalized; TunnelError when it is not a usable base URL."""
        try:
            return normalize_public_url(self.url)
        except ValueError as error:
            raise TunnelError(str(error)) from None

    def close(self) -> None:
        """Nothing to close: the tunnel behind a typed URL is not ours."""


def _forwarded(addr: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) an agent tunnel forwards to; addr as the agent's config gives it."""
    text = str(addr).strip()
    if text.isdigit():
        return "http", "localhost", int(text)
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    port = port if port is not None else {"http": 80, "https": 443}.get(scheme)
    return (scheme, (parts.hostname or "localhost").lower(), port) if port else None


def _in_words(ports: list[int]) -> str:
    words = [str(port) for port in ports]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


class AgentTunnel:
    """A tunnel an ngrok agent already runs, found through the agent's local API."""

    provider = "agent"

    def __init__(
        self,
        api_url: str = DEFAULT_AGENT_API,
        timeout: float = AGENT_TIMEOUT,
        session: requests.Session | None = None,
    ) -> None:
        self.api_url = api_url.strip().rstrip("/")
        self.timeout = timeout
        self._http = session

    def open(self, webhook_port: int) -> str:
        """The public URL of the agent's https tunnel to webhook_port (else its http one)."""
        return self.pick(self.list_tunnels(webhook_port), webhook_port)

    def close(self) -> None:
        """Nothing to close: the agent's tunnels belong to the agent."""

    def list_tunnels(self, webhook_port: int) -> list[Mapping[str, Any]]:
        """The agent's tunnels as GET {api}/api/tunnels lists them."""
        import requests

        start = f"start one with `ngrok http {webhook_port}`"
        try:
            parts = urlsplit(self.api_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError
        except ValueError:
            raise TunnelError(f"not a URL for the ngrok agent's API: {self.api_url!r}") from None
        try:
            http = self._http or requests
            answer = http.get(f"{self.api_url}/api/tunnels", timeout=self.timeout)
        except requests.Timeout:
            raise TunnelError(
                f"tunnel down: the ngrok agent at {self.api_url} did not answer within "
                f"{self.timeout:g} s",
                "tunnel-down",
            ) from None
        except requests.RequestException:
            raise TunnelError(
                f"tunnel down: no ngrok agent answers at {self.api_url}; {start}", "tunnel-down"
            ) from None
        if answer.status_code != 200:
            raise TunnelError(
                f"{self.api_url}/api/tunnels answered HTTP {answer.status_code}; "
                "is that an ngrok agent's API?"
            )
        try:
            tunnels = answer.json()["tunnels"]
            if not isinstance(tunnels, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise TunnelError(
                f"{self.api_url} does not answer like an ngrok agent (no list of tunnels)"
            ) from None
        return [tunnel for tunnel in tunnels if isinstance(tunnel, Mapping)]

    def pick(self, tunnels: list[Mapping[str, Any]], webhook_port: int) -> str:
        """The public URL of the best tunnel to webhook_port, or TunnelError saying why none."""
        web: list[tuple[Mapping[str, Any], tuple[str, str, int]]] = []
        for tunnel in tunnels:
            config = tunnel.get("config")
            addr = config.get("addr") if isinstance(config, Mapping) else None
            target = _forwarded(addr) if addr is not None else None
            if tunnel.get("proto") in ("https", "http") and target and tunnel.get("public_url"):
                web.append((tunnel, target))
        if not web:
            raise TunnelError(
                f"tunnel down: the ngrok agent at {self.api_url} has no web tunnel; "
                f"start one with `ngrok http {webhook_port}`",
                "tunnel-down",
            )
        ours = [(tunnel, target) for tunnel, target in web if target[2] == webhook_port]
        plain = [(tunnel, target) for tunnel, target in ours if target[0] == "http"]
        if ours and not plain:
            raise TunnelError(
                f"wrong port: the agent forwards to https://{ours[0][1][1]}:{webhook_port}, but "
                f"the webhook speaks plain HTTP; start the tunnel with `ngrok http {webhook_port}`",
                "wrong-port",
            )
        if not ours:
            ports = sorted({target[2] for _, target in web})
            raise TunnelError(
                f"wrong port: the agent forwards to {_in_words(ports)}, the webhook listens on "
                f"{webhook_port}",
                "wrong-port",
            )
        plain.sort(
            key=lambda pair: (pair[0].get("proto") != "https", pair[1][1] not in _LOCAL_HOSTS)
        )
        chosen = str(plain[0][0]["public_url"])
        try:
            return normalize_public_url(chosen)
        except ValueError as error:
            raise TunnelError(f"the agent's tunnel has an unusable public URL: {error}") from None


def _redacted(text: str, secret: str) -> str:
    return text.replace(secret, "[authtoken]") if secret else text


def _sdk_message(error: BaseException, authtoken: str) -> TunnelError:
    """The SDK's exception as a TunnelError that never quotes the authtoken."""
    detail = ": ".join(str(arg) for arg in error.args) or type(error).__name__
    detail = _redacted(detail, authtoken)
    codes = _NGROK_CODE.findall(detail)
    lowered = detail.lower()
    if any(code in ("ERR_NGROK_105", "ERR_NGROK_107", "ERR_NGROK_4018") for code in codes) or (
        "authtoken" in lowered or "authentication" in lowered
    ):
        return TunnelError(
            f"ngrok rejected the authtoken; check it in Settings or NGROK_AUTHTOKEN ({detail})",
            "auth",
        )
    if "tcp connection" in lowered or "dns" in lowered or "resolve" in lowered:
        return TunnelError(
            f"tunnel down: ngrok could not reach its service; is this computer online? ({detail})",
            "tunnel-down",
        )
    return TunnelError(f"tunnel down: ngrok could not open a tunnel ({detail})", "tunnel-down")


def _within(timeout: float, work: Callable[[], T], late: Callable[[T], object]) -> T:
    """work() on its own thread, waited for at most timeout s; a late result goes to late()."""
    answers: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    lock = threading.Lock()
    abandoned = False

    def run() -> None:
        try:
            outcome: tuple[bool, Any] = (True, work())
        except BaseException as error:
            outcome = (False, error)
        with lock:
            if not abandoned:
                answers.put(outcome)
                return
        if outcome[0]:
            late(outcome[1])

    threading.Thread(target=run, name="ngrok-sdk", daemon=True).start()
    try:
        succeeded, value = answers.get(timeout=timeout)
    except queue.Empty:
        with lock:
            if answers.empty():
                abandoned = True
                raise TimeoutError from None
        succeeded, value = answers.get_nowait()  # it finished just as the wait ended
    if succeeded:
        return value
    raise value


class NgrokSdkTunnel:
    """A tunnel this process opens with the ngrok SDK (the agent as a library)."""

    provider = "ngrok"

    def __init__(
        self, authtoken: str, domain: str = "", timeout: float = NGROK_TIMEOUT, sdk: Any = None
    ) -> None:
        self._authtoken = authtoken.strip()
        self.domain = domain.strip()
        self.timeout = timeout
        self._sdk = sdk
        self._url = ""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NgrokSdkTunnel(domain={self.domain!r}, url={self._url!r})"

    @property
    def url(self) -> str:
        """The public URL while open, else ""."""
        return self._url

    def _module(self) -> Any:
        if self._sdk is None:
            try:
                import ngrok
            except ImportError:
                raise TunnelError("the ngrok package is missing: pip install ngrok") from None
            self._sdk = ngrok
        return self._sdk

    def open(self, webhook_port: int) -> str:
        """Open an ngrok tunnel to 127.0.0.1:webhook_port; TunnelError within ~timeout s."""
        with self._lock:
            if self._url:
                return self._url
            if not self._authtoken:
                raise TunnelError(
                    "ngrok needs an authtoken: enter it in Settings or set NGROK_AUTHTOKEN", "auth"
                )
            sdk = self._module()
            options: dict[str, Any] = {"authtoken": self._authtoken}
            if self.domain:
                options["domain"] = self.domain
            log.info("opening an ngrok tunnel to port %s", webhook_port)
            try:
                url = _within(
                    self.timeout,
                    lambda: _listener_url(sdk.forward(f"127.0.0.1:{webhook_port}", **options)),
                    self._disconnect_quietly,
                )
            except TimeoutError:
                raise TunnelError(
                    f"tunnel down: ngrok did not open a tunnel within {self.timeout:g} s; "
                    "is this computer online?",
                    "tunnel-down",
                ) from None
            except Exception as error:
                raise _sdk_message(error, self._authtoken) from None
            try:
                self._url = normalize_public_url(url)
            except ValueError as error:
                self._disconnect_quietly(url)
                raise TunnelError(f"ngrok gave an unusable URL: {error}") from None
            log.info("ngrok tunnel open at %s", self._url)
            return self._url

    def close(self) -> None:
        """Close the tunnel this object opened, if any; never raises."""
        with self._lock:
            url, self._url = self._url, ""
        if url:
            self._disconnect_quietly(url)

    def _disconnect_quietly(self, url: str) -> None:
        try:
            _within(self.timeout, lambda: self._module().disconnect(url), lambda _: None)
        except Exception as error:  # only the type: the SDK's text might echo the session
            log.warning("closing the ngrok tunnel %s failed (%s)", url, type(error).__name__)


def _listener_url(listener: Any) -> str:
    """The listener's URL; the SDK hands back an awaitable when an event loop is running."""
    if inspect.isawaitable(listener):
        import asyncio

        async def wait() -> Any:
            return await listener

        listener = asyncio.run(wait())
    return str(listener.url())


def ngrok_authtoken(secrets: SecretStore, env: Mapping[str, str]) -> tuple[str, str]:
    """(authtoken, where it came from): NGROK_AUTHTOKEN wins over the keyring, as Twilio's do."""
    from console.core.credentials import ENVIRONMENT, stored_origin
    from console.core.secrets_store import NGROK_AUTHTOKEN

    from_env = env.get(ENV_NGROK_AUTHTOKEN, "").strip()
    if from_env:
        return from_env, ENVIRONMENT
    stored = secrets.get(NGROK_AUTHTOKEN)
    return (stored, stored_origin(secrets)) if stored else ("", "")


def make_tunnel(
    preferences: Preferences, secrets: SecretStore, env: Mapping[str, str]
) -> Tunnel | None:
    """The tunnel the operator chose in Settings; None for "none" (the local URL is public)."""
    provider = preferences.tunnel_provider
    if provider == "ngrok":
        return NgrokSdkTunnel(ngrok_authtoken(secrets, env)[0], preferences.ngrok_domain)
    if provider == "agent":
        return AgentTunnel(preferences.ngrok_api_url)
    if provider == "manual":
        return ManualTunnel(preferences.public_url)
    return None
