"""Connections a hostile client holds open: some send nothing, some dribble a byte a second."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from dataclasses import dataclass, field

# A request that never ends: the header block grows a byte at a time and is never closed.
HEADER_DRIBBLE = b"POST /voice/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100_000
# A complete header block that promises a body, which then comes a byte at a time.
BODY_HEAD = (
    b"POST /voice/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 60000\r\n\r\n"
)


@dataclass
class _Held:
    sock: socket.socket
    kind: str  # "idle", "headers" or "body"
    to_send: bytes = b""
    sent: int = 0
    closed: bool = False  # the server closed it, or answered it


@dataclass
class HostileConnections:
    """Opens idle and dribbling connections to host:port and holds them until close().

    Idle ones send nothing. Header dribblers send a request line and headers one byte each
    `interval` seconds, never finishing them; body dribblers send whole headers promising a
    body, then the body one byte each `interval`. Use as a context manager.
    """

    host: str
    port: int
    idle: int = 200
    headers: int = 50
    bodies: int = 50
    interval: float = 1.0
    _held: list[_Held] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> HostileConnections:
        if self._thread is None:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def total(self) -> int:
        """How many connections this holds when all are open."""
        return self.idle + self.headers + self.bodies

    def open(self) -> None:
        """Connect every client and start dribbling; raises OSError if one cannot connect."""
        plan = [("idle", b"")] * self.idle + [("headers", HEADER_DRIBBLE)] * self.headers
        plan += [("body", b"a" * 60_000)] * self.bodies
        try:
            for kind, to_send in plan:
                sock = socket.create_connection((self.host, self.port), timeout=10)
                if kind == "body":
                    sock.sendall(BODY_HEAD)
                sock.setblocking(False)
                self._held.append(_Held(sock, kind, to_send))
        except OSError:
            self.close()
            raise
        self._thread = threading.Thread(target=self._dribble, name="hostile", daemon=True)
        self._thread.start()

    def still_open(self, kind: str | None = None) -> int:
        """How many connections (of kind, or all) the server has neither closed nor answered."""
        return sum(1 for h in self._held if not h.closed and kind in (None, h.kind))

    def dribbled(self) -> int:
        """Bytes dribbled so far, over every connection."""
        return sum(h.sent for h in self._held)

    def close(self) -> None:
        """Stop dribbling and close every connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for held in self._held:
            held.sock.close()
        self._held = []

    def _dribble(self) -> None:
        with selectors.DefaultSelector() as selector:
            for held in self._held:
                selector.register(held.sock, selectors.EVENT_READ, held)
            next_byte = time.monotonic()
            while not self._stop.is_set():
                timeout = max(0.0, next_byte - time.monotonic())
                for key, _ in selector.select(timeout):
                    held = key.data
                    with contextlib.suppress(OSError):  # any answer or end means: not held
                        held.sock.recv(65536)
                    held.closed = True
                    selector.unregister(held.sock)
                if time.monotonic() >= next_byte:
                    next_byte += self.interval
                    self._send_a_byte()

    def _send_a_byte(self) -> None:
        for held in self._held:
            if held.closed or held.sent >= len(held.to_send):
                continue
            try:
                held.sent += held.sock.send(held.to_send[held.sent : held.sent + 1])
            except BlockingIOError:
                pass
            except OSError:
                held.closed = True
