"""`switchboard screenshot FILE`: the demo shift in the sandbox (console/ui/demo_scene.py), saved
as a picture: good and failed calls, a waiting caller, and a right-click menu open."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard screenshot`."""
    parser = sub.add_parser(
        "screenshot", help="run a demo shift in the sandbox and save the window as PNG"
    )
    parser.add_argument("file", type=Path, help="where to write the PNG")
    parser.add_argument("--size", default="1180x720", help="window size WxH (default 1180x720)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo shift and save its picture; exit 0 when the window showed all of it."""
    from console.ui.demo_scene import main

    size = args.size.lower().split("x")
    if len(size) != 2 or not all(part.isdigit() for part in size):
        print("switchboard screenshot: --size must look like 1180x720", file=sys.stderr)
        return 2
    return main([str(args.file), "--size", args.size])
