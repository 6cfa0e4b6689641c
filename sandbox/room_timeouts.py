"""Ends rooms that stay empty past their timeouts, as Twilio's do, in the sandbox's simulated time.

A room nobody joined ends unused_room_timeout minutes after it was created; a room whose last
participant left ends empty_room_timeout minutes later. One thread sleeps until the next such
moment, and wakes early when rooms change or the clock's speed does.
"""

from __future__ import annotations

import logging
import threading

from sandbox.clock import Clock
from sandbox.errors import TwilioApiError
from sandbox.state import SandboxState

log = logging.getLogger(__name__)

MARGIN_SECONDS = 0.005  # real seconds past a deadline before looking, so it has passed


class RoomTimeouts:
    """The thread that ends idle rooms; poke() whenever a room's deadline may have moved."""

    def __init__(self, state: SandboxState, clock: Clock) -> None:
        self._state = state
        self._clock = clock
        self._wake = threading.Condition()
        self._poked = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="sandbox-room-timeouts", daemon=True)

    def start(self) -> None:
        """Begin watching the rooms."""
        self._thread.start()

    def poke(self) -> None:
        """Look at the deadlines again (safe to call with the state's lock held)."""
        with self._wake:
            self._poked = True
            self._wake.notify()

    def stop(self, timeout: float = 1.0) -> None:
        """End the thread."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            try:
                wait = self._end_idle_rooms()
            except Exception:
                log.exception("ending idle rooms failed")
                wait = 1.0
            with self._wake:
                if self._stopped:
                    return
                if not self._poked:
                    self._wake.wait(wait)
                self._poked = False
                if self._stopped:
                    return

    def _end_idle_rooms(self) -> float | None:
        """End every room past its deadline; real seconds until the next deadline (None: none)."""
        state = self._state
        with state.lock:
            now = self._clock.now()
            deadlines = [(r, r.idle_deadline) for r in list(state.rooms.values())]
            soonest = None
            for room, deadline in deadlines:
                if deadline is None or state.participants_of(room.sid, "connected"):
                    continue  # occupied (also when people were put in without joining)
                if deadline <= now:
                    self._end(room)
                elif soonest is None or deadline < soonest:
                    soonest = deadline
        if soonest is None:
            return None
        return self._clock.real_seconds((soonest - now).total_seconds()) + MARGIN_SECONDS

    def _end(self, room) -> None:
        try:
            self._state.end_room(room)
        except TwilioApiError:  # ended meanwhile
            return
        log.info("room %s ended: empty past its timeout", room.unique_name)
