"""Database URLs made safe to show: their passwords found in any shape of URL, never an error."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import unquote

ENV_DATABASE_URL = "SWITCHBOARD_DATABASE_URL"
HIDDEN = "***"
SCHEMES = ("postgresql", "postgres")
# Must be percent-encoded in a URL's user name or password: libpq ends the user part at the
# first @ or /, so an unescaped one would hand the rest of the password to the host name.
RESERVED = {"@": "%40", "/": "%2F", "?": "%3F", "#": "%23"}

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
# In free text: a URL's user:password@ (up to the last @ in the word), and key=value passwords.
# Bounded, and starting only where a scheme can start: text anyone can send (a logged request
# URL) must not make the search take time growing with the square of its length.
_URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]{0,31}://[^\s:@]{0,256}:)(\S{0,512}?)@(?!\S{0,512}@)"
)
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)([^&#\s]*)")
_KEYWORD_PASSWORD = re.compile(
    r"(?i)((?<![?&])\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s\\]|\\.)+)"
)


def _split(url: str) -> tuple[str, str, str] | None:
    """(scheme://, userinfo, the rest after @) of a URL; userinfo runs to the last @."""
    found = _SCHEME.match(url.strip())
    if found is None:
        return None
    text = url.strip()
    rest = text[found.end() :]
    at = rest.rfind("@")
    if at < 0:
        return found.group(0), "", rest
    return found.group(0), rest[:at], rest[at + 1 :]


def database_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """SWITCHBOARD_DATABASE_URL, or ''."""
    return (env if env is not None else os.environ).get(ENV_DATABASE_URL, "").strip()


def secrets_of(url: str) -> list[str]:
    """Every form of every password the URL or key=value string carries (as typed, decoded)."""
    found: list[str] = []
    parts = _split(url or "")
    if parts is not None:
        _, userinfo, rest = parts
        if ":" in userinfo:
            found.append(userinfo.split(":", 1)[1])
        found += [m.group(2) for m in _QUERY_PASSWORD.finditer(rest)]
        found += [unquote(raw) for raw in found]
    else:
        for match in _KEYWORD_PASSWORD.finditer(url or ""):
            raw = match.group(2)
            bare = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == "'" else raw.lstrip("'")
            found += [raw, re.sub(r"\\(.)", r"\1", bare)]
    return list(dict.fromkeys(s for s in found if s))


def password_of(url: str) -> str:
    """The password a postgresql:// URL or key=value string carries ('' when none)."""
    parts = _split(url or "")
    if parts is None:
        forms = secrets_of(url)
        return forms[-1] if forms else ""
    _, userinfo, rest = parts
    query = [m.group(2) for m in _QUERY_PASSWORD.finditer(rest)]
    if query:  # libpq: a parameter in the query wins over the user part
        return unquote(query[-1])
    return unquote(userinfo.split(":", 1)[1]) if ":" in userinfo else ""


def hide_passwords(text: str) -> str:
    """text with every URL password and password=… value in it replaced by ***."""
    text = _URL_USERINFO.sub(rf"\1{HIDDEN}@", text)
    text = _QUERY_PASSWORD.sub(rf"\1{HIDDEN}", text)
    return _KEYWORD_PASSWORD.sub(rf"\1{HIDDEN}", text)


def redact(url: str) -> str:
    """The URL (or key=value string) with its password replaced by ***, for logs and errors."""
    parts = _split(url or "")
    if parts is None:
        return _KEYWORD_PASSWORD.sub(rf"\1{HIDDEN}", url or "")
    scheme, userinfo, rest = parts
    if ":" in userinfo:
        userinfo = f"{userinfo.split(':', 1)[0]}:{HIDDEN}"
    shown = f"{scheme}{userinfo}@{rest}" if userinfo else f"{scheme}{rest}"
    return _QUERY_PASSWORD.sub(rf"\1{HIDDEN}", shown)


def scrub(text: str, url: str) -> str:
    """text with the URL's password (and the URL itself) made safe to show."""
    if url:
        text = text.replace(url, redact(url))
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    return hide_passwords(text)


def url_problem(url: str) -> str:
    """Why libpq would misread this postgresql:// URL ('' when it reads as written)."""
    parts = _split(url or "")
    if parts is None:
        return ""  # a key=value string: libpq's own errors name no password
    scheme, userinfo, _ = parts
    if scheme[:-3].lower() not in SCHEMES:
        return f"The database URL must start with postgresql:// (not {scheme[:-3]}://)."
    user, _, password = userinfo.partition(":")
    for name, part in (("user name", user), ("password", password)):
        bad = sorted(c for c in set(part) if c in RESERVED)
        if bad:
            codes = ", ".join(f"{c} as {RESERVED[c]}" for c in bad)
            named = " and ".join(f"'{c}'" for c in bad)
            return (
                f"The database URL {redact(url)} has {named} in its {name}: "
                f"percent-encode it ({codes})."
            )
        if re.search(r"%(?![0-9A-Fa-f]{2})", part):
            return (
                f"The database URL {redact(url)} has a % in its {name} that starts no "
                "percent-encoding: write % as %25."
            )
    return ""
