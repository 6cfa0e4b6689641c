"""Serving until Ctrl-C or SIGTERM: the shared loop of the headless server commands."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Catch Ctrl-C and SIGTERM while the block runs; the event is set when one arrives."""
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_until_signal(
    name: str,
    *cleanups: Callable[[], object],
    stop: threading.Event | None = None,
    watch: Callable[[], bool] | None = None,
) -> int:
    """Say how to stop, block until Ctrl-C or SIGTERM, run the cleanups, and say it stopped.

    Pass the event of an enclosing stop_signals() to catch signals from before serving began.
    watch, if given, is called twice a second; when it returns False serving ends with status 1.
    """
    status = 0
    with contextlib.ExitStack() as stack:
        if stop is None:
            stop = stack.enter_context(stop_signals())
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not stop.wait(0.5):
                if watch is not None and not watch():
                    status = 1
                    break
        finally:
            for cleanup in cleanups:
                cleanup()
    print(f"{name} stopped.", flush=True)
    return status
