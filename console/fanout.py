"""Many reads side by side on one event-loop thread, with twilio's asyncio client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from aiohttp import ClientError
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from console.twilio_http import REQUEST_TIMEOUT, rewrite_url

T = TypeVar("T")
R = TypeVar("R")
NETWORK_ERRORS = (ClientError, TimeoutError)  # what aiohttp raises when Twilio is unreachable


class AsyncHttpClient(AsyncTwilioHttpClient):
    """twilio's asyncio client with a timeout on every request, sending to base_url if set."""

    def __init__(self, base_url: str = "", timeout: float = REQUEST_TIMEOUT) -> None:
        super().__init__(timeout=timeout)  # opens an aiohttp session: call inside the loop
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


RetryDecision = Callable[[BaseException, int], float]  # (error, tries so far) -> delay or raise


def run_side_by_side(
    client: Client,
    read: Callable[[Client, T], Awaitable[R]],
    items: Sequence[T],
    limit: int,
    retry_after: RetryDecision,
    sleep: Callable[[float], object],
) -> list[R]:
    """read(async client, item) for every item, at most `limit` in flight, results in order.

    Runs its own event loop on the calling thread, so the Python work of every answer happens
    on this one thread, however many requests are in flight. A read that fails with a Twilio
    or network error asks retry_after for a delay (it raises to give up); sleep waits it out
    on a helper thread, so an injected sleep works as it does for the other reads.
    """

    async def one(twin: Client, gate: asyncio.Semaphore, item: T) -> R:
        tries = 0
        while True:
            async with gate:
                try:
                    return await read(twin, item)
                except (TwilioException, *NETWORK_ERRORS) as error:
                    tries += 1
                    delay = retry_after(error, tries)
            await asyncio.to_thread(sleep, delay)

    async def every() -> list[R]:
        twin = async_twin(client)
        gate = asyncio.Semaphore(limit)
        try:
            async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
                tasks = [group.create_task(one(twin, gate, item)) for item in items]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        finally:
            await twin.http_client.close()
        return [task.result() for task in tasks]

    return asyncio.run(every())
