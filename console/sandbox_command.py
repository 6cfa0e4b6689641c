"""`switchboard sandbox`: the offline Twilio stand-in on its own (filled in by the sandbox work)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard sandbox`."""
    parser = sub.add_parser("sandbox", help="run the offline Twilio sandbox on its own")
    parser.add_argument("--port", type=int, default=8079)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox until stopped."""
    print("switchboard sandbox: not available yet", file=sys.stderr)
    return 2
