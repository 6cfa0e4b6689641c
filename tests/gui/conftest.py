"""Fixtures for window tests: a whole console session in sandbox mode, shown offscreen."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from console.app import ConsoleSession, open_console

RING_DELAY = 0.05


@pytest.fixture
def session(qtbot, preferences, secrets) -> Iterator[ConsoleSession]:
    """The real window against the in-process sandbox and webhook, with a short ring."""
    preferences.webhook_port = 0
    preferences.refresh_interval = 1
    earlier = set(fanout_threads())
    console = open_console(preferences, secrets, {}, force_sandbox=True, ring_delay=RING_DELAY)
    qtbot.addWidget(console.window)
    console.window.show()
    qtbot.waitExposed(console.window)
    yield console
    console.window.close()
    assert console.shutdown(), "background work did not finish at shutdown"
    assert set(fanout_threads()) <= earlier, "the refresh's event-loop thread outlived the session"


def fanout_threads() -> list[threading.Thread]:
    """The gateways' refresh threads (console.core.fanout) that are running."""
    return [t for t in threading.enumerate() if t.name == "twilio-fanout" and t.is_alive()]


def sandbox_control(session: ConsoleSession, path: str, **fields: object) -> dict:
    """POST to one of the sandbox's control endpoints over HTTP, as an operator's curl would."""
    runtime = session.runtime
    token = runtime.gateway._client.password  # the sandbox's own test token
    answer = requests.post(
        f"{runtime.sandbox_url}/sandbox/{path}",
        auth=(runtime.account_sid, token),
        data={k: str(v) for k, v in fields.items()},
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()
