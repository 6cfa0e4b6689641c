"""Signed HTTP from the sandbox to webhooks: TwiML fetches and ordered status callbacks."""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)

USER_AGENT = "TwilioProxy/1.1 (Switchboard sandbox)"


class WebhookFailed(Exception):
    """A webhook could not be reached, answered non-2xx, or took too long (Twilio's 11200)."""


@dataclass(frozen=True)
class WebhookAnswer:
    """What a webhook answered: status, content type and body text."""

    status: int
    content_type: str
    text: str


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    extra = urlencode(list(params.items()))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class SignedSender:
    """Sends requests signed with X-Twilio-Signature, as Twilio does, one session per thread."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def send(
        self, url: str, params: Mapping[str, str], method: str = "POST", timeout: float = 15.0
    ) -> WebhookAnswer:
        """Send params to url with a valid signature; raise WebhookFailed on any failure."""
        fields = dict(params)
        headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        try:
            if method.upper() == "GET":
                full = _with_query(url, fields)
                headers["X-Twilio-Signature"] = self._validator.compute_signature(full, {})
                response = self._session().get(full, headers=headers, timeout=timeout)
            else:
                headers["X-Twilio-Signature"] = self._validator.compute_signature(url, fields)
                response = self._session().post(url, data=fields, headers=headers, timeout=timeout)
        except requests.Timeout:
            raise WebhookFailed(f"{url} did not answer within {timeout:g} seconds") from None
        except requests.RequestException as error:
            raise WebhookFailed(f"{url} could not be reached: {error}") from None
        if not 200 <= response.status_code < 300:
            raise WebhookFailed(f"{url} answered HTTP {response.status_code}")
        content_type = response.headers.get("Content-Type", "")
        return WebhookAnswer(response.status_code, content_type, response.text)


class CallbackDispatcher:
    """Delivers status callbacks off the caller's thread, in order for each call or room."""

    def __init__(self, sender: SignedSender, workers: int = 4, timeout: float = 10.0) -> None:
        self._sender = sender
        self._timeout = timeout
        self._queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(workers)]
        self._threads = [
            threading.Thread(
                target=self._run, args=(q,), name=f"sandbox-callbacks-{i}", daemon=True
            )
            for i, q in enumerate(self._queues)
        ]
        self._pending = 0
        self._closing = False
        self._idle = threading.Condition()
        for thread in self._threads:
            thread.start()

    def submit(self, key: str, url: str, params: Mapping[str, str], method: str = "POST") -> None:
        """Queue one callback; callbacks with the same key go out in the order submitted."""
        if not url:
            return
        with self._idle:
            self._pending += 1
        index = zlib.crc32(key.encode()) % len(self._queues)
        self._queues[index].put((url, dict(params), method))

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queued callback was attempted; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def begin_closing(self) -> None:
        """The account is shutting down: a webhook that is already gone is no news."""
        self._closing = True

    def close(self) -> None:
        """Stop the delivery threads after what is queued."""
        self._closing = True
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(1.0)

    def _run(self, q: queue.SimpleQueue) -> None:
        while (item := q.get()) is not None:
            url, params, method = item
            try:
                self._sender.send(url, params, method, timeout=self._timeout)
            except WebhookFailed as error:
                level = logging.DEBUG if self._closing else logging.WARNING
                log.log(level, "status callback failed: %s", error)
            except Exception:
                log.exception("status callback to %s crashed", url)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
