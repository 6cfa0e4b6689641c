"""A lean loopback HTTP load generator; clients run in their own processes, off the server's GIL."""

from __future__ import annotations

import multiprocessing
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Shot:
    """One request to repeat: method, URL, body and headers."""

    url: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class LoadResult:
    """Requests per second, latency percentiles in ms, and failures."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _request_bytes(shot: Shot) -> tuple[str, int, bytes]:
    parts = urlsplit(shot.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(shot.body)}"]
    head += [f"{k}: {v}" for k, v in shot.headers.items()]
    raw = ("\r\n".join(head) + "\r\n\r\n").encode() + shot.body
    return parts.hostname or "127.0.0.1", parts.port or 80, raw


def _read_response(sock: socket.socket, buffer: bytes) -> tuple[int, bool, bytes]:
    """Read one response; returns (status, server closes, leftover bytes)."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, closes = 0, lines[0].startswith(b"HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            closes = value.strip().lower() == b"close"
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return status, closes, rest[length:]


def _client(shot: Shot, seconds: float, start_at: float, out: multiprocessing.Queue) -> None:
    host, port, raw = _request_bytes(shot)
    latencies: list[float] = []
    errors = 0
    sock: socket.socket | None = None
    while time.time() < start_at:
        time.sleep(0.001)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        began = time.perf_counter()
        try:
            if sock is None:
                sock = socket.create_connection((host, port), timeout=10)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(raw)
            status, closes, _ = _read_response(sock, b"")
            if status != 200:
                errors += 1
            if closes:
                sock.close()
                sock = None
        except OSError:
            errors += 1
            if sock is not None:
                sock.close()
            sock = None
        latencies.append(time.perf_counter() - began)
    if sock is not None:
        sock.close()
    out.put((latencies, errors))


def run_load(shot: Shot, clients: int, seconds: float) -> LoadResult:
    """Send shot from `clients` processes, each one request at a time, for `seconds`."""
    context = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = context.Queue()
    start_at = time.time() + 1.0  # every process ready before the clock starts
    workers = [
        context.Process(target=_client, args=(shot, seconds, start_at, out)) for _ in range(clients)
    ]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    errors = 0
    for _ in workers:
        got, failed = out.get(timeout=seconds + 60)
        latencies.extend(got)
        errors += failed
    for worker in workers:
        worker.join(10)
    latencies.sort()
    count = len(latencies)

    def percentile(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else 0.0

    return LoadResult(count, seconds, errors, percentile(0.50), percentile(0.99))
