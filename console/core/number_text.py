"""Phone numbers as tables show them: formatted internationally, with the country they belong to."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def international(number: str) -> str:
    """'+442079460000' as '+44 20 7946 0000'; SIP addresses and anything else as given."""
    parsed = _parsed(number)
    if parsed is None:
        return (number or "").strip()
    import phonenumbers

    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)
def display_number(number: str) -> str:
    """'+14155550100' as '+1 415-555-0100 (US)'; SIP addresses and anything else as given."""
    parsed = _parsed(number)
    if parsed is None:
        return (number or "").strip()
    import phonenumbers

    formatted = international(number)
    region = phonenumbers.region_code_for_number(parsed) or (
        phonenumbers.region_code_for_country_code(parsed.country_code)
    )
    return f"{formatted} ({region})" if region and region != "ZZ" else formatted


def _parsed(number: str):  # -> phonenumbers.PhoneNumber | None
    """The number parsed, or None for SIP addresses, blanks and what does not parse."""
    text = (number or "").strip()
    if not text.startswith("+"):
        return None
    import phonenumbers  # loaded by the console's start-up already; cheap here

    try:
        return phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
