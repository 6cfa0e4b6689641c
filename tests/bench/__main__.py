"""Runs every benchmark (or those named), prints a table and writes JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.results import Figure, table

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def suites() -> dict[str, Callable[[], list[Figure]]]:
    """Each benchmark by name, imported only when run."""
    from tests.bench import (
        console_bench,
        refresh_bench,
        routes_bench,
        shift_bench,
        startup_bench,
        team_bench,
        webhook_bench,
    )

    return {
        "console": console_bench.run,
        "refresh": refresh_bench.run,
        "webhook": webhook_bench.run,
        "startup": startup_bench.run,
        "routes": routes_bench.run,
        "team": team_bench.run,
        "shift": shift_bench.run,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path("bench-results.json"))
    args = parser.parse_args()
    available = suites()
    chosen = args.names or list(available)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; have {', '.join(available)}")
    figures: list[Figure] = []
    for name in chosen:
        print(f"running {name} …", file=sys.stderr, flush=True)
        figures.extend(available[name]())
    print(table(figures))
    report = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "figures": [f.as_dict() for f in figures],
    }
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nwrote {args.out}")
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
