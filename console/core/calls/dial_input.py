"""Checks what the operator typed into the dial pad and turns it into a dialable request."""

from __future__ import annotations

import re
from dataclasses import dataclass

from webhook.names import InvalidName, check_room_name
from webhook.names import check_identity as check_identity_name

MAX_E164_DIGITS = 15
DIALABLE = frozenset("0123456789+*#")
_SEPARATORS = frozenset(" -().\u00a0/")
_SIP_SCHEME = re.compile(r"sips?:", re.IGNORECASE)
_SIP_URI = re.compile(
    r"(?P<user>[^@\s;?:]+)@(?P<host>[^@\s;?:]+|\[[0-9A-Fa-f:.]+\])"
    r"(?::(?P<port>\d+))?(?P<rest>[;?]\S*)?"
)
_HOST_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")

_UNKNOWN_COUNTRY = "The number does not start with a known country code."


class InvalidInput(ValueError):
    """A dial pad field the operator has to fix; field names it, message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class InvalidNumber(InvalidInput):
    """A number or SIP address that cannot be dialed."""

    def __init__(self, message: str) -> None:
        super().__init__("number", message)


@dataclass(frozen=True)
class DialRequest:
    """One checked dial: call `to` from `from_` into `room` as `identity` ('' = Twilio picks)."""

    to: str
    from_: str
    room: str
    identity: str
    anyway: bool = False  # the operator chose to dial over the identity someone in the room has


def _normalize_sip(text: str) -> str:
    scheme, rest = text.split(":", 1)
    if scheme.lower() == "sips":
        raise InvalidNumber("Use sip: with ;transport=tls instead of sips:.")
    example = "like sip:alice@example.com"
    if any(char.isspace() for char in rest):
        raise InvalidNumber("A SIP address cannot contain spaces.")
    match = _SIP_URI.fullmatch(rest)
    if match is None:
        raise InvalidNumber(f"A SIP address needs a user and a host, {example}.")
    host = match["host"]
    if not host.startswith("[") and not all(
        _HOST_LABEL.fullmatch(label) for label in host.split(".")
    ):
        raise InvalidNumber(f"“{host}” is not a valid host name for a SIP address.")
    if match["port"] is not None and not 1 <= int(match["port"]) <= 65535:
        raise InvalidNumber("The SIP port must be between 1 and 65535.")
    return "sip:" + rest


def _check_characters(text: str) -> None:
    for position, char in enumerate(text):
        if char.isalpha():
            raise InvalidNumber("The number contains letters; type digits or a sip: address.")
        if char in "*#":
            raise InvalidNumber("* and # are keypad tones, not part of a number to dial.")
        if char == "+" and text[:position].strip():
            raise InvalidNumber("A + can only come first, before the country code.")
        if char not in DIALABLE and char not in _SEPARATORS:
            raise InvalidNumber(f"The number contains “{char}”; type digits, spaces or dashes.")


def normalize_destination(text: str, region: str) -> str:
    """Return the E.164 number or sip: URI to dial, or raise InvalidNumber saying what's wrong."""
    text = text.strip()
    if not text:
        raise InvalidNumber("Type a phone number or a sip: address.")
    if _SIP_SCHEME.match(text):
        return _normalize_sip(text)
    _check_characters(text)
    if not any(char.isdigit() for char in text):
        raise InvalidNumber("Type the digits of the number.")
    import phonenumbers  # loaded on first use: it costs start-up time
    from phonenumbers import NumberParseException, ValidationResult

    try:
        number = phonenumbers.parse(text, region.upper() or None)
    except NumberParseException as error:
        if error.error_type != NumberParseException.INVALID_COUNTRY_CODE:
            long = error.error_type == NumberParseException.TOO_LONG
            raise InvalidNumber(f"The number is too {'long' if long else 'short'}.") from None
        if text.startswith("+"):
            raise InvalidNumber(_UNKNOWN_COUNTRY) from None
        raise InvalidNumber("Start the number with + and the country code.") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        raise InvalidNumber("The number is too short: add the area code.")
    if reason == ValidationResult.TOO_SHORT:
        raise InvalidNumber("The number is too short.")
    if reason == ValidationResult.TOO_LONG or len(e164) - 1 > MAX_E164_DIGITS:
        raise InvalidNumber("The number is too long.")
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        raise InvalidNumber(_UNKNOWN_COUNTRY)
    if reason != ValidationResult.IS_POSSIBLE:
        raise InvalidNumber(f"+{number.country_code} numbers do not have that many digits.")
    return e164


