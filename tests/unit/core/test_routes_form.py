"""The Routes dialog's logic without Qt: rows ↔ rules, cell checks, loading and saving."""

from __future__ import annotations

import os

import pytest

from console.core.routes_form import (
    ACTION_CODE,
    ACTION_HOLD,
    ACTION_ROOM,
    RoutesChanged,
    caller_rows,
    check_caller_rows,
    check_code_rows,
    check_route_rows,
    check_rules,
    code_rows,
    load_routes,
    route_rows,
    rules_from_rows,
    save_if_unchanged,
)
from webhook.routes import Route, RoutingRules, parse_routes

RULES = RoutingRules(
    (
        Route("+15005550006", room="DailyStandup"),
        Route("+15005550007", ask_code=True),
        Route("*", hold=True),
    ),
    {"4242": "DailyStandup", "0042": "Support"},
    {"+14155550100": "alice", "sip:bob@example.com": "bob"},
)
TEXT = """\
# kept by hand
[[route]]
number = "+15005550006"
room = "DailyStandup"
[[route]]
number = "*"
hold = true
"""


def test_rules_become_rows_and_back():
    routes = route_rows(RULES)
    assert routes == [
        ("+15005550006", ACTION_ROOM, "DailyStandup"),
        ("+15005550007", ACTION_CODE, ""),
        ("*", ACTION_HOLD, ""),
    ]
    assert code_rows(RULES) == [("4242", "DailyStandup"), ("0042", "Support")]
    assert caller_rows(RULES)[1] == ("sip:bob@example.com", "bob")
    assert rules_from_rows(routes, code_rows(RULES), caller_rows(RULES)) == RULES
    assert check_rules(RULES) == ""


def test_a_route_keeps_its_room_only_for_the_room_action():
    rules = rules_from_rows([("*", ACTION_HOLD, "Leftover")], [], [])
    assert rules.routes == (Route("*", hold=True),)
    assert check_route_rows([("*", ACTION_HOLD, "")]) == {}


def test_route_cells_are_checked_one_by_one():
    rows = [
        ("", ACTION_ROOM, "A"),
        ("+1abc", ACTION_ROOM, ""),
        ("+15005550006", "Voicemail", ""),
        ("+15005550006", ACTION_ROOM, "bad\x07room"),
        ("sip:desk@example.com", ACTION_CODE, ""),
    ]
    errors = check_route_rows(rows)
    assert set(errors) == {(0, 0), (1, 0), (1, 2), (2, 1), (3, 0), (3, 2)}
    assert "Enter the called number" in errors[0, 0]
    assert "+1abc is not an E.164 number" in errors[1, 0]
    assert errors[1, 2] == "Enter the room."
    assert "Room, Ask for a code, Hold" in errors[2, 1]
    assert errors[3, 0] == "+15005550006 already has a route above."
    assert "control character" in errors[3, 2]


def test_code_and_caller_cells_are_checked():
    codes = check_code_rows([("42a", "R"), ("4242", ""), ("4242", "R" * 129)])
    assert codes[0, 0] == "A meeting code is 1 to 20 digits (0-9)."
    assert codes[1, 1] == "Enter the room this code joins."
    assert codes[2, 0] == "4242 already has a room above."
    assert "longer than 128" in codes[2, 1]
    callers = check_caller_rows([("*", "x"), ("+14155550100", ""), ("+14155550100", "a\x00")])
    assert "E.164" in callers[0, 0]
    assert callers[1, 1] == "Enter the identity this caller joins as."
    assert "already has an identity above" in callers[2, 0]
    assert "control character" in callers[2, 1]


def test_check_rules_reports_what_the_webhook_would_refuse():
    rules = RoutingRules((Route("*"),))  # a room route without a room: cells never allow it
    assert check_rules(rules) == 'key "room": The room name is empty.'


def test_load_a_missing_a_good_and_a_malformed_file(tmp_path):
    missing = load_routes(tmp_path / "routes.toml")
    assert (missing.rules, missing.exists, missing.error) == (RoutingRules(), False, None)

    good = tmp_path / "good.toml"
    good.write_text(TEXT, encoding="utf-8")
    loaded = load_routes(good)
    assert loaded.rules == parse_routes(TEXT) and loaded.exists and loaded.error is None

    bad = tmp_path / "bad.toml"
    bad.write_text(TEXT.replace("room =", "rom ="), encoding="utf-8")
    loaded = load_routes(bad)
    assert loaded.rules is None and loaded.exists
    assert loaded.text == TEXT.replace("room =", "rom =")
    assert (loaded.error.line, loaded.error.key) == (4, "rom")
    assert str(bad) in str(loaded.error)


def test_an_unreadable_file_offers_no_text(tmp_path):
    folder = tmp_path / "routes.toml"
    folder.mkdir()
    loaded = load_routes(folder)
    assert loaded.rules is None and loaded.text is None and loaded.exists
    assert "cannot be read" in str(loaded.error)


def test_save_only_over_the_file_that_was_read(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(TEXT, encoding="utf-8")
    loaded = load_routes(path)
    assert save_if_unchanged(path, RULES, loaded.stamp) == path
    assert parse_routes(path.read_text(encoding="utf-8")) == RULES

    path.write_text(TEXT + "\n# edited elsewhere\n", encoding="utf-8")
    with pytest.raises(RoutesChanged):
        save_if_unchanged(path, RoutingRules(), loaded.stamp)
    assert path.read_text(encoding="utf-8").endswith("# edited elsewhere\n")
    save_if_unchanged(path, RoutingRules(), loaded.stamp, force=True)
    assert parse_routes(path.read_text(encoding="utf-8")) == RoutingRules()


def test_a_file_created_meanwhile_is_not_overwritten(tmp_path):
    path = tmp_path / "sub" / "routes.toml"
    loaded = load_routes(path)
    path.parent.mkdir()
    path.write_text(TEXT, encoding="utf-8")
    with pytest.raises(RoutesChanged):
        save_if_unchanged(path, RULES, loaded.stamp)
    os.remove(path)
    save_if_unchanged(path, RULES, loaded.stamp)
    assert parse_routes(path.read_text(encoding="utf-8")) == RULES
