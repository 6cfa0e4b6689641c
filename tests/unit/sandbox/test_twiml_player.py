"""The TwiML player against a fake call session: verbs, fall-through, redirects and 12100."""

from __future__ import annotations

import pytest

from sandbox.twiml_player import CallInterrupted, TwimlFailure, TwimlPlayer


class FakeSession:
    """Records what the player asked of the call."""

    def __init__(self, documents: dict[str, str] | None = None, rooms=(), digits: str = "") -> None:
        self.documents = documents or {}
        self.rooms = set(rooms)
        self.digits = digits
        self.fetched: list[tuple[str, str, dict]] = []
        self.slept: list[float] = []
        self.joined: list[tuple[str, str]] = []

    def fetch(self, url: str, method: str, extra: dict[str, str]) -> str:
        self.fetched.append((url, method, extra))
        return self.documents[url]

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def connect_room(self, room: str, identity: str) -> bool:
        if room not in self.rooms:
            return False
        self.joined.append((room, identity))
        raise CallInterrupted()

    def gather(self, num_digits: int, finish_on_key: str, timeout: float) -> str:
        taken, self.digits = self.digits, ""
        return taken


def test_connect_room_joins_with_the_identity():
    session = FakeSession(rooms={"R"})
    with pytest.raises(CallInterrupted):
        TwimlPlayer(session).play_document(
            '<Response><Connect><Room participantIdentity="alice">R</Room></Connect></Response>'
        )
    assert session.joined == [("R", "alice")]


def test_a_missing_room_falls_through_to_the_next_verb():
    session = FakeSession()
    player = TwimlPlayer(session)
    player.play_document(
        "<Response><Connect><Room>Gone</Room></Connect><Say>sorry now</Say><Hangup/>"
        "<Say>never</Say></Response>"
    )
    assert player.verbs_played == ["Connect", "Say", "Hangup"]
    assert len(session.slept) == 1


def test_redirect_and_gather_fetch_relative_urls_with_digits():
    session = FakeSession(
        {
            "http://h/start": "<Response><Redirect method='GET'>menu</Redirect></Response>",
            "http://h/menu": "<Response><Gather action='/pick'><Pause length='2'/></Gather>"
            "</Response>",
            "http://h/pick": "<Response><Hangup/></Response>",
        },
        digits="7",
    )
    TwimlPlayer(session).play_url("http://h/start")
    assert session.fetched == [
        ("http://h/start", "POST", {}),
        ("http://h/menu", "GET", {}),
        ("http://h/pick", "POST", {"Digits": "7"}),
    ]
    assert session.slept == [2.0]


@pytest.mark.parametrize(
    "document",
    [
        "",
        "not xml",
        "<Response><Say>open</Response>",
        "<Reply/>",
        "<Response><Dial>+15551234567</Dial></Response>",
        "<Response><Connect><Stream url='wss://x'/></Connect></Response>",
        "<Response><Gather><Dial/></Gather></Response>",
        "<Response><Pause length='soon'/></Response>",
    ],
)
def test_documents_the_sandbox_cannot_run_fail_with_12100(document):
    with pytest.raises(TwimlFailure):
        TwimlPlayer(FakeSession()).play_document(document)


def test_endless_redirects_are_cut_off():
    session = FakeSession({"http://h/loop": "<Response><Redirect>/loop</Redirect></Response>"})
    with pytest.raises(TwimlFailure):
        TwimlPlayer(session).play_url("http://h/loop")
