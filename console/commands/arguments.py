"""Argument types for the subcommands: a bad value is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import errno
import math
from pathlib import Path
from typing import NoReturn


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        """Print `prog: message (see prog --help)` and exit 2, without the usage block.

        A database URL typed in the wrong place is echoed without its password.
        """
        from server.secret_filter import clean

        text = " ".join(clean(message).split())
        self.exit(2, f"{self.prog}: {text} (see {self.prog} --help)\n")


def port(text: str) -> int:
    """A TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0 to 65535)")
    return value


def host(text: str) -> str:
    """An address this machine can listen on: a name that resolves to one, or an IP of its own."""
    import socket  # the window's start never needs it

    name = text.strip()
    if not name:
        raise argparse.ArgumentTypeError("the address is empty")
    try:
        infos = socket.getaddrinfo(name, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        raise argparse.ArgumentTypeError(f"{name!r} is not a known host name or address") from None
    problem = ""
    for family, kind, proto, _, address in infos:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.bind(address[:2] if family == socket.AF_INET else address)
            return name
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                problem = f"{name!r} is not an address of this machine"
            elif error.errno == errno.EACCES:
                return name  # the address exists; the port's permission is checked at start
            else:
                problem = f"cannot listen on {name!r}: {error.strerror or error}"
    raise argparse.ArgumentTypeError(problem or f"cannot listen on {name!r}")


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number of seconds")
    return value


def seconds(text: str) -> float:
    """A finite, positive number of seconds."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def non_negative_seconds(text: str) -> float:
    """A finite number of seconds, zero allowed."""
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; give 0 or more seconds")
    return value


def count(low: int, high: int):
    """A type for a whole number from low to high."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is less than {low}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{value} is more than {high}")
        return value

    parse.__name__ = "count"
    return parse


def file_path(text: str) -> Path:
    """A path for a file that may not exist yet; a directory is refused for what it is."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory; give the path of a file in it")
    return path


def add_listen_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    """--port and --host for a server command, checked as they are parsed."""
    parser.add_argument(
        "--port",
        type=port,
        default=default_port,
        help=f"port to listen on (default {default_port}; 0 for any free port)",
    )
    parser.add_argument(
        "--host", type=host, default="127.0.0.1", help="address to bind (default 127.0.0.1)"
    )
