"""Why calls ended, in words: Twilio's code and message, ours, and what the console saw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.core.calls.call_reasons import (
    CANCELED_ELSEWHERE,
    DUPLICATE_IDENTITY,
    DUPLICATE_IDENTITY_MESSAGE,
    ROOM_ENDED,
    EndingWitness,
    call_reason,
    error_page,
    reason_tooltip,
)
from console.core.calls.records import Call

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def call(sid="CA1", status="completed", direction="outbound-api", answered=T0, **more) -> Call:
    return Call(
        sid,
        "+15551234567",
        "+15005550006",
        status,
        direction,
        room=more.pop("room", "Standup"),
        identity=more.pop("identity", "alice"),
        answered_at=answered,
        ended_at=more.pop("ended_at", T0 + timedelta(minutes=5)),
        **more,
    )


def test_every_unhappy_ending_has_words():
    assert call_reason("busy") == "busy"
    assert call_reason("no-answer") == "no answer after 60 s"
    assert call_reason("no-answer", ring_timeout=30) == "no answer after 30 s"
    assert call_reason("failed") == "failed (no reason given)"
    assert call_reason("completed") == ""
    assert call_reason("in-progress") == ""


def test_twilios_code_comes_with_our_words_or_twilios_message():
    assert call_reason("failed", "11200", "HTTP retrieval failure") == (
        "the webhook did not answer (11200)"
    )
    assert call_reason("completed", DUPLICATE_IDENTITY, DUPLICATE_IDENTITY_MESSAGE) == (
        "disconnected: same identity joined again (53205)"
    )
    assert call_reason("failed", "30001", "Queue overflow") == "Queue overflow (30001)"
    assert call_reason("failed", "30001") == "Twilio error (30001)"
    assert call_reason("completed", "", "callee hung up") == "callee hung up"


def test_the_tooltip_has_twilios_message_and_its_page():
    tip = reason_tooltip("failed", "11200", "HTTP retrieval failure")
    assert tip.splitlines() == [
        "Twilio error 11200: HTTP retrieval failure",
        "More: https://www.twilio.com/docs/errors/11200",
    ]
    assert reason_tooltip("busy") == "busy"
    assert error_page("53205") == "https://www.twilio.com/docs/errors/53205"
    assert error_page("") == error_page("x") == ""


def test_the_operators_own_endings_need_no_reason():
    witness = EndingWitness()
    witness.operator_ended("CA1")
    assert witness.reason(call()) == ("", "")
    assert witness.reason(call(status="canceled")) == ("", "")
    witness.operator_forgot("CA1")  # the hang-up failed: it was not the operator after all
    assert witness.reason(call()) == ("", "callee hung up")


def test_other_endings_say_who_or_what():
    witness = EndingWitness()
    assert witness.reason(call()) == ("", "callee hung up")
    assert witness.reason(call(direction="inbound")) == ("", "caller hung up")
    assert witness.reason(call(status="canceled", answered=None)) == ("", CANCELED_ELSEWHERE)
    assert witness.reason(call(status="busy", answered=None)) == ("", "")  # speaks for itself
    assert witness.reason(call(error_code="11200")) == ("", "")  # Twilio said why
    witness.room_ended("Standup", T0 + timedelta(minutes=5))
    assert witness.reason(call()) == ("", ROOM_ENDED)


def test_a_second_participant_with_the_same_identity_is_53205():
    witness = EndingWitness()
    witness.participant_joined("Standup", "alice", "PA1", T0 + timedelta(seconds=1))  # its own
    assert witness.reason(call()) == ("", "callee hung up")
    witness.participant_joined("Standup", "alice", "PA2", T0 + timedelta(minutes=5))
    assert witness.reason(call()) == (DUPLICATE_IDENTITY, DUPLICATE_IDENTITY_MESSAGE)
    assert witness.reason(call(identity="bob")) == ("", "callee hung up")
    # A join long before this call was answered was someone else's earlier call.
    later = call(answered=T0 + timedelta(minutes=10), ended_at=T0 + timedelta(minutes=20))
    witness.participant_joined("Standup", "alice", "PA3", T0 + timedelta(minutes=10))
    assert witness.reason(later) == ("", "callee hung up")


def test_a_late_room_event_changes_a_fresh_reason_only():
    witness = EndingWitness()
    ended = T0 + timedelta(minutes=5)
    first = witness.explained(call(ended_at=ended))
    assert first.error_message == "callee hung up"
    witness.participant_joined("Standup", "alice", "PA1", T0)
    witness.participant_joined("Standup", "alice", "PA2", ended + timedelta(seconds=1))
    (changed,) = witness.reexplained([first], "Standup", ended + timedelta(seconds=2))
    assert (changed.error_code, changed.error_message) == (
        DUPLICATE_IDENTITY,
        DUPLICATE_IDENTITY_MESSAGE,
    )
    assert witness.reexplained([first], "Standup", ended + timedelta(minutes=1)) == []


def test_forgetting_keeps_what_live_calls_need():
    witness = EndingWitness()
    witness.participant_joined("Standup", "alice", "PA1", T0)  # a live call's own join
    witness.participant_joined("Standup", "bob", "PA2", T0)  # bob's call is over
    witness.room_ended("Old", T0)
    witness.operator_ended("CA9")
    live = call(status="in-progress", ended_at=None)
    witness.forget_before(T0 + timedelta(hours=1), [live])
    assert witness._joins == {("Standup", "alice"): {"PA1": T0}}
    assert witness._rooms_ended == {} and witness.by_operator == set()
    witness.participant_joined("Standup", "alice", "PA3", T0 + timedelta(hours=2))
    witness.forget_before(T0 + timedelta(hours=3), [live])  # still live: both joins stay
    assert witness.reason(call(ended_at=T0 + timedelta(hours=3))) == (
        DUPLICATE_IDENTITY,
        DUPLICATE_IDENTITY_MESSAGE,
    )


def test_a_join_counts_from_when_the_call_was_placed():
    witness = EndingWitness()
    placed = T0 - timedelta(seconds=30)  # its callbacks came late: answered looks later
    witness.participant_joined("Standup", "alice", "PA1", T0 - timedelta(seconds=20))
    witness.participant_joined("Standup", "alice", "PA2", T0 + timedelta(minutes=1))
    assert witness.reason(call(placed_at=placed)) == (
        DUPLICATE_IDENTITY,
        DUPLICATE_IDENTITY_MESSAGE,
    )
