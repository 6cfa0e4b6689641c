"""`switchboard mute` and `switchboard record`: a room's controls for scripts, errors in one line.

Exit status: 0 done; 1 Twilio or the network refused or failed, the room is not in progress,
or nobody by that identity is connected in it; 2 bad input or missing credentials.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from console.commands.scripting import CommandError, connect, reported
from console.core.calls.dial_input import InvalidInput, check_identity, check_room

if TYPE_CHECKING:  # the SDK loads when a command runs, not when the CLI starts
    from console.core.calls.records import Room
    from console.core.gateways.gateway import Gateway


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard mute` and `switchboard record`."""
    mute = sub.add_parser(
        "mute", help="mute a participant for everyone else in a room (or --unmute)"
    )
    mute.add_argument("--room", required=True, help="the in-progress room")
    mute.add_argument("--identity", required=True, help="the participant to mute")
    mute.add_argument("--unmute", action="store_true", help="let everyone hear them again")
    mute.set_defaults(handler=reported(run_mute))

    record = sub.add_parser("record", help="record every track of a room (or --stop)")
    record.add_argument("--room", required=True, help="the in-progress room")
    record.add_argument("--stop", action="store_true", help="stop recording the room")
    record.set_defaults(handler=reported(run_record))


def _room(gateway: Gateway, name: str) -> Room:
    room = gateway.find_room(name)
    if room is None:
        raise CommandError(f"room {name} is not in progress")
    return room


def run_mute(args: argparse.Namespace) -> int:
    """Mute (or unmute) one participant: every other participant's Subscribe Rules change."""
    from console.core.calls.room_controls import RoomControls

    name = check_room(args.room)
    identity = check_identity(args.identity)
    if not identity:
        raise InvalidInput("identity", "give the identity of the participant to mute")
    gateway, _ = connect()
    room = _room(gateway, name)
    controls = RoomControls(gateway)
    controls.read_back(room.sid)  # mutes made by a console, or an earlier command, stay
    people = controls.set_muted(room.sid, identity, not args.unmute)
    others = len(people) - 1
    if args.unmute:
        print(f"Unmuted {identity} in {name}: everyone hears them again")
    else:
        print(f"Muted {identity} in {name}: the {others} other participant(s) no longer hear them")
    still = sorted(p.identity for p in people if p.muted)
    if still:
        print(f"Muted in {name}: {', '.join(still)}")
    return 0


def run_record(args: argparse.Namespace) -> int:
    """Start (or stop) recording every track of a room with its Recording Rules."""
    from console.core.calls.room_controls import RoomControls

    name = check_room(args.room)
    gateway, _ = connect()
    room = _room(gateway, name)
    controls = RoomControls(gateway)
    controls.set_recording(room.sid, not args.stop)
    recordings = controls.recordings(room.sid)
    live = sum(r.recording for r in recordings)
    if args.stop:
        print(f"Stopped recording {name}: {len(recordings)} recording(s) in all")
    else:
        print(f"Recording {name}: {live} track(s) now, and every track that joins")
    return 0
