"""Subscribe and Recording Rules as Twilio documents them: the checks, and the set algebra."""

from __future__ import annotations

import json

import pytest

from sandbox.errors import TwilioApiError
from sandbox.models import Track
from sandbox.track_rules import RECORDING, SUBSCRIBE, parse_rules, selected, shown, subscribed

# Twilio's worked example: Alice, Bob and Carl with their tracks (SID, name, kind).
TRACKS = [
    Track("MTA_A", "alice-audio", "audio", "PTA", "Alice"),
    Track("MTA_C", "alice-cam", "video", "PTA", "Alice"),
    Track("MTA_S", "screen", "video", "PTA", "Alice"),
    Track("MTB_A", "bob-audio", "audio", "PTB", "Bob"),
    Track("MTB_C", "bob-cam", "video", "PTB", "Bob"),
    Track("MTB_S", "screen", "video", "PTB", "Bob"),
    Track("MTC_A", "carl-audio", "audio", "PTC", "Carl"),
    Track("MTC_C", "carl-cam", "video", "PTC", "Carl"),
    Track("MTC_D", "carl-data", "data", "PTC", "Carl"),
]


def sids(tracks: list[Track]) -> set[str]:
    return {t.sid for t in tracks}


@pytest.mark.parametrize(
    ("rules", "subscriber", "expected"),
    [
        (
            [{"type": "include", "all": True}],
            "PTA",
            {"MTB_A", "MTB_C", "MTB_S", "MTC_A", "MTC_C", "MTC_D"},
        ),
        ([{"type": "exclude", "all": True}], "PTA", set()),
        ([{"type": "exclude", "kind": "video"}], "PTA", set()),
        ([{"type": "include", "track": "alice-audio"}], "PTA", set()),  # never one's own
        ([{"type": "include", "track": "screen"}], "PTA", {"MTB_S"}),
        (
            [
                {"type": "include", "all": True},
                {"type": "exclude", "kind": "video"},
                {"type": "include", "publisher": "Bob", "track": "screen"},
            ],
            "PTA",
            {"MTB_A", "MTC_A", "MTC_D", "MTB_S"},
        ),
        (
            [
                {"type": "include", "all": True},
                {"type": "exclude", "publisher": "PTB", "kind": "audio"},
                {"type": "exclude", "kind": "video", "track": "screen"},
            ],
            "PTC",
            {"MTA_A", "MTA_C", "MTB_C"},
        ),
        (
            [{"type": "include", "kind": "data"}, {"type": "exclude", "publisher": "Carl"}],
            "PTA",
            set(),
        ),
        (
            [{"type": "exclude", "publisher": "Carl"}, {"type": "include", "kind": "data"}],
            "PTA",
            {"MTC_D"},
        ),
    ],
)
def test_twilios_worked_examples(rules, subscriber, expected):
    parsed = parse_rules(json.dumps(rules), SUBSCRIBE)
    assert sids(subscribed(parsed, TRACKS, subscriber)) == expected


def test_no_rules_yet_is_the_default_subscribe_to_all():
    assert sids(subscribed(None, TRACKS, "PTB")) == sids(TRACKS) - {"MTB_A", "MTB_C", "MTB_S"}


def test_recording_rules_select_from_every_track():
    rules = parse_rules(
        '[{"type": "include", "publisher": "Alice"}, {"type": "include", "kind": "audio"}]',
        RECORDING,
    )
    assert sids(selected(rules, TRACKS)) == {"MTA_A", "MTA_C", "MTA_S", "MTB_A", "MTC_A"}


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "[]",
        "{}",
        '{"rules": []}',
        "not json",
        '[{"type": "include", "all": false}]',
        '[{"type": "include", "all": true, "kind": "audio"}]',
        '[{"type": "include", "kind": "wideo"}]',
        '[{"type": "include", "kind": "audio", "kind": "data"}]',
        '[{"all": true}]',
        '[{"type": "maybe", "all": true}]',
        '[{"type": "include"}]',
        '[{"type": "include", "publisher": 7}]',
        '[{"type": "include", "priority": "urgent"}]',
        '["include"]',
        json.dumps([{"type": "include", "all": True}] * 21),
    ],
)
def test_bad_subscribe_rules_are_53215(raw):
    with pytest.raises(TwilioApiError) as refused:
        parse_rules(raw, SUBSCRIBE)
    assert (refused.value.status, refused.value.code) == (400, 53215)
    assert refused.value.message == "Invalid Subscribe Rule(s)"


def test_recording_rules_refuse_data_and_priority_as_53120():
    for raw in (
        '[{"type": "include", "kind": "data"}]',
        '[{"type": "include", "priority": "high"}]',
    ):
        with pytest.raises(TwilioApiError) as refused:
            parse_rules(raw, RECORDING)
        assert refused.value.code == 53120


def test_rules_read_either_way_and_show_every_filter():
    wrapped = parse_rules('{"rules": [{"type": "include", "all": "true"}]}', SUBSCRIBE)
    assert wrapped == [{"type": "include", "all": True}]
    unused = dict.fromkeys(("publisher", "track", "kind", "priority"))
    assert shown(wrapped[0], SUBSCRIBE) == {"type": "include", "all": True, **unused}
    assert shown({"type": "exclude", "kind": "video"}, RECORDING) == {
        "type": "exclude", "all": None, "publisher": None, "track": None, "kind": "video"
    }  # fmt: skip
