"""Start-up: process start to the main window shown, beside a bare PySide6 window; and RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.results import Figure

RUNS = 9  # the median of 9 moves less with the machine's load than the median of 5
SETTLE_SECONDS = 2.0  # after the servers are up, before reading the peak RSS


def _env(home: str) -> dict[str, str]:
    # Bytecode is written and reused as on an operator's machine, even where this shell's
    # environment says not to: otherwise every start compiles ~60 modules from source again.
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {
        **environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": f"{home}/config",
        "XDG_DATA_HOME": f"{home}/data",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def time_to(command: list[str], marker: str, then: str = "") -> tuple[float, float]:
    """Seconds from spawn to the marker line, and peak RSS (MB) once `then` was printed."""
    with tempfile.TemporaryDirectory() as home:
        began = time.perf_counter()
        process = subprocess.Popen(
            command, env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert process.stdout is not None
        shown = rss = 0.0
        try:
            for line in process.stdout:
                if not shown and marker in line:
                    shown = time.perf_counter() - began
                    if not then:
                        break
                if then and then in line:
                    time.sleep(SETTLE_SECONDS)
                    rss = _peak_rss_mb(process.pid)
                    break
        finally:
            process.terminate()
            process.wait(10)
        if not shown:
            raise RuntimeError(f"{command} never printed {marker!r}")
        return shown, rss


def _switchboard() -> list[str]:
    """The command an operator runs: the installed `switchboard` script beside this Python."""
    script = Path(sys.executable).with_name("switchboard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "console"]


def run() -> list[Figure]:
    """Median of RUNS start-ups each, ours and the bare window, alternating, after one of each.

    The first, unmeasured start of each writes its bytecode, as an operator's first start does.
    """
    bare_cmd = [sys.executable, str(Path(__file__).with_name("bare_window.py"))]
    ours_cmd = [*_switchboard(), "--sandbox"]
    time_to(bare_cmd, "window shown")
    time_to(ours_cmd, "Switchboard window shown")
    bare, ours, rss = [], [], []
    for _ in range(RUNS):
        bare.append(time_to(bare_cmd, "window shown")[0])
        shown, peak = time_to(ours_cmd, "Switchboard window shown", "Switchboard ready")
        ours.append(shown)
        rss.append(peak)
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    return [
        Figure(
            "start-up to window shown",
            ours_s * 1000,
            "ms",
            bare_s * 1000,
            "<= 2.0x bare PySide6",
            ours_s <= 2.0 * bare_s,
        ),
        Figure("max RSS after start", max(rss), "MB", None, "<= 200 MB", max(rss) <= 200),
    ]
