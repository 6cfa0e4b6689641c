"""Dial lists: bad rows found before dialing, and a paced, cancellable, once-per-pass runner."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.calls.dial_list import (
    MAX_PHONE_PARTICIPANTS,
    BadRow,
    DialEntry,
    DialListRunner,
    EntryStatus,
    entries_from_history,
    parse_dial_list,
)
from console.core.calls.history import HistoryEntry
from console.core.calls.records import Call
from console.core.gateways.gateway import TwilioError


def reasons(text: str, region: str = "US") -> dict[int, str]:
    return {bad.row: bad.reason for bad in parse_dial_list(text, region).bad_rows}


def test_a_list_with_a_header_and_names():
    parsed = parse_dial_list(
        "number,identity,name\n+1 (555) 123-4567,alice,Alice A.\nsip:bob@example.com,bob,\n",
        "US",
    )
    assert parsed.bad_rows == ()
    assert parsed.entries == (
        DialEntry(2, "+15551234567", "alice", "Alice A."),
        DialEntry(3, "sip:bob@example.com", "bob", ""),
    )


def test_header_is_optional_and_columns_can_be_reordered():
    plain = parse_dial_list("\ufeff0201234567,carol\n\n020 7946 0018,dave,Dave\n", "GB")
    assert [(e.row, e.to, e.identity) for e in plain.entries] == [
        (1, "+44201234567", "carol"),
        (3, "+442079460018", "dave"),
    ]
    named = parse_dial_list("Name;Identity;Phone;Notes\nErin;erin;+15550001111;VIP\n", "US")
    assert named.entries == (DialEntry(2, "+15550001111", "erin", "Erin"),)


def test_bad_rows_say_why_with_their_row_numbers():
    text = (
        "number,identity,name\n"  # 1
        "+15550000001,alice\n"  # 2 fine
        "555-CALL-NOW,bob\n"  # 3 letters
        "+15550000002,\n"  # 4 no identity
        ",carol\n"  # 5 no number
        "+15550000003,alice\n"  # 6 duplicate identity
        "+1 555 000 0001,dave\n"  # 7 duplicate number (same once normalized)
        "12,erin\n"  # 8 too short
        '+15550000004,"bad\x07id"\n'  # 9 control character
    )
    found = reasons(text)
    assert set(found) == {3, 4, 5, 6, 7, 8, 9}
    assert found[3].startswith("Invalid number: The number contains letters")
    assert found[4] == "Missing column: identity."
    assert found[5] == "Missing column: number."
    assert found[6] == "Duplicate identity “alice” (row 2)."
    assert found[7] == "Duplicate number +15550000001 (row 2)."
    assert found[8] == "Invalid number: The number is too short."
    assert found[9].startswith("Invalid identity:")
    assert [e.row for e in parse_dial_list(text, "US").entries] == [2]


def test_missing_header_columns_and_extra_cells():
    assert reasons("number,name\n+15550000001,Al\n") == {1: "The header has no identity column."}
    assert reasons("+15550000001,al,Al,extra\n+15550000002,bo,,\n") == {
        1: "Too many columns: expected number, identity and an optional name."
    }
    assert parse_dial_list("", "US").bad_rows == (BadRow(1, "The file has no rows."),)


def test_a_room_takes_at_most_35_phones():
    rows = "".join(f"+1555000{n:04d},p{n}\n" for n in range(MAX_PHONE_PARTICIPANTS + 2))
    rows += "sip:x@example.com,sip-user\n"
    parsed = parse_dial_list(rows, "US")
    assert len(parsed.entries) == MAX_PHONE_PARTICIPANTS + 1  # the SIP entry still fits
    assert [bad.row for bad in parsed.bad_rows] == [36, 37]
    assert "35 phone participants" in parsed.bad_rows[0].reason


def history_entry(sid: str, direction: str, from_: str, to: str, identity: str) -> HistoryEntry:
    return HistoryEntry(
        sid, direction, from_, to, "R", identity, "", datetime.now(UTC), "busy", "busy", 0, "", ""
    )


def test_entries_from_history_dial_the_other_party():
    picked = [
        history_entry("CA1", "outbound-api", "+15005550006", "+15551230001", "alice"),
        history_entry("CA2", "inbound", "+15551230002", "+15005550006", "bob"),
        history_entry("CA3", "outbound-api", "+15005550006", "+15551230001", "alice"),
        history_entry("CA4", "inbound", "+15551230004", "+15005550006", ""),
    ]
    parsed = entries_from_history(picked, "US")
    assert [(e.to, e.identity) for e in parsed.entries] == [
        ("+15551230001", "alice"),
        ("+15551230002", "bob"),
    ]
    assert [(b.row, b.reason.split(" ")[0]) for b in parsed.bad_rows] == [
        (3, "Duplicate"),
        (4, "Missing"),
    ]


class FakeClock:
    """A monotonic clock that only moves when the runner sleeps (or a call takes time)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def entries(count: int) -> list[DialEntry]:
    return [DialEntry(n + 2, f"+1555000{n:04d}", f"p{n}") for n in range(count)]


