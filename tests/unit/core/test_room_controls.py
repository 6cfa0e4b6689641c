"""The mute book and the rules it posts: pure logic, no Twilio."""

from __future__ import annotations

from console.core.calls.records import Participant
from console.core.calls.room_controls import (
    INCLUDE_ALL,
    MuteBook,
    excluded_publishers,
    records_anything,
    rules_muting,
)


def person(sid: str, identity: str) -> Participant:
    return Participant(sid, "RM1", identity, "connected", "phone", None)


def test_a_subscriber_hears_everyone_but_the_muted_and_never_excludes_themselves():
    assert rules_muting([], "bob") == [INCLUDE_ALL]
    assert rules_muting({"carol", "alice"}, "bob") == [
        INCLUDE_ALL,
        {"type": "exclude", "publisher": "alice"},
        {"type": "exclude", "publisher": "carol"},
    ]
    assert rules_muting({"alice"}, "alice") == [INCLUDE_ALL]


def test_mutes_are_read_back_from_the_shape_of_the_rules():
    assert excluded_publishers(rules_muting({"alice", "carol"}, "bob")) == {"alice", "carol"}
    assert excluded_publishers([INCLUDE_ALL]) == set()
    readded = [
        INCLUDE_ALL,
        {"type": "exclude", "publisher": "a"},
        {"type": "include", "publisher": "a"},
    ]
    assert excluded_publishers(readded) == set()
    narrower = [INCLUDE_ALL, {"type": "exclude", "publisher": "a", "kind": "video"}]
    assert excluded_publishers(narrower) == set()  # a's audio still comes through
    reset = [{"type": "exclude", "publisher": "a"}, {"type": "exclude", "all": True}]
    assert excluded_publishers(reset) == set()


def test_recording_is_any_include_after_the_last_exclude_all():
    assert not records_anything([])
    assert records_anything([INCLUDE_ALL])
    assert not records_anything([INCLUDE_ALL, {"type": "exclude", "all": True}])
    assert records_anything(
        [{"type": "exclude", "all": True}, {"type": "include", "kind": "audio"}]
    )


def test_the_book_keeps_each_room_apart_and_forgets_an_ended_one():
    book = MuteBook()
    book.set_muted("RM1", {"alice"})
    book.set_recording("RM2", True)
    assert book.muted("RM1") == {"alice"} and book.muted("RM2") == frozenset()
    assert book.recording("RM2") is True and book.recording("RM1") is None
    marked = book.marked([person("PA1", "alice"), person("PA2", "bob")], "RM1")
    assert [(p.identity, p.muted) for p in marked] == [("alice", True), ("bob", False)]
    book.mark_in_step("RM1", ["PA2"])
    assert book.in_step("RM1", "PA2") and not book.in_step("RM1", "PA1")
    book.learn_people(marked)
    assert book.identity_of("PA2") == "bob"
    book.forget("RM1")
    assert book.muted("RM1") == frozenset() and not book.in_step("RM1", "PA2")
