"""An older call history is upgraded at start-up while the window shows how far it is."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from console.app import open_console
from console.core.calls import history_schema
from console.core.calls.history import CallHistory, default_path
from tests.helpers.old_history import sid_of, write_version_1

CALLS = 3_000
WAIT = 30_000


def test_the_window_shows_an_old_historys_upgrade_as_it_goes(
    qtbot, preferences, secrets, monkeypatch
):
    path = default_path()
    path.parent.mkdir(parents=True)
    write_version_1(path, CALLS)
    monkeypatch.setattr(history_schema, "UPGRADE_BATCH", 500)
    preferences.webhook_port = 0
    console = open_console(preferences, secrets, {}, force_sandbox=True, wait=False)
    qtbot.addWidget(console.window)
    console.window.show()
    qtbot.waitExposed(console.window)
    status = console.window.status
    messages: list[str] = []
    status.messageChanged.connect(messages.append)
    bar: list[tuple[int, int, bool]] = []
    status.upgrade.valueChanged.connect(
        lambda value: bar.append((value, status.upgrade.maximum(), status.upgrade.isVisible()))
    )
    upgrading_on: set[threading.Thread] = set()
    console.bridge.history_progressed.connect(
        lambda *_: upgrading_on.add(threading.current_thread()), Qt.ConnectionType.DirectConnection
    )
    try:
        console.start_in_background()
        qtbot.waitUntil(lambda: console.runtime is not None, timeout=WAIT)
        qtbot.waitUntil(lambda: any(m.startswith("Call history ready") for m in messages))
        upgrading = [m for m in messages if m.startswith("Upgrading the call history")]
        assert upgrading == [
            f"Upgrading the call history: indexing {done:,} of {CALLS:,} calls…"
            for done in range(0, CALLS, 500)
        ]
        assert "Call history ready: 3,000 calls searchable" in messages
        assert bar[-1] == (2_500, CALLS, True) and not status.upgrade.isVisible()
        assert threading.main_thread() not in upgrading_on  # the window kept answering
    finally:
        console.window.close()
        assert console.shutdown()
    with CallHistory(path) as history:
        assert [e.sid for e in history.search(text="Room 02999")] == [sid_of(2_999)]
