"""Room controls: mute a participant with Subscribe Rules, record a room with Recording Rules.

Twilio has no mute. Its Track Subscription API says, per subscriber, which tracks each one
receives; muting alice means posting every *other* participant the rules "include everything,
exclude alice". Those rules belong to the subscribers that exist when they are posted, so the
mute book remembers each room's mutes and gives every newcomer its rules too. Mutes can be
read back from the rules Twilio holds, so a console started later, or the command line, agrees.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from console.core.calls.records import Participant, Recording
from console.core.gateways.gateway import Gateway, TwilioError

INCLUDE_ALL: dict[str, Any] = {"type": "include", "all": True}
EXCLUDE_ALL: dict[str, Any] = {"type": "exclude", "all": True}
MAX_RULES = 20  # Twilio's limit per subscriber: "include all" leaves room for 19 mutes
MAX_MUTED = MAX_RULES - 1


class ControlRefused(TwilioError):
    """A room control that cannot be done (nobody by that identity, too many mutes)."""


def rules_muting(muted: Iterable[str], subscriber: str) -> list[dict[str, Any]]:
    """A subscriber's rules: receive everything except the muted (never excluding themselves)."""
    excluded = sorted(set(muted) - {subscriber})
    return [INCLUDE_ALL] + [{"type": "exclude", "publisher": who} for who in excluded]


def excluded_publishers(rules: Sequence[dict[str, Any]]) -> frozenset[str]:
    """The publishers a subscriber's rules leave out after "include all" (a mute's shape)."""
    left_out: set[str] = set()
    for rule in rules:
        if rule.get("all"):
            left_out.clear()  # include all, or exclude all: earlier exclusions no longer tell
        elif rule.get("type") == "exclude" and set(rule) == {"type", "publisher"}:
            left_out.add(str(rule["publisher"]))
        elif rule.get("type") == "include" and "publisher" in rule:
            left_out.discard(str(rule["publisher"]))
    return frozenset(left_out)


def records_anything(rules: Sequence[dict[str, Any]]) -> bool:
    """Whether Recording Rules take some track in: an include after the last "exclude all"."""
    recording = False
    for rule in rules:
        if rule.get("type") == "include":
            recording = True
        elif rule.get("all"):
            recording = False
    return recording


@dataclass
class _RoomBook:
    muted: set[str] = field(default_factory=set)
    given: set[str] = field(default_factory=set)  # participant SIDs whose rules are in step
    recording: bool | None = None  # None: not known yet


class MuteBook:
    """What the console knows of each in-progress room's controls, keyed by room SID.

    Shared by the GUI thread and the workers: every method takes the book's lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, _RoomBook] = {}
        self._identities: dict[str, str] = {}  # participant SID -> identity

    def _room(self, room_sid: str) -> _RoomBook:
        return self._rooms.setdefault(room_sid, _RoomBook())

    def muted(self, room_sid: str) -> frozenset[str]:
        """The identities muted in a room."""
        with self._lock:
            book = self._rooms.get(room_sid)
            return frozenset(book.muted) if book else frozenset()

    def set_muted(self, room_sid: str, identities: Iterable[str]) -> None:
        """The room's mutes are now exactly these identities."""
        with self._lock:
            self._room(room_sid).muted = set(identities)

    def recording(self, room_sid: str) -> bool | None:
        """Whether the room records (None when the console has not learnt it yet)."""
        with self._lock:
            book = self._rooms.get(room_sid)
            return book.recording if book else None

    def set_recording(self, room_sid: str, recording: bool) -> None:
        """Note whether the room records."""
        with self._lock:
            self._room(room_sid).recording = recording

    def in_step(self, room_sid: str, participant_sid: str) -> bool:
        """Whether this participant already has the room's rules."""
        with self._lock:
            book = self._rooms.get(room_sid)
            return bool(book and participant_sid in book.given)

    def mark_in_step(self, room_sid: str, participant_sids: Iterable[str]) -> None:
        """These participants have the room's rules now."""
        with self._lock:
            self._room(room_sid).given.update(participant_sids)

    def learn_people(self, people: Iterable[Participant]) -> None:
        """Remember whose participant SID is whose identity (recordings name only the SID)."""
        with self._lock:
            self._identities.update((p.sid, p.identity) for p in people)

    def identity_of(self, participant_sid: str) -> str:
        """The identity of a participant the book has seen, or ''."""
        with self._lock:
            return self._identities.get(participant_sid, "")

    def forget(self, room_sid: str) -> None:
        """The room ended: its controls go with it."""
        with self._lock:
            self._rooms.pop(room_sid, None)

    def marked(self, people: Sequence[Participant], room_sid: str) -> list[Participant]:
        """The participants with their muted flag set from the book."""
        muted = self.muted(room_sid)
        return [replace(p, muted=p.identity in muted) for p in people]