class Placer:
    """Places calls for the runner: records when, and can fail or act during a placement."""

    def __init__(self, clock: FakeClock, takes: float = 0.1) -> None:
        self.clock, self.takes = clock, takes
        self.placed: list[tuple[float, str]] = []
        self.fail: set[str] = set()
        self.during: dict[str, object] = {}

    def __call__(self, entry: DialEntry) -> Call:
        self.placed.append((self.clock.now, entry.identity))
        self.clock.now += self.takes
        if entry.identity in self.fail:
            raise TwilioError("Invalid 'To' Phone Number", 21211, 400)
        earlier = sum(1 for _, name in self.placed if name == entry.identity) - 1
        sid = f"CA{entry.identity}" + (f"r{earlier}" if earlier else "")  # a new SID a call
        action = self.during.get(entry.identity)
        if action is not None:
            action(sid)
        return Call(sid, entry.to, "+15005550006", "queued", "outbound-api")


def make_runner(count: int, cps: float = 1.0, takes: float = 0.1):
    clock = FakeClock()
    placer = Placer(clock, takes)
    seen: list[EntryStatus] = []
    runner = DialListRunner(
        entries(count),
        placer,
        calls_per_second=cps,
        on_status=seen.append,
        clock=clock,
        sleep=clock.sleep,
    )
    return runner, placer, clock, seen


def test_calls_are_paced_at_the_accounts_cps():
    runner, placer, clock, seen = make_runner(4, cps=2.0)
    states = runner.run()
    assert [when for when, _ in placer.placed] == [100.0, 100.5, 101.0, 101.5]
    assert clock.sleeps == [0.4, 0.4, 0.4]  # 0.5 s apart, less the 0.1 s each create took
    assert [s.status for s in states] == ["queued"] * 4
    assert [s.call_sid for s in states] == ["CAp0", "CAp1", "CAp2", "CAp3"]
    assert runner.progress() == (4, 4)
    assert [(s.entry.identity, s.status) for s in seen[:2]] == [("p0", "dialing"), ("p0", "queued")]


def test_a_slow_create_is_not_followed_by_an_extra_wait():
    runner, placer, clock, _ = make_runner(3, cps=1.0, takes=1.5)
    runner.run()
    assert clock.sleeps == []
    assert [when for when, _ in placer.placed] == [100.0, 101.5, 103.0]


def test_a_failed_entry_does_not_stop_the_list():
    runner, placer, _, _ = make_runner(3)
    placer.fail.add("p1")
    states = runner.run()
    assert [s.status for s in states] == ["queued", "error", "queued"]
    assert "21211" in states[1].message


def test_statuses_arrive_from_callbacks_even_before_the_create_returns():
    runner, placer, _, _ = make_runner(2)
    placer.during["p0"] = lambda sid: runner.update_call(sid, "ringing")
    runner.run()
    assert runner.states()[0].status == "ringing"
    runner.update_call("CAp0", "in-progress")
    runner.update_call("CAp0", "ringing")  # late: ignored
    runner.update_call("CAp1", "busy")
    runner.update_call("CAp1", "completed")  # a final status stays
    assert [s.status for s in runner.states()] == ["in-progress", "busy"]
    assert runner.update_call("CAunknown", "ringing") is None


