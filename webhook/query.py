"""Strict parsing of a request's query string: every value must be valid UTF-8."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from webhook.names import decode_utf8

# A parameter name that may be quoted back to the caller (in a spoken error): plain ASCII.
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def strict_query(raw: bytes) -> dict[str, str]:
    """Decode a raw query string, raising InvalidName when a value is not valid UTF-8.

    Werkzeug would quietly replace broken bytes with U+FFFD; a room name must never be
    silently altered, so the bytes are decoded here without that fallback.
    """
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    result: dict[str, str] = {}
    for key, value in pairs:
        name = decode_utf8(key.encode("latin-1"), "query parameter name")
        what = name if _PLAIN_NAME.fullmatch(name) else "query parameter"
        result.setdefault(name, decode_utf8(value.encode("latin-1"), what))
    return result
