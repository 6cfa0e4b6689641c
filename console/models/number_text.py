"""Phone numbers as tables show them: formatted internationally, with the country they belong to."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def display_number(number: str) -> str:
    """'+14155550100' as '+1 415-555-0100 (US)'; SIP addresses and anything else as given."""
    text = (number or "").strip()
    if not text.startswith("+"):
        return text
    import phonenumbers  # loaded by the console's start-up already; cheap here

    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    region = phonenumbers.region_code_for_number(parsed) or (
        phonenumbers.region_code_for_country_code(parsed.country_code)
    )
    return f"{formatted} ({region})" if region and region != "ZZ" else formatted
