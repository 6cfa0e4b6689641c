"""Room refresh at scale: the console's refresh beside the same requests made one at a time."""

from __future__ import annotations

import statistics
import time

from console.core.gateways.gateway import Gateway
from console.core.gateways.twilio_http import make_client
from tests.bench.results import Figure
from tests.bench.sandbox_process import seeded_sandbox

ROOMS, PEOPLE, LATENCY, RUNS = 200, 20, 0.030, 3


def sequential(client) -> int:
    """The baseline: list the rooms, then each room's connected participants, one by one."""
    rooms = client.video.v1.rooms.list(status="in-progress")
    return sum(
        len(client.video.v1.rooms(room.sid).participants.list(status="connected")) for room in rooms
    )


def run() -> list[Figure]:
    """Median wall time of RUNS full refreshes each way, alternating."""
    with seeded_sandbox(ROOMS, PEOPLE, LATENCY) as box:
        client = make_client(box.account_sid, box.auth_token, base_url=box.url)
        gateway = Gateway(client)
        ours, base = [], []
        for _ in range(RUNS):
            began = time.perf_counter()
            rooms = gateway.list_rooms()
            ours.append(time.perf_counter() - began)
            assert len(rooms) == ROOMS and sum(r.participant_count for r in rooms) == ROOMS * PEOPLE
            began = time.perf_counter()
            assert sequential(client) == ROOMS * PEOPLE
            base.append(time.perf_counter() - began)
    ours_s, base_s = statistics.median(ours), statistics.median(base)
    return [
        Figure(
            f"refresh {ROOMS} rooms x {PEOPLE} people, {LATENCY * 1000:.0f} ms latency",
            ours_s * 1000,
            "ms",
            base_s * 1000,
            ">= 5x faster than sequential",
            base_s >= 5 * ours_s,
            f"{base_s / ours_s:.1f}x faster",
        )
    ]
