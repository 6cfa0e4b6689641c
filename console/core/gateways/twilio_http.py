"""A twilio.http client that sends the SDK's requests to a sandbox instead of twilio.com."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from requests.adapters import HTTPAdapter
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

ENV_URL = "SWITCHBOARD_TWILIO_URL"
POOL_SIZE = 16  # connections kept per host: one for each background job, or refresh request
REQUEST_TIMEOUT = 30.0  # seconds; a request never hangs a worker for ever
# https://video.twilio.com, https://api.twilio.com, and edge/region variants such as
# https://api.dublin.ie1.twilio.com or https://video.us1.twilio.com.
_TWILIO_HOST = re.compile(r"^https://(?:[a-z0-9-]+\.)+twilio\.com(?::443)?(?=/|$)", re.IGNORECASE)


def rewrite_url(url: str, base_url: str) -> str:
    """The same URL with a Twilio host swapped for base_url; other URLs are left alone."""
    return _TWILIO_HOST.sub(base_url.rstrip("/"), url, count=1)


class SandboxHttpClient(TwilioHttpClient):
    """Performs the SDK's requests against base_url (e.g. http://127.0.0.1:8079)."""

    def __init__(self, base_url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args, **kwargs) -> Response:
        """Send the request to the sandbox with the Twilio host swapped out."""
        return super().request(method, rewrite_url(url, self.base_url), *args, **kwargs)


def sandbox_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """SWITCHBOARD_TWILIO_URL, or '' when the SDK should talk to Twilio itself."""
    return (env if env is not None else os.environ).get(ENV_URL, "").strip()


def make_client(
    username: str,
    password: str,
    account_sid: str | None = None,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Client:
    """A twilio.rest.Client; it talks to base_url, else SWITCHBOARD_TWILIO_URL, else Twilio.

    username/password are the Account SID and Auth Token, or an API Key SID and secret (then
    account_sid names the account).
    """
    target = base_url or sandbox_url_from_env(env)
    http_client = (
        SandboxHttpClient(target, timeout=timeout) if target else TwilioHttpClient(timeout=timeout)
    )
    if http_client.session is not None:  # keep a connection for each of the refresh workers
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
        http_client.session.mount("https://", adapter)
        http_client.session.mount("http://", adapter)
    return Client(username, password, account_sid=account_sid, http_client=http_client)
