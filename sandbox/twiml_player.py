"""Executes TwiML for one call, verb by verb, the way Twilio's voice engine does."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Protocol
from urllib.parse import urljoin

SPOKEN_SECONDS_PER_WORD = 0.4
PLAY_SECONDS = 2.0
MAX_DOCUMENTS = 50
MAX_LOOPS = 100


class TwimlFailure(Exception):
    """The document cannot be executed: Twilio's 12100."""


class CallInterrupted(Exception):
    """Something outside the player (hang-up, redirect) stopped the current document."""


class CallSession(Protocol):
    """What the player needs from the call it plays."""

    def fetch(self, url: str, method: str, extra: dict[str, str]) -> str:
        """Ask a webhook for TwiML (signed); raises callbacks.WebhookFailed."""

    def sleep(self, seconds: float) -> None:
        """Let simulated time pass; raises CallInterrupted."""

    def connect_room(self, room: str, identity: str) -> bool:
        """Join the room and stay until the call ends (raising CallInterrupted); False if none."""

    def gather(self, num_digits: int, finish_on_key: str, timeout: float) -> str:
        """Digits the simulated caller presses, waiting up to timeout; '' for none."""


def parse(document: str) -> ET.Element:
    """Parse a TwiML document; raises TwimlFailure unless it is a <Response>."""
    try:
        root = ET.fromstring(document.strip())
    except ET.ParseError as error:
        raise TwimlFailure(f"Document parse failure: {error}") from None
    if root.tag != "Response":
        raise TwimlFailure(f"Document root is <{root.tag}>, not <Response>")
    return root


def _loops(verb: ET.Element) -> int:
    try:
        loop = int(verb.get("loop", "1"))
    except ValueError:
        raise TwimlFailure(f"<{verb.tag}> has a bad loop attribute") from None
    return MAX_LOOPS if loop <= 0 else min(loop, MAX_LOOPS)


def _number(verb: ET.Element, name: str, default: float) -> float:
    try:
        return float(verb.get(name, default))
    except ValueError:
        raise TwimlFailure(f"<{verb.tag}> has a bad {name} attribute") from None


class _Next(Exception):
    """Move to another document: (url, method, extra fields)."""

    def __init__(self, url: str, method: str, extra: dict[str, str] | None = None) -> None:
        super().__init__(url)
        self.url, self.method, self.extra = url, method, extra or {}


class TwimlPlayer:
    """Plays documents for one call; returns when the call should hang up."""

    def __init__(self, session: CallSession, heard: list[tuple[str, str]] | None = None) -> None:
        self.session = session
        self.verbs_played: list[str] = []
        self.heard = heard if heard is not None else []  # (verb, text or URL) the caller heard

    def play_url(self, url: str, method: str = "POST", extra: dict | None = None) -> None:
        """Fetch the first document from url, then play until the call is done."""
        self._play_from(url, method, extra or {}, None)

    def play_document(self, document: str, url: str = "") -> None:
        """Play an inline document (Twiml=…), following any redirects it makes."""
        self._play_from(url, "POST", {}, document)

    def _play_from(self, url: str, method: str, extra: dict, document: str | None) -> None:
        for _ in range(MAX_DOCUMENTS):
            if document is None:
                document = self.session.fetch(url, method, extra)
            try:
                self._play(parse(document), url)
                return
            except _Next as move:
                url = urljoin(url, move.url) if url else move.url
                method, extra, document = move.method, move.extra, None
        raise TwimlFailure("Too many redirects")

    def _play(self, root: ET.Element, url: str) -> None:
        for verb in root:
            if self._verb(verb, url) == "hangup":
                return

    def _verb(self, verb: ET.Element, url: str) -> str:
        self.verbs_played.append(verb.tag)
        tag = verb.tag
        if tag == "Say":
            words = len((verb.text or "").split())
            self.heard.append(("Say", " ".join((verb.text or "").split())))
            self.session.sleep(max(1, words) * SPOKEN_SECONDS_PER_WORD * _loops(verb))
        elif tag == "Play":
            self.heard.append(("Play", (verb.text or "").strip()))
            self.session.sleep(PLAY_SECONDS * _loops(verb))
        elif tag == "Pause":
            self.session.sleep(_number(verb, "length", 1))
        elif tag in ("Hangup", "Reject"):
            return "hangup"
        elif tag == "Redirect":
            target = (verb.text or "").strip()
            if not target:
                raise TwimlFailure("<Redirect> has no URL")
            raise _Next(target, verb.get("method", "POST"))
        elif tag == "Gather":
            self._gather(verb, url)
        elif tag == "Connect":
            self._connect(verb)
        else:
            raise TwimlFailure(f"<{tag}> is not a verb the sandbox knows")
        return "next"

    def _gather(self, verb: ET.Element, url: str) -> None:
        for child in verb:
            if child.tag not in ("Say", "Play", "Pause"):
                raise TwimlFailure(f"<{child.tag}> cannot be nested in <Gather>")
            self._verb(child, url)
        num_digits = int(_number(verb, "numDigits", 0))
        timeout = _number(verb, "timeout", 5)
        digits = self.session.gather(num_digits, verb.get("finishOnKey", "#"), timeout)
        if digits:
            action = verb.get("action") or url
            if not action:
                raise TwimlFailure("<Gather> has no action and the document has no URL")
            raise _Next(action, verb.get("method", "POST"), {"Digits": digits})

    def _connect(self, verb: ET.Element) -> None:
        children = list(verb)
        if len(children) != 1 or children[0].tag != "Room":
            raise TwimlFailure("<Connect> must hold exactly one <Room> in the sandbox")
        room = children[0]
        name = (room.text or "").strip()
        if not name:
            raise TwimlFailure("<Room> has no room name")
        self.session.connect_room(name, room.get("participantIdentity", ""))
