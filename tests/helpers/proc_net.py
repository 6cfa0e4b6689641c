"""Reads the kernel's TCP socket tables (Linux /proc/net) and which process holds each socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

PROC_NET = Path("/proc/net")
HAS_PROC_NET = (PROC_NET / "tcp").exists()
LISTEN, ESTABLISHED = "0A", "01"


def _address(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))  # 4 little-endian words
    return socket.inet_ntop(socket.AF_INET6, words)


def _rows(state: str) -> Iterator[list[str]]:
    """The fields of every line of the TCP tables (IPv4 and IPv6) whose socket is in state."""
    for table in ("tcp", "tcp6"):
        path = PROC_NET / table
        if path.exists():
            for line in path.read_text().splitlines()[1:]:
                if (fields := line.split())[3] == state:
                    yield fields


def tcp_sockets(state: str) -> Iterator[tuple[str, int, str]]:
    """(local address, local port, socket inode) of every TCP socket in state (LISTEN, ...)."""
    for fields in _rows(state):
        hex_ip, hex_port = fields[1].split(":")
        yield _address(hex_ip), int(hex_port, 16), fields[9]


def connections() -> Iterator[tuple[int, int, str]]:
    """(local port, remote port, socket inode) of every established TCP connection."""
    for fields in _rows(ESTABLISHED):
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        yield int(local, 16), int(remote, 16), fields[9]


def holder_of(port: int, peer_port: int, pids: list[int]) -> int | None:
    """Which of pids holds the server end (local port) of the connection from peer_port."""
    inodes = {
        inode for local, remote, inode in connections() if (local, remote) == (port, peer_port)
    }
    return next((pid for pid in pids if socket_inodes(pid) & inodes), None)


def listening_on(port: int) -> set[str]:
    """The local addresses of every TCP socket listening on port."""
    return {address for address, bound, _ in tcp_sockets(LISTEN) if bound == port}


def socket_inodes(pid: int) -> set[str]:
    """The inodes of every socket the process has open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def listening_sockets_of(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket the process listens on."""
    inodes = socket_inodes(pid)
    return {(address, port) for address, port, inode in tcp_sockets(LISTEN) if inode in inodes}


def accepted_on(port: int, pid: int) -> int:
    """How many connections to local port the process holds (the server's end of each)."""
    inodes = socket_inodes(pid)
    held = [inode for _, local, inode in tcp_sockets(ESTABLISHED) if local == port]
    return sum(1 for inode in held if inode in inodes)


def children(pid: int) -> list[int]:
    """The process ids whose parent is pid."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found