class RoomControls:
    """Mutes, unmutes and records through the gateway, keeping subscribers' rules in step.

    Every method that talks to Twilio blocks: call it from a worker, never the GUI thread.
    """

    def __init__(self, gateway: Gateway, book: MuteBook | None = None) -> None:
        self.gateway = gateway
        self.book = book or MuteBook()

    def set_muted(self, room_sid: str, identity: str, muted: bool = True) -> list[Participant]:
        """Mute (or unmute) identity for everyone else connected; returns the room's people.

        Every other subscriber gets its whole rules again (Twilio's rules are stateless).
        """
        people = self.gateway.list_participants(room_sid)
        self.book.learn_people(people)
        if all(p.identity != identity for p in people):
            raise ControlRefused(f"{identity} is not connected in this room")
        current = set(self.book.muted(room_sid))
        wanted = current | {identity} if muted else current - {identity}
        if len(wanted) > MAX_MUTED:
            raise ControlRefused(
                f"At most {MAX_MUTED} people can be muted in a room (Twilio takes 20 rules "
                "per subscriber)"
            )
        self.book.set_muted(room_sid, wanted)
        self._post(room_sid, [p for p in people if p.identity != identity], wanted)
        return self.book.marked(people, room_sid)

    def keep_in_step(self, room_sid: str, people: Sequence[Participant]) -> list[str]:
        """Give participants not yet in step the room's rules (newcomers: a callback or a
        refresh showed them); returns the identities that got rules."""
        self.book.learn_people(people)
        muted = self.book.muted(room_sid)
        fresh = [p for p in people if not self.book.in_step(room_sid, p.sid)]
        if not muted:
            self.book.mark_in_step(room_sid, [p.sid for p in fresh])
            return []
        excluding = [p for p in fresh if set(muted) - {p.identity}]
        self._post(room_sid, excluding, muted)
        self.book.mark_in_step(room_sid, [p.sid for p in fresh])
        return [p.identity for p in excluding]

    def _post(
        self, room_sid: str, subscribers: Sequence[Participant], muted: Iterable[str]
    ) -> None:
        muted = frozenset(muted)
        failed: list[str] = []
        last: TwilioError | None = None
        for person in subscribers:
            try:
                self.gateway.set_subscribe_rules(
                    room_sid, person.sid, rules_muting(muted, person.identity)
                )
            except TwilioError as error:
                failed.append(person.identity)
                last = error
            else:
                self.book.mark_in_step(room_sid, [person.sid])
        if last is not None:
            raise TwilioError(
                f"Could not update what {', '.join(failed)} hear: {last.message}",
                last.code,
                last.status,
            )

    def read_back(self, room_sid: str, newcomers: Iterable[str] = ()) -> frozenset[str]:
        """Learn the room's mutes from the rules Twilio holds: an identity every other
        participant leaves out is muted. Newcomers (SIDs) have no say: their rules may not be
        posted yet. With fewer than two who have a say, the book keeps what it knows."""
        people = self.gateway.list_participants(room_sid)
        self.book.learn_people(people)
        fresh = set(newcomers)
        voters = [p for p in people if p.sid not in fresh]
        if len(voters) < 2 and not (voters and fresh):
            return self.book.muted(room_sid)
        left_out = {
            p.sid: excluded_publishers(self.gateway.subscribe_rules(room_sid, p.sid))
            for p in voters
        }
        muted = {
            who.identity
            for who in people
            if any(p.sid != who.sid for p in voters)
            and all(who.identity in left_out[p.sid] for p in voters if p.sid != who.sid)
        }
        self.book.set_muted(room_sid, muted)
        self.book.mark_in_step(room_sid, [p.sid for p in voters])
        return frozenset(muted)

    def welcome(self, room_sid: str, newcomer: Participant) -> list[str]:
        """Someone joined: give them the room's rules. When the book knows no mutes, one
        other participant's rules tell whether someone else (the CLI, another console) muted
        anyone; then the mutes are read back first."""
        if not self.book.muted(room_sid):
            people = self.gateway.list_participants(room_sid)
            others = [p for p in people if p.sid != newcomer.sid]
            if others and excluded_publishers(
                self.gateway.subscribe_rules(room_sid, others[0].sid)
            ):
                self.read_back(room_sid, [newcomer.sid])
        return self.keep_in_step(room_sid, [newcomer])

    def set_recording(self, room_sid: str, recording: bool = True) -> None:
        """Record every track of the room from now on (include all), or stop (exclude all)."""
        self.gateway.set_recording_rules(room_sid, [INCLUDE_ALL if recording else EXCLUDE_ALL])
        self.book.set_recording(room_sid, recording)

    def read_recording(self, room_sid: str) -> bool:
        """Whether the room's Recording Rules, as Twilio holds them, record anything."""
        recording = records_anything(self.gateway.recording_rules(room_sid))
        self.book.set_recording(room_sid, recording)
        return recording

    def recordings(self, room_sid: str) -> list[Recording]:
        """The room's recordings, with the identity of each track's publisher where known."""
        found = self.gateway.list_recordings(room_sid)
        if any(not self.book.identity_of(r.participant_sid) for r in found):
            self.book.learn_people(self.gateway.list_participants(room_sid))
        return [replace(r, identity=self.book.identity_of(r.participant_sid)) for r in found]
