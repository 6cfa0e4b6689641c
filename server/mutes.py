"""The team's mutes, kept per room so that whoever joins later does not hear the muted either.

A console mutes through Subscribe Rules (console/core/calls/room_controls.py): muting M posts
every connected subscriber S the rules "include all, exclude each of M except S". The server
learns the room's mutes from each such post: after S's rules, the room's mutes are the
publishers S excludes, plus S itself if S was muted already (S never excludes itself). A post
of any other shape leaves the mutes as they were. When someone joins (a room callback), the
server gives them the rules for the room's mutes, as each console's room desk does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from console.core.calls.room_controls import INCLUDE_ALL, rules_muting
from console.core.gateways.gateway import Gateway, TwilioError

log = logging.getLogger(__name__)

MUTES_LOCK = 0x5357_4D55  # advisory lock class: one change of a room's mutes at a time


def muting_whom(rules: Sequence[dict[str, Any]]) -> frozenset[str] | None:
    """The publishers mute-shaped rules leave out ("include all", then only exclusions of
    publishers), or None for rules of any other shape."""
    if not rules or dict(rules[0]) != INCLUDE_ALL:
        return None
    excluded: set[str] = set()
    for rule in rules[1:]:
        if set(rule) != {"type", "publisher"} or rule["type"] != "exclude":
            return None
        excluded.add(str(rule["publisher"]))
    return frozenset(excluded)


def identity_of(connection: psycopg.Connection, account: str, room_sid: str, who: str) -> str:
    """The identity of a participant (SID) from the room's callbacks; '' when none told it.

    A name that is not a participant SID is taken as the identity itself.
    """
    if not who.startswith("PA"):
        return who
    row = connection.execute(
        "SELECT participant_identity FROM room_events WHERE account = %s AND room_sid = %s "
        "AND kind = 'participant-connected' AND fields->>'ParticipantSid' = %s "
        "ORDER BY id DESC LIMIT 1",
        (account, room_sid, who),
    ).fetchone()
    return row[0] if row else ""


def lock_room(connection: psycopg.Connection, room_sid: str) -> None:
    """Hold the room's mutes to the end of the transaction (one change at a time)."""
    connection.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (MUTES_LOCK, room_sid))


def of_room(connection: psycopg.Connection, account: str, room_sid: str) -> frozenset[str]:
    """The identities muted in a room."""
    rows = connection.execute(
        "SELECT identity FROM mutes WHERE account = %s AND room = %s", (account, room_sid)
    ).fetchall()
    return frozenset(row[0] for row in rows)


def learn(
    connection: psycopg.Connection,
    account: str,
    room_sid: str,
    subscriber: str,
    rules: Sequence[dict[str, Any]],
    operator_id: int | None,
) -> frozenset[str] | None:
    """Update the room's mutes from rules posted for subscriber (an identity); the room's
    mutes afterwards, or None when the rules are not a mute's and changed nothing."""
    excluded = muting_whom(rules)
    if excluded is None or not subscriber:
        return None
    lock_room(connection, room_sid)
    kept = sorted(excluded | {subscriber})  # the subscriber stays muted if they were
    connection.execute(
        "DELETE FROM mutes WHERE account = %s AND room = %s AND NOT identity = ANY(%s)",
        (account, room_sid, kept),
    )
    connection.execute(
        "INSERT INTO mutes (account, room, identity, muted_by) "
        "SELECT %s, %s, unnest(%s::text[]), %s ON CONFLICT DO NOTHING",
        (account, room_sid, sorted(excluded), operator_id),
    )
    return of_room(connection, account, room_sid)


def forget_room(connection: psycopg.Connection, account: str, room_sid: str) -> None:
    """The room ended: its mutes go with it."""
    connection.execute("DELETE FROM mutes WHERE account = %s AND room = %s", (account, room_sid))


def welcome(
    gateway: Gateway, room_sid: str, participant_sid: str, identity: str, muted: frozenset[str]
) -> bool:
    """Give a newcomer the rules that keep the room's muted out; whether any were posted.

    A failure is logged, never raised: the newcomer's callback was recorded all the same.
    """
    if not participant_sid or not muted - {identity}:
        return False
    try:
        gateway.set_subscribe_rules(room_sid, participant_sid, rules_muting(muted, identity))
    except TwilioError as error:
        log.warning("could not keep %s in %s from hearing the muted: %s", identity, room_sid, error)
        return False
    except Exception:  # never fail (or hold in the spool) a callback that was recorded
        log.exception("could not keep %s in %s from hearing the muted", identity, room_sid)
        return False
    log.info("%s joined %s: the muted stay muted", identity, room_sid)
    return True
