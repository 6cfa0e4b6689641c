"""Dial pad input: numbers, SIP addresses, room names and identities, checked without Qt."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.calls.dial_input import (
    DIALABLE,
    DialRequest,
    InvalidInput,
    InvalidNumber,
    backspace,
    caller_id_label,
    check_identity,
    check_room,
    cursor_after_format,
    find_errors,
    format_as_you_type,
    normalize_destination,
    room_problem,
    validate_request,
)
from webhook.names import free_identity


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("+15551234567", "US", "+15551234567"),
        ("+15005550006", "US", "+15005550006"),  # Twilio's magic test number
        ("+1 (555) 123-4567", "US", "+15551234567"),
        ("  +1 555-123-4567  ", "GB", "+15551234567"),
        ("(555) 123-4567", "US", "+15551234567"),
        ("555.123.4567", "us", "+15551234567"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("0049 30 123456", "DE", "+4930123456"),
        ("+44 20 7946 0018", "", "+442079460018"),
    ],
)
def test_numbers_become_e164(text, region, expected):
    assert normalize_destination(text, region) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip:alice@example.com", "sip:alice@example.com"),
        ("SIP:alice@example.com", "sip:alice@example.com"),
        ("Sip:bob@10.0.0.7", "sip:bob@10.0.0.7"),
        ("sip:alice@example.com:5060;transport=tls", "sip:alice@example.com:5060;transport=tls"),
        (
            "sip:+15551234567@pbx.example.com?X-Ticket=42",
            "sip:+15551234567@pbx.example.com?X-Ticket=42",
        ),
        ("  sip:alice@[2001:db8::1]:5061  ", "sip:alice@[2001:db8::1]:5061"),
    ],
)
def test_sip_addresses_keep_their_parts_and_get_a_lowercase_scheme(text, expected):
    assert normalize_destination(text, "US") == expected


@pytest.mark.parametrize(
    ("text", "region", "words"),
    [
        ("", "US", "Type a phone number"),
        ("   ", "US", "Type a phone number"),
        ("1-800-FLOWERS", "US", "letters"),
        ("call bob", "US", "letters"),
        ("12", "US", "too short"),
        ("+44", "US", "too short"),
        ("555 1234", "US", "area code"),
        ("+1 555 123 45678", "US", "too long"),
        ("12345678901234567890", "US", "too long"),
        ("+999 1234", "US", "country code"),
        ("5551234567", "", "Start the number with +"),
        ("555+1234567", "US", "A + can only come first"),
        ("*67 555 123 4567", "US", "keypad tones"),
        ("555_123_4567", "US", "“_”"),
        ("+", "US", "digits"),
        ("sip:alice", "US", "user and a host"),
        ("sip:@example.com", "US", "user and a host"),
        ("sip:", "US", "user and a host"),
        ("sip:alice@", "US", "user and a host"),
        ("sip:al ice@example.com", "US", "spaces"),
        ("sip:alice@exa_mple.com", "US", "not a valid host"),
        ("sip:alice@example.com:70000", "US", "between 1 and 65535"),
        ("sips:alice@example.com", "US", "transport=tls"),
    ],
)
def test_bad_destinations_say_what_is_wrong(text, region, words):
    with pytest.raises(InvalidNumber) as caught:
        normalize_destination(text, region)
    assert caught.value.field == "number"
    assert words in caught.value.message
    assert str(caught.value) == caught.value.message
    assert isinstance(caught.value, InvalidInput)
    assert isinstance(caught.value, ValueError)


_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]
_TYPES = [phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE]


@given(st.sampled_from(_REGIONS), st.sampled_from(_FORMATS), st.sampled_from(_TYPES))
def test_example_numbers_of_every_region_round_trip(region, number_format, number_type):
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None:
        return
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(example, number_format)
    assert normalize_destination(written, region) == e164
    assert normalize_destination(e164, "") == e164


def test_format_as_you_type_formats_national_and_international_numbers():
    assert format_as_you_type("5551234", "US") == "555-1234"
    assert format_as_you_type("5551234567", "US") == "(555) 123-4567"
    assert format_as_you_type("(555) 123-45", "US") == "(555) 123-45"
    assert format_as_you_type("+15551234567", "US") == "+1 555-123-4567"
    assert format_as_you_type("+44", "US") == "+44"
    assert format_as_you_type("+442079460018", "us") == "+44 20 7946 0018"
    assert format_as_you_type("", "US") == ""
    assert format_as_you_type("+", "US") == "+"


def test_format_as_you_type_leaves_sip_and_words_alone():
    assert format_as_you_type("sip:alice@example.com", "US") == "sip:alice@example.com"
    assert format_as_you_type("s", "US") == "s"
    assert format_as_you_type("555 12ab", "US") == "555 12ab"
    assert format_as_you_type("555+1", "US") == "555+1"


def _dialable(text: str) -> str:
    return "".join(char for char in text if char in DIALABLE)


@given(
    st.sampled_from(["US", "GB", "DE", "FR", "JP", "IN", ""]),
    st.booleans(),
    st.text(alphabet="0123456789 -()", max_size=20),
)
def test_format_as_you_type_keeps_every_digit_and_the_meaning(region, plus, body):
    typed = ("+" if plus else "") + body
    formatted = format_as_you_type(typed, region)
    assert _dialable(formatted) == _dialable(typed)
    try:
        before = normalize_destination(typed, region)
    except InvalidNumber:
        before = None
    try:
        after = normalize_destination(formatted, region)
    except InvalidNumber:
        after = None
    assert after == before


def test_cursor_follows_the_digit_it_was_after():
    assert cursor_after_format("5551234", 3, "555-1234") == 3
    assert cursor_after_format("5551234", 4, "555-1234") == 5
    assert cursor_after_format("15551234567", 1, "1 (555) 123-4567") == 1
    assert cursor_after_format("(555) 123-4567", 0, "(555) 123-4567") == 0
    assert cursor_after_format("5551234567", 10, "(555) 123-4567") == 14


@given(st.text(alphabet="0123456789", max_size=16), st.data())
def test_cursor_after_format_keeps_the_digits_before_it(digits, data):
    cursor = data.draw(st.integers(0, len(digits)))
    formatted = format_as_you_type(digits, "US")
    moved = cursor_after_format(digits, cursor, formatted)
    assert 0 <= moved <= len(formatted)
    assert _dialable(formatted[:moved]) == digits[:cursor]


def test_backspace_skips_formatting_back_to_a_digit():
    assert backspace("555-1234", 8) == ("555-123", 7)
    assert backspace("555-1234", 4) == ("55-1234", 2)
    assert backspace("(555) 123", 6) == ("(55) 123", 3)
    assert backspace("(555", 1) == ("(555", 1)  # nothing dialable before the cursor
    assert backspace("", 0) == ("", 0)
    assert backspace("sip:a b", 6) == ("sip:ab", 5)  # addresses lose exactly one character


def test_caller_id_label_names_the_number_once():
    assert caller_id_label("+15005550006", "Main line") == "+1 500-555-0006 · Main line"
    assert caller_id_label("+15005550006", "(500) 555-0006") == "+1 500-555-0006"
    assert caller_id_label("+15005550006", "") == "+1 500-555-0006"
    assert caller_id_label("+15005550006", "Desk 2") == "+1 500-555-0006 · Desk 2"


def test_check_room_strips_and_reports_the_room_field():
    assert check_room("  DailyStandup ") == "DailyStandup"
    for bad in ["", "   ", "x" * 129, "bad\x07name"]:
        with pytest.raises(InvalidInput) as caught:
            check_room(bad)
        assert caught.value.field == "room"
        assert "room name" in caught.value.message
    assert check_room("é" * 128) == "é" * 128


def test_check_identity_allows_empty_and_reports_the_identity_field():
    assert check_identity("") == ""
    assert check_identity("   ") == ""
    assert check_identity(" alice ") == "alice"
    for bad in ["a" * 129, "al\nice"]:
        with pytest.raises(InvalidInput) as caught:
            check_identity(bad)
        assert caught.value.field == "identity"
        assert "identity" in caught.value.message


def test_free_identity_examples():
    assert free_identity("alice", []) == "alice"
    assert free_identity("alice", ["bob"]) == "alice"
    assert free_identity("alice", ["alice"]) == "alice-2"
    assert free_identity("alice", ["alice", "alice-2", "alice-3"]) == "alice-4"
    assert free_identity("alice-2", ["alice", "alice-2"]) == "alice-3"
    assert free_identity("alice-2", ["alice-2"]) == "alice-3"
    assert free_identity("room-1", ["room-1"]) == "room-1-2"
    assert free_identity("-2", ["-2"]) == "-2-2"
    assert free_identity("", ["", "alice"]) == ""  # Twilio picks a unique one itself
    long = "a" * 128
    assert free_identity(long, [long]) == "a" * 126 + "-2"
    assert free_identity(long, [long, "a" * 126 + "-2"]) == "a" * 126 + "-3"


_identities = st.text(min_size=1, max_size=140)


@given(_identities, st.lists(_identities, max_size=30))
def test_free_identity_never_returns_a_taken_identity(identity, others):
    taken = [*others, identity, identity[:128]]
    result = free_identity(identity, taken)
    assert result not in taken
    assert 0 < len(result) <= 128


@given(
    st.text(alphabet="ab-0123456789", min_size=1, max_size=130),
    st.lists(st.text(alphabet="ab-0123456789", max_size=130), max_size=30),
)
def test_free_identity_keeps_a_free_identity_and_finds_variants(identity, taken):
    result = free_identity(identity, taken)
    assert result not in taken
    assert len(result) <= 128
    if len(identity) <= 128 and identity not in taken:
        assert result == identity


def test_validate_request_returns_normalized_fields():
    request = validate_request("(555) 123-4567", "+15005550006", " Support ", " alice ", "US")
    assert request == DialRequest(
        to="+15551234567", from_="+15005550006", room="Support", identity="alice"
    )
    sip = validate_request("SIP:bob@example.com", "+15005550006", "Support", "", "US")
    assert sip.to == "sip:bob@example.com"
    assert sip.identity == ""


def test_validate_request_raises_the_first_problem_in_field_order():
    with pytest.raises(InvalidNumber):
        validate_request("12", "", "", "x" * 200, "US")
    with pytest.raises(InvalidInput) as caught:
        validate_request("+15551234567", "", "", "", "US")
    assert caught.value.field == "from"
    assert caught.value.message.startswith("Choose a caller ID")
    with pytest.raises(InvalidInput) as caught:
        validate_request("+15551234567", "+15005550006", "  ", "", "US")
    assert caught.value.field == "room"
    with pytest.raises(InvalidInput) as caught:
        validate_request("+15551234567", "+15005550006", "Support", "x" * 129, "US")
    assert caught.value.field == "identity"


def test_find_errors_lists_every_field_in_order():
    errors = find_errors("12", "", "", "x" * 129, "US")
    assert [error.field for error in errors] == ["number", "from", "room", "identity"]
    assert find_errors("+15551234567", "+15005550006", "Support", "", "US") == []


BIDI_CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_names_with_text_direction_controls_are_refused(control):
    """A name holding one displays as something it is not ("alice" that is not alice)."""
    for check, field in ((check_room, "room"), (check_identity, "identity")):
        with pytest.raises(InvalidInput) as caught:
            check(f"ali{control}ecila")
        assert caught.value.field == field
        assert f"U+{ord(control):04X}" in caught.value.message
        assert "text-direction" in caught.value.message


def test_right_to_left_names_without_controls_are_accepted():
    assert check_room("غرفة الاجتماع") == "غرفة الاجتماع"
    assert check_identity("שלום") == "שלום"


def test_room_problem_says_what_is_wrong_or_nothing():
    assert room_problem("DailyStandup") == ""
    assert room_problem("   ") == ""
    assert room_problem("", "Name a room.") == "Name a room."
    assert "longer than 128" in room_problem("x" * 129)