def format_as_you_type(text: str, region: str) -> str:
    """Format a partly typed number the way the region writes it; SIP and words stay as typed."""
    if any(char.isalpha() for char in text):
        return text
    dialable = [char for char in text if char in DIALABLE]
    if "+" in dialable[1:]:
        return text
    from phonenumbers import AsYouTypeFormatter

    formatter = AsYouTypeFormatter(region.upper() or "ZZ")
    formatted = ""
    for char in dialable:
        formatted = formatter.input_digit(char)
    return formatted.rstrip()


def cursor_after_format(text: str, cursor: int, formatted: str) -> int:
    """Where the cursor goes in formatted: after the same dialable character as in text."""
    count = sum(char in DIALABLE for char in text[:cursor])
    if count <= 0:
        return 0
    seen = 0
    for index, char in enumerate(formatted):
        seen += char in DIALABLE
        if seen == count:
            return index + 1
    return len(formatted)


def backspace(text: str, cursor: int) -> tuple[str, int]:
    """Delete the character before the cursor, skipping formatting back to a digit."""
    at = cursor - 1
    if not any(char.isalpha() for char in text):
        while at >= 0 and text[at] not in DIALABLE:
            at -= 1
    if at < 0:
        return text, cursor
    return text[:at] + text[at + 1 :], at


def caller_id_label(number: str, friendly_name: str) -> str:
    """How a caller ID reads in a list: the formatted number, then its name if it has one."""
    shown = format_as_you_type(number, "")
    friendly = friendly_name.strip()
    friendly_digits = "".join(char for char in friendly if char.isdigit())
    just_digits = friendly_digits and not any(char.isalpha() for char in friendly)
    if not friendly or (just_digits and number.endswith(friendly_digits)):
        return shown
    return f"{shown} · {friendly}"


def check_room(name: str) -> str:
    """Return the room name without surrounding spaces, or raise InvalidInput(field='room')."""
    name = name.strip()
    try:
        return check_room_name(name)
    except InvalidName as error:
        raise InvalidInput("room", str(error)) from None


def room_problem(text: str, when_empty: str = "") -> str:
    """What is wrong with a room name as typed ('' when nothing is); when_empty for a blank."""
    if not text.strip():
        return when_empty
    try:
        check_room(text)
    except InvalidInput as error:
        return error.message
    return ""


def check_identity(identity: str) -> str:
    """Return the identity without surrounding spaces ('' = Twilio assigns one), or raise."""
    identity = identity.strip()
    try:
        return check_identity_name(identity)
    except InvalidName as error:
        raise InvalidInput("identity", str(error)) from None


def find_errors(
    number: str, from_: str, room: str, identity: str, region: str
) -> list[InvalidInput]:
    """Every problem with the dial pad's fields, in field order (number, from, room, identity)."""
    errors: list[InvalidInput] = []
    checks = (
        lambda: normalize_destination(number, region),
        lambda: _check_from(from_),
        lambda: check_room(room),
        lambda: check_identity(identity),
    )
    for check in checks:
        try:
            check()
        except InvalidInput as error:
            errors.append(error)
    return errors


def _check_from(from_: str) -> str:
    if not from_.strip():
        raise InvalidInput("from", "Choose a caller ID number to call from.")
    return from_.strip()


def validate_request(number: str, from_: str, room: str, identity: str, region: str) -> DialRequest:
    """Check every field and return the DialRequest, or raise the first InvalidInput."""
    errors = find_errors(number, from_, room, identity, region)
    if errors:
        raise errors[0]
    return DialRequest(
        to=normalize_destination(number, region),
        from_=_check_from(from_),
        room=check_room(room),
        identity=check_identity(identity),
    )
