"""routes.toml: parsing, errors that name line and key, writing, matching, identities, reloads."""

from __future__ import annotations

import os
import string

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from webhook.names import InvalidName, check_room_name, free_identity
from webhook.routes import (
    Route,
    RoutesError,
    RoutingRules,
    identity_for,
    parse_routes,
    render_routes,
)
from webhook.routes_file import RoutesFile, default_routes_path, read_routes, save_routes

ISSUE_EXAMPLE = """\
[[route]]
number = "+15005550006"     # every call to this number joins DailyStandup
room = "DailyStandup"
[[route]]
number = "+15005550007"     # the caller types a meeting code
ask_code = true
[[route]]
number = "*"                # any other number waits for the operator
hold = true
[codes]
4242 = "DailyStandup"
[callers]                   # identities for known callers
"+14155550100" = "alice"
"""

EXPECTED = RoutingRules(
    routes=(
        Route("+15005550006", room="DailyStandup"),
        Route("+15005550007", ask_code=True),
        Route("*", hold=True),
    ),
    codes={"4242": "DailyStandup"},
    callers={"+14155550100": "alice"},
)


def test_the_documented_example_parses():
    rules = parse_routes(ISSUE_EXAMPLE)
    assert rules == EXPECTED
    assert [r.action for r in rules.routes] == ["room", "ask_code", "hold"]


def test_an_empty_file_has_no_rules():
    assert parse_routes("") == RoutingRules()
    assert parse_routes("# nothing yet\n").route_for("+15005550006") is None


def test_matching_prefers_the_exact_number_then_the_star():
    rules = parse_routes(ISSUE_EXAMPLE)
    assert rules.route_for("+15005550006").room == "DailyStandup"
    assert rules.route_for("+15005550007").ask_code
    assert rules.route_for("+15550000000").hold
    star_first = RoutingRules(routes=(Route("*", hold=True), Route("+15005550006", room="R")))
    assert star_first.route_for("+15005550006").room == "R"
    assert RoutingRules(routes=(Route("+15005550006", room="R"),)).route_for("+1555") is None


def test_rules_are_immutable():
    rules = parse_routes(ISSUE_EXAMPLE)
    with pytest.raises(TypeError):
        rules.codes["1"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        rules.routes = ()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("caller", "identity"),
    [
        ("+14155550100", "alice"),
        ("+16505550100", "phone-0100"),
        ("+442079460018", "phone-0018"),
        ("sip:bob@example.sip.twilio.com", "bob"),
        ("sip:carol%20ann@example.com;transport=tls", "carol ann"),
        ("sip:@example.com", "sip-caller"),
        ("anonymous", "caller"),
    ],
)
def test_identity_for_callers(caller, identity):
    assert identity_for(caller, EXPECTED) == identity


def test_free_identity_keeps_phone_numbers_whole():
    assert free_identity("phone-0100", ["phone-0100"]) == "phone-0100-2"
    assert free_identity("phone-4242", ["phone-4242"]) == "phone-4242-2"
    assert free_identity("phone-4242", ["phone-4242", "phone-4242-2"]) == "phone-4242-3"
    assert free_identity("alice", ["alice", "alice-2"]) == "alice-3"