def test_cancel_stops_before_the_next_entry_and_skips_the_rest():
    runner, placer, _, _ = make_runner(5)
    placer.during["p1"] = lambda sid: runner.cancel()
    states = runner.run()
    assert [name for _, name in placer.placed] == ["p0", "p1"]
    assert [s.status for s in states] == ["queued", "queued", "skipped", "skipped", "skipped"]
    assert runner.retry_entries(statuses=("skipped",)) == entries(5)[2:]
    runner.run()
    assert [name for _, name in placer.placed] == ["p0", "p1", "p2", "p3", "p4"]


def test_retry_dials_only_busy_and_unanswered_entries_again():
    runner, placer, _, _ = make_runner(4)
    runner.run()
    for sid, status in (("CAp0", "completed"), ("CAp1", "busy"), ("CAp2", "no-answer")):
        runner.update_call(sid, status)
    runner.update_call("CAp3", "failed")
    again = runner.retry_entries()
    assert [e.identity for e in again] == ["p1", "p2"]
    assert runner.progress() == (2, 4)
    states = runner.run()
    assert [name for _, name in placer.placed] == ["p0", "p1", "p2", "p3", "p1", "p2"]
    assert [s.attempts for s in states] == [1, 2, 2, 1]
    assert [s.status for s in states] == ["completed", "queued", "queued", "failed"]


def test_a_late_callback_for_the_first_attempt_leaves_the_retry_alone():
    runner, _, _, _ = make_runner(1)
    runner.run()
    runner.update_call("CAp0", "busy")
    runner.retry_entries()
    runner.run()
    runner.update_call("CAp0r1", "ringing")
    assert runner.update_call("CAp0", "completed") is None  # the first call's late news
    assert [s.status for s in runner.states()] == ["ringing"]


def test_no_retry_or_second_run_while_running():
    runner, placer, _, _ = make_runner(2)
    problems: list[str] = []

    def meddle(sid: str) -> None:
        for attempt in (runner.run, runner.retry_entries):
            try:
                attempt()
            except RuntimeError as error:
                problems.append(str(error))

    placer.during["p0"] = meddle
    runner.run()
    assert len(problems) == 2
    assert [name for _, name in placer.placed] == ["p0", "p1"]


def test_entries_sharing_a_number_or_identity_are_refused():
    twice = [DialEntry(1, "+15550000001", "a"), DialEntry(2, "+15550000001", "b")]
    with pytest.raises(ValueError, match="share a to"):
        DialListRunner(twice, lambda entry: None)  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError):
        DialListRunner(entries(1), lambda entry: None, calls_per_second=0)  # type: ignore[arg-type, return-value]


def test_cancel_cuts_a_real_pacing_wait_short():
    placed = threading.Event()
    calls: list[str] = []

    def place(entry: DialEntry) -> Call:
        calls.append(entry.identity)
        placed.set()
        return Call(f"CA{entry.identity}", entry.to, "+15005550006", "queued", "outbound-api")

    runner = DialListRunner(entries(3), place, calls_per_second=0.001)  # 1000 s apart
    worker = threading.Thread(target=runner.run)
    worker.start()
    assert placed.wait(5)
    runner.cancel()
    worker.join(5)
    assert not worker.is_alive()
    assert calls == ["p0"]
    assert [s.status for s in runner.states()] == ["queued", "skipped", "skipped"]


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(1, 12),
    cps=st.sampled_from([0.5, 1.0, 3.0, 10.0]),
    failing=st.sets(st.integers(0, 11)),
    cancel_at=st.one_of(st.none(), st.integers(0, 11)),
    passes=st.integers(1, 3),
)
def test_every_pass_places_each_entry_at_most_once_and_never_too_fast(
    count, cps, failing, cancel_at, passes
):
    runner, placer, _, _ = make_runner(count, cps=cps, takes=0.05)
    placer.fail = {f"p{n}" for n in failing}
    if cancel_at is not None:
        placer.during[f"p{cancel_at}"] = lambda sid: runner.cancel()
    for _ in range(passes):
        before = len(placer.placed)
        runner.run()
        names = [name for _, name in placer.placed[before:]]
        assert len(names) == len(set(names))
        for state in runner.states():
            assert state.status not in ("pending", "dialing")
        runner.retry_entries(statuses=("error", "skipped"))
    times = [when for when, _ in placer.placed]  # across passes too: the CPS is the account's
    assert all(b - a >= 1 / cps - 1e-9 for a, b in itertools.pairwise(times))
