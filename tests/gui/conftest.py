"""Fixtures for window tests: a whole console session in sandbox mode, shown offscreen."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from PySide6.QtCore import Qt

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
    """The gateways' refresh threads (console.core.gateways.fanout) that are running."""
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


def right_click(qtbot, view, row: int, column: int = 0):
    """Right-click a row as a mouse does (through the window), and return the menu that opens."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    window = view.window()
    point = view.visualRect(view.model().index(row, column)).center()
    at = view.viewport().mapTo(window, point)
    QTest.mouseClick(
        window.windowHandle(), Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier, at
    )
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=2000)
    return QApplication.activePopupWidget()


def menu_texts(menu) -> list[str]:
    """A menu's entries as shown (mnemonics removed), separators left out."""
    return [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]


def offers(menu, *entries: str) -> bool:
    """Whether a menu offers these entries, in this order (other entries may come between)."""
    shown = iter(menu_texts(menu))
    return all(any(entry == text for text in shown) for entry in entries)


def choose(qtbot, menu, text: str) -> None:
    """Click the entry of an open menu (or of its submenu, as 'Move to/Breakout')."""
    from PySide6.QtTest import QTest

    first, _, rest = text.partition("/")
    (action,) = [a for a in menu.actions() if a.text().replace("&", "") == first]
    point = menu.actionGeometry(action).center()
    QTest.mouseClick(
        menu.windowHandle(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    if rest:
        qtbot.waitUntil(lambda: action.menu().isVisible(), timeout=2000)
        choose(qtbot, action.menu(), rest)


HOLD_EVERYONE = '[[route]]\nnumber = "*"\nhold = true\n\n[callers]\n"+14155550100" = "alice"\n'


@pytest.fixture
def hold_routes(user_dirs):
    """Every incoming call waits for the operator (the routes file the console's webhook reads)."""
    from webhook.routes_file import default_routes_path

    path = default_routes_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HOLD_EVERYONE)
    return path


def ring_waiting_caller(qtbot, session, caller: str = "+14155550100") -> str:
    """A caller rings +15005550006 (routed to the console) and waits; returns the CallSid."""
    runtime = session.runtime
    line = next(n for n in runtime.gateway.list_numbers() if n.number == "+15005550006")
    public = runtime.public_url
    runtime.gateway.set_voice_url(line.sid, f"{public}/voice/incoming", f"{public}/voice/status")
    sid = sandbox_control(session, "IncomingCalls", From=caller, To="+15005550006")["sid"]
    model = session.window.routing.waiting_model
    qtbot.waitUntil(lambda: model.caller(sid) is not None, timeout=10_000)
    return sid


def sandbox_get(session: ConsoleSession, path: str) -> dict:
    """GET one of the sandbox's control endpoints (what a caller heard, errors)."""
    runtime = session.runtime
    token = runtime.gateway._client.password
    answer = requests.get(
        f"{runtime.sandbox_url}/sandbox/{path}", auth=(runtime.account_sid, token), timeout=5
    )
    answer.raise_for_status()
    return answer.json()