BROKEN = [
    # (text, line, key, words in the problem)
    ('[[route]]\nnumber = "+15005550006"\nrom = "Daily"\n', 3, "rom", "unknown route key"),
    ('[[route]]\nnumber = "+15005550006"\nroom = "Daily\n', 3, "room", "not valid TOML"),
    ('[[route]]\nnumber = "+15005550006"\n', 1, "room | ask_code | hold", "needs room"),
    ('[[route]]\nnumber = 15005550006\nroom = "R"\n', 2, "number", "in quotes"),
    ('[[route]]\nnumber = "5550006"\nroom = "R"\n', 2, "number", "E.164"),
    ('[[route]]\nroom = "R"\n', 1, "number", "needs the number"),
    ('[[route]]\nnumber = "*"\nroom = "R"\nhold = true\n', 4, "hold", "one thing"),
    ('[[route]]\nnumber = "*"\nhold = "yes"\n', 3, "hold", "true or false"),
    ('[[route]]\nnumber = "*"\nroom = ""\n', 3, "room", "empty"),
    ('[[route]]\nnumber = "*"\nhold = true\n\n[[route]]\nnumber = "*"\nhold = true\n', 6,
     "number", "already has a route"),
    ('[route]\nnumber = "*"\n', 1, "route", "[[route]]"),
    ('[codes]\n4242 = "DailyStandup"\nabc = "Other"\n', 3, "abc", "digits"),
    ('[codes]\n4242 = "x' + "x" * 128 + '"\n', 2, "4242", "longer than 128"),
    ('[codes]\n4242 = 7\n', 2, "4242", "room name in quotes"),
    ('[callers]\n"+14155550100" = ""\n', 2, "+14155550100", "non-empty identity"),
    ('[callers]\nalice = "alice"\n', 2, "alice", "E.164"),
    ('# rules\nfoo = 1\n', 2, "foo", "unknown setting"),
    ('[[route]]\nnumber = "*"\nhold = true\n[extra]\nx = 1\n', 4, "extra", "unknown setting"),
    ('[codes]\n4242 = "A"\n4242 = "B"\n', 3, "4242", "not valid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "key", "words"), BROKEN)
def test_errors_name_the_line_and_the_key(text, line, key, words):
    with pytest.raises(RoutesError) as caught:
        parse_routes(text, source="routes.toml")
    error = caught.value
    assert (error.line, error.key) == (line, key)
    assert words in error.problem
    assert str(error).startswith(f'routes.toml, line {line}, key "{key}": ')


def test_a_syntax_error_without_a_key_still_names_the_line():
    with pytest.raises(RoutesError) as caught:
        parse_routes('[[route]]\nnumber = "*"\nhold = true\n[[route]\n')
    assert caught.value.line == 4 and str(caught.value).startswith("routes.toml, line 4: ")


def _acceptable(name: str) -> bool:
    """Whether the webhook takes name as a room name (and so as an identity)."""
    try:
        check_room_name(name)
    except InvalidName:
        return False
    return True


_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
).filter(_acceptable)
_e164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
_route_action = st.one_of(
    _names.map(lambda room: {"room": room}),
    st.just({"ask_code": True}),
    st.just({"hold": True}),
)


@st.composite
def _rules(draw) -> RoutingRules:
    numbers = draw(st.lists(st.one_of(_e164, st.just("*")), unique=True, max_size=5))
    routes = tuple(Route(number, **draw(_route_action)) for number in numbers)
    codes = draw(st.dictionaries(st.from_regex(r"[0-9]{1,8}", fullmatch=True), _names))
    callers = draw(st.dictionaries(_e164, _names, max_size=5))
    return RoutingRules(routes, codes, callers)


@given(_rules())
def test_rendered_rules_read_back_the_same(rules):
    assert parse_routes(render_routes(rules)) == rules


def test_render_writes_one_route_table_each():
    text = render_routes(EXPECTED)
    assert text.count("[[route]]") == 3
    assert "[codes]" in text and "[callers]" in text
    assert parse_routes(text) == EXPECTED


_toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.sampled_from(["route", "codes", "callers", "x"]), _toml_values))
def test_any_toml_document_gives_rules_or_a_routes_error(document):
    text = tomli_w.dumps(document)
    try:
        parse_routes(text)
    except RoutesError as error:
        assert 1 <= error.line <= max(1, len(text.splitlines()))


@given(st.text(alphabet=string.printable, max_size=200))
def test_any_text_gives_rules_or_a_routes_error(text):
    try:
        parse_routes(text)
    except RoutesError as error:
        assert error.line >= 1


def test_default_path_is_in_the_settings_directory(user_dirs):
    assert default_routes_path() == user_dirs.config / "Switchboard" / "routes.toml"


def test_save_routes_writes_atomically(tmp_path):
    target = tmp_path / "new" / "routes.toml"
    assert save_routes(target, EXPECTED) == target
    assert read_routes(target) == EXPECTED
    assert [p.name for p in target.parent.iterdir()] == ["routes.toml"]


def test_read_routes_names_the_file(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text('[[route]]\nnumber = "*"\n', encoding="utf-8")
    with pytest.raises(RoutesError) as caught:
        read_routes(path)
    assert str(caught.value).startswith(f"{path}, line 1, key ")
    with pytest.raises(RoutesError, match="cannot be read"):
        read_routes(tmp_path / "missing.toml")


def _age(path, seconds: int = 60) -> None:
    """Date a file back, so its stat no longer counts as freshly written."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 1_000_000_000))


def test_routes_file_reloads_keeps_good_rules_and_reports_errors(tmp_path):
    path = tmp_path / "routes.toml"
    routes = RoutesFile(path)
    assert routes.check() is False  # missing: no rules, no error, nothing new
    assert (routes.rules, routes.error, routes.exists) == (RoutingRules(), "", False)

    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    assert routes.check() is True
    assert routes.rules == EXPECTED and routes.error == ""
    _age(path)
    assert routes.check() is False  # unchanged: one stat, no read

    path.write_text(ISSUE_EXAMPLE.replace('room = "Daily', 'rooom = "Daily'), encoding="utf-8")
    assert routes.check() is True
    assert routes.rules == EXPECTED  # the last good rules stay in force
    assert 'line 3, key "rooom"' in routes.error and str(path) in routes.error

    path.write_text(ISSUE_EXAMPLE.replace("DailyStandup", "Support"), encoding="utf-8")
    assert routes.check() is True
    assert routes.rules.route_for("+15005550006").room == "Support" and routes.error == ""

    path.unlink()
    assert routes.check() is True
    assert routes.rules.route_for("+15005550006").room == "Support" and not routes.exists
    assert "is missing; the last good rules" in routes.error


def test_a_change_with_the_same_size_and_time_is_still_seen(tmp_path):
    path = tmp_path / "routes.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    routes = RoutesFile(path)
    routes.check()
    stamp = path.stat()
    path.write_text(ISSUE_EXAMPLE.replace("4242", "4243"), encoding="utf-8")  # same size
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert routes.check() is True
    assert dict(routes.rules.codes) == {"4243": "DailyStandup"}
