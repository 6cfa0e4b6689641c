"""Many reads side by side on one event-loop thread, with twilio's asyncio client."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiohttp import ClientError, ClientSession, TCPConnector
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from console.core.gateways.twilio_http import POOL_SIZE, REQUEST_TIMEOUT, rewrite_url

T = TypeVar("T")
R = TypeVar("R")
NETWORK_ERRORS = (ClientError, TimeoutError)  # what aiohttp raises when Twilio is unreachable


class AsyncHttpClient(AsyncTwilioHttpClient):
    """twilio's asyncio client with a timeout on every request, sending to base_url if set."""

    def __init__(self, base_url: str = "", timeout: float = REQUEST_TIMEOUT) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        # Call inside the loop: an aiohttp session belongs to the loop it was made on.
        self.session = ClientSession(connector=TCPConnector(limit=POOL_SIZE))
        self.base_url = base_url.rstrip("/")

    async def request(self, method: str, url: str, **kwargs: Any) -> Response:
        """The SDK's request, sent to the sandbox if there is one, never without a timeout.

        The credentials go in an Authorization header of our own making: aiohttp deprecates
        the BasicAuth object the parent class would build from them.
        """
        auth = kwargs.pop("auth", None)
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Basic {token}"}
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        target = rewrite_url(url, self.base_url) if self.base_url else url
        return await super().request(method, target, **kwargs)


def async_twin(client: Client) -> Client:
    """A Client for the same account, host and timeout as `client`, on the asyncio client."""
    sync_http = client.http_client
    http = AsyncHttpClient(
        getattr(sync_http, "base_url", ""), getattr(sync_http, "timeout", None) or REQUEST_TIMEOUT
    )
    return Client(
        client.username,
        client.password,
        account_sid=client.account_sid,
        region=client.region,
        edge=client.edge,
        http_client=http,
    )


CLOSE_WAIT = 2.0  # seconds close() waits for the loop to finish its requests and stop


@dataclass(frozen=True)
class Reads(Generic[T, R]):
    """read(async client, item) for every item, at most `limit` in flight.

    A read that fails with a Twilio or network error asks retry_after(error, tries so far) for
    a delay (it raises to give up); sleep waits it out on a helper thread, so an injected sleep
    works as it does for the other reads.
    """

    read: Callable[[Client, T], Awaitable[R]]
    items: Sequence[T]
    limit: int
    retry_after: Callable[[BaseException, int], float]
    sleep: Callable[[float], object]


class FanOut:
    """Batches of reads side by side on one event-loop thread that lives as long as its gateway.

    The Python work of every answer happens on that one thread, however many requests are in
    flight, so the GUI thread shares the interpreter with one busy thread, not one per request.
    The thread starts with the first batch, and its aiohttp session keeps connections open from
    one batch to the next, as the SDK's own session does for the other requests.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._twin: Client | None = None  # made on the loop: an aiohttp session has one loop
        self._closed = False

    def run(self, reads: Reads[T, R]) -> list[R]:
        """The results of every read, in order; the first failure given up cancels the rest."""
        loop = self._started()
        return asyncio.run_coroutine_threadsafe(self._batch(reads), loop).result()

    def close(self) -> None:
        """Cancel what is in flight, close the connections and end the thread."""
        with self._lock:
            loop, thread, self._closed = self._loop, self._thread, True
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(lambda: loop.create_task(self._shut_down(loop)))
        if thread is not threading.current_thread():
            thread.join(CLOSE_WAIT)

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the gateway is closed")
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=_serve, args=(self._loop,), name="twilio-fanout", daemon=True
                )
                self._thread.start()
            return self._loop

    async def _batch(self, reads: Reads[T, R]) -> list[R]:
        if self._twin is None:
            self._twin = async_twin(self._client)
        twin, gate = self._twin, asyncio.Semaphore(reads.limit)

        async def one(item: T) -> R:
            tries = 0
            while True:
                async with gate:
                    try:
                        return await reads.read(twin, item)
                    except (TwilioException, *NETWORK_ERRORS) as error:
                        tries += 1
                        delay = reads.retry_after(error, tries)
                await asyncio.to_thread(reads.sleep, delay)

        try:
            async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
                tasks = [group.create_task(one(item)) for item in reads.items]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _shut_down(self, loop: asyncio.AbstractEventLoop) -> None:
        others = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        if self._twin is not None:
            await self._twin.http_client.close()
            self._twin = None
        loop.stop()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The fan-out thread: runs the loop until close() stops it, then frees it."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        loop.close()
