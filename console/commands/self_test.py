"""`switchboard self-test`: sandbox, webhook, a room and one dialed call, end to end on loopback."""

from __future__ import annotations

import argparse
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO, TypeVar
from urllib.parse import urlsplit

from console.commands import arguments
from console.core.calls.dial_input import DialRequest, validate_request
from console.core.calls.records import CALL_EVENTS, Call, Room
from console.ui.resources import ICON_SIZES, desktop_entry, icon_png, icon_svg
from webhook.events import CallStatusEvent, Event

if TYPE_CHECKING:
    from console.core.runtime import Runtime

T = TypeVar("T")

TYPED = "(555) 123-4567"  # as an operator in the US types it into the dial pad
REGION = "US"
CALLEE = "+15551234567"  # what that becomes: any ordinary number, the sandbox rings then answers
CALLER = "+15005550006"  # a number the sandbox account owns
IDENTITY = "self-test"
RING_DELAY = 0.2
STEP_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
LOOPBACK = "127.0.0.1"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard self-test`."""
    parser = sub.add_parser(
        "self-test",
        help="check sandbox, webhook and one dialed call end to end, on loopback, without a window",
    )
    parser.add_argument(
        "--timeout",
        type=arguments.seconds,
        default=STEP_TIMEOUT,
        help=f"seconds each waiting step may take (default {STEP_TIMEOUT:g})",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run every step; exit 0 when all passed, 1 at the first that did not."""
    return 0 if SelfTest(timeout=args.timeout).run() else 1


class StepFailed(Exception):
    """A step's check did not hold; the message says what was seen instead."""


class SelfTest:
    """One self-test run: each step prints `[ok] …` or `[FAIL] … reason`, then all is stopped."""

    def __init__(self, out: TextIO | None = None, timeout: float = STEP_TIMEOUT) -> None:
        self._out = out or sys.stdout
        self._timeout = timeout
        self._lock = threading.Lock()
        self._call_events: list[CallStatusEvent] = []  # appended on the webhook's threads
        self._runtime: Runtime | None = None
        self._request: DialRequest | None = None
        self._room: Room | None = None
        self._call: Call | None = None
        self._ports: list[int] = []

    def on_event(self, event: Event) -> None:
        """Keep the call status callbacks the webhook hands on."""
        if isinstance(event, CallStatusEvent):
            with self._lock:
                self._call_events.append(event)

    def run(self) -> bool:
        """Run the steps in order, stopping at the first failure; True when every step passed."""
        steps: list[tuple[str, Callable[[], str]]] = [
            ("assets found", self._check_assets),
            ("dial request checked", self._check_request),
            ("sandbox and webhook started on loopback", self._start_servers),
            ("webhook health check", self._check_health),
            ("room created", self._create_room),
            ("call placed", self._place_call),
            ("participant seen in the room", self._see_participant),
            ("status callback received", self._see_answered_callback),
            ("call hung up", self._hang_up),
            ("room ended", self._end_room),
            ("everything stopped", self._stop),
        ]
        started = time.monotonic()
        try:
            for title, step in steps:
                if not self._step(title, step):
                    self._print("Self-test FAILED")
                    return False
        finally:
            if self._runtime is not None:
                self._runtime.stop()  # a no-op after the last step; cleans up after a failure
        self._print(f"Self-test passed in {time.monotonic() - started:.1f} s")
        return True

    def _step(self, title: str, step: Callable[[], str]) -> bool:
        try:
            detail = step()
        except Exception as error:  # every failure becomes a [FAIL] line, never a traceback
            self._print(f"[FAIL] {title}: {str(error) or type(error).__name__}")
            return False
        self._print(f"[ok] {title}: {detail}")
        return True

    def _print(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def _wait_for(self, what: str, probe: Callable[[], T]) -> T:
        """Poll probe until it returns something truthy, for at most the step timeout."""
        deadline = time.monotonic() + self._timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise StepFailed(f"no {what} within {self._timeout:g} s")
            time.sleep(POLL_INTERVAL)  # poll interval of a deadline-bound wait

    @property
    def runtime(self) -> Runtime:
        """The servers this run started; a step that needs them fails until they are up."""
        if self._runtime is None:
            raise StepFailed("the servers are not running")
        return self._runtime

    def _check_assets(self) -> str:
        for size in ICON_SIZES:
            icon_png(size)
        if b"<svg" not in icon_svg():
            raise StepFailed("switchboard.svg is not an SVG")
        entry = desktop_entry()["Desktop Entry"]
        return f"icon in SVG and {len(ICON_SIZES)} PNG sizes, {entry['Name']} .desktop entry"

    def _check_request(self) -> str:
        room = f"SelfTest-{secrets.token_hex(4)}"
        request = validate_request(TYPED, CALLER, room, IDENTITY, REGION)
        if request.to != CALLEE:
            raise StepFailed(f"{TYPED!r} became {request.to}, not {CALLEE}")
        self._request = request
        return f"{TYPED} ({REGION}) is {request.to}"

    def _start_servers(self) -> str:
        from console.core.runtime import start_sandbox  # Flask and the SDK load only when testing

        self._runtime = start_sandbox(self.on_event, webhook_port=0, ring_delay=RING_DELAY)
        urls = {"sandbox": self._runtime.sandbox_url, "webhook": self._runtime.public_url}
        for name, url in urls.items():
            parts = urlsplit(url)
            if parts.hostname != LOOPBACK or parts.port is None:
                raise StepFailed(f"the {name} listens on {url}, not on {LOOPBACK}")
            self._ports.append(parts.port)
        return f"sandbox {urls['sandbox']}, webhook {urls['webhook']}"

    def _check_health(self) -> str:
        problem = self.runtime.check_health()
        if problem:
            raise StepFailed(problem)
        return f"{self.runtime.public_url}/health echoed its nonce"

    def _create_room(self) -> str:
        name = self._need(self._request).room
        room = self.runtime.gateway.create_room(name, status_callback=self.runtime.room_status_url)
        if room.status != "in-progress" or room.type != "group":
            raise StepFailed(f"room {name} is {room.status} {room.type}, not in-progress group")
        self._room = room
        return f"{room.unique_name} ({room.sid})"

    def _place_call(self) -> str:
        request, room = self._need(self._request), self._need(self._room)
        self._call = self.runtime.gateway.place_call(
            request.to,
            from_=request.from_,
            url=self.runtime.outbound_url(room.unique_name, request.identity),
            status_callback=self.runtime.call_status_url,
            events=CALL_EVENTS,
        )
        return f"{self._call.sid} to {request.to} as {request.identity}"

    def _see_participant(self) -> str:
        room = self._need(self._room)
        started = time.monotonic()
        gateway = self.runtime.gateway

        def connected() -> list:
            return [
                p
                for p in gateway.list_participants(room.sid)
                if p.identity == IDENTITY and p.status == "connected"
            ]

        def counted() -> list:  # the refresh, which reads its counts side by side
            return [r for r in gateway.list_rooms() if r.sid == room.sid and r.participant_count]

        participant = self._wait_for(f"participant {IDENTITY!r} in {room.unique_name}", connected)
        elapsed = time.monotonic() - started
        listed = self._wait_for(f"{room.unique_name} counted in the room list", counted)
        return (
            f"{IDENTITY} ({participant[0].sid}) connected after {elapsed:.1f} s; "
            f"the room list counts {listed[0].participant_count}"
        )

    def _statuses(self) -> list[str]:
        call = self._need(self._call)
        with self._lock:
            return [e.status for e in self._call_events if e.call_sid == call.sid]

    def _see_answered_callback(self) -> str:
        self._wait_for("in-progress status callback", lambda: "in-progress" in self._statuses())
        return ", ".join(self._statuses())

    def _hang_up(self) -> str:
        call = self._need(self._call)
        self.runtime.gateway.hang_up(call.sid)
        self._wait_for("completed status callback", lambda: "completed" in self._statuses())
        return f"{call.sid} completed"

    def _end_room(self) -> str:
        room = self._need(self._room)
        self.runtime.gateway.end_room(room.sid)
        if self.runtime.gateway.find_room(room.unique_name) is not None:
            raise StepFailed(f"{room.unique_name} is still in progress")
        return room.unique_name

    def _stop(self) -> str:
        self.runtime.stop()
        for port in self._ports:
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
            except OSError:
                continue  # refused: nothing listens there any more
            raise StepFailed(f"port {port} still accepts connections")
        return "ports " + ", ".join(str(port) for port in self._ports) + " closed"

    @staticmethod
    def _need(value: T | None) -> T:
        if value is None:
            raise StepFailed("an earlier step did not finish")
        return value
