"""Cycles are collected on the GUI thread only, never in a webhook or worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from console.app import open_console
from console.gui_collector import GuiThreadCollector


class Node:
    """A reference cycle only the cycle collector can free."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.automatic_gc
def test_garbage_made_on_a_worker_thread_is_freed_on_the_gui_thread(qtbot):
    collector = GuiThreadCollector()
    collector.start()
    freed_on: list[str] = []
    try:
        assert not gc.isenabled()

        def worker() -> None:
            node = Node()
            weakref.finalize(node, lambda: freed_on.append(threading.current_thread().name))
            del node
            # Far more allocations than the threshold that would start a collection here.
            for _ in range(20 * gc.get_threshold()[0]):
                Node()

        thread = threading.Thread(target=worker, name="webhook-like")
        thread.start()
        thread.join()
        assert freed_on == []  # not freed in the thread that made it
        qtbot.waitUntil(lambda: freed_on != [], timeout=5000)
        assert freed_on == [threading.main_thread().name]
    finally:
        collector.stop()
    assert gc.isenabled()


@pytest.mark.automatic_gc
def test_the_console_collects_on_its_gui_thread_until_shutdown(qtbot, preferences, secrets):
    session = open_console(preferences, secrets, {}, force_sandbox=True)
    qtbot.addWidget(session.window)
    assert not gc.isenabled()
    session.window.close()
    assert session.shutdown()
    assert gc.isenabled()
