"""A sandbox in its own process, seeded with rooms of video participants and optional latency."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime

from sandbox import Sandbox, SandboxServer
from sandbox.faults import FaultPlan
from sandbox.ids import new_sid
from sandbox.models import Participant


def seed(box: Sandbox, rooms: int, people: int) -> None:
    """rooms in-progress group rooms, each with `people` connected video participants."""
    now = datetime.now(UTC)
    for r in range(rooms):
        room = box.state.create_room(f"Room-{r:03d}")
        for p in range(people):
            person = Participant(new_sid("PA"), room.sid, f"user-{r:03d}-{p:02d}", now, now)
            box.state.participants[person.sid] = person


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rooms", type=int, default=0)
    parser.add_argument("--people", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--ring-delay", type=float, default=0.0)
    args = parser.parse_args()
    box = Sandbox(ring_delay=args.ring_delay)
    seed(box, args.rooms, args.people)
    if args.latency:
        box.faults.set_plan(FaultPlan(delay_seconds=args.latency, delay_share=1.0))
    server = SandboxServer(box)
    server.start()
    print(f"ready {server.url} {box.account_sid} {box.auth_token}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
