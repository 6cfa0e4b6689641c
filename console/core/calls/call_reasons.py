"""Why a call ended, in the operator's words: Twilio's code and message, or ours (no Qt)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from console.core.calls.records import FINAL_CALL_STATUSES, Call

RING_TIMEOUT = 60  # seconds Twilio rings before no-answer: calls.create's default Timeout
ERROR_PAGE = "https://www.twilio.com/docs/errors/{code}"
DUPLICATE_IDENTITY = "53205"
DUPLICATE_IDENTITY_MESSAGE = "Participant disconnected because of duplicate identity"
ROOM_ENDED = "the room ended"
CANCELED_ELSEWHERE = "canceled outside this console"
# A participant who joins this long before its call was placed (or answered, for a call the
# console took over) is still counted as the call's own: clocks and callbacks are not exact.
JOIN_SLACK = timedelta(seconds=2)
# How long after a call ended a room event may still explain it (callbacks arrive in any order).
LATE_EVIDENCE = timedelta(seconds=10)

_OUR_WORDS = {  # the codes an operator meets most, said shortly; Twilio's message is the tooltip
    "11200": "the webhook did not answer",
    "11205": "the webhook could not be reached",
    "12100": "the webhook's TwiML could not be read",
    "13227": "no international permission for this number",
    "21211": "invalid number",
    "21214": "the number cannot be reached",
    "21215": "no permission to call this number",
    "21216": "the number is blocked",
    "21217": "the number does not look like a phone number",
    "32009": "the SIP address could not be reached",
    "53105": "the room is full",
    "53113": "a room with this name already exists",
    DUPLICATE_IDENTITY: "disconnected: same identity joined again",
}


def error_page(code: str) -> str:
    """Twilio's page about an error code ('' when the code is not a number)."""
    return ERROR_PAGE.format(code=code) if str(code).strip().isdigit() else ""


def call_reason(
    status: str, error_code: str = "", error_message: str = "", ring_timeout: int = RING_TIMEOUT
) -> str:
    """Why a call is where it is, for the Error column: '' for a call that went as it should.

    Twilio's code with our words for it (or Twilio's message), else the reason the console
    recorded, else what the final status itself says.
    """
    code = str(error_code or "").strip()
    message = (error_message or "").strip()
    if code:
        words = _OUR_WORDS.get(code) or message or "Twilio error"
        return f"{words} ({code})"
    if message:
        return message
    if status == "busy":
        return "busy"
    if status == "no-answer":
        return f"no answer after {ring_timeout} s"
    if status == "failed":
        return "failed (no reason given)"
    return ""


def reason_tooltip(
    status: str, error_code: str = "", error_message: str = "", ring_timeout: int = RING_TIMEOUT
) -> str:
    """The reason at length: Twilio's own message and the address of its page about the code."""
    code = str(error_code or "").strip()
    message = (error_message or "").strip()
    if not code:
        return call_reason(status, code, message, ring_timeout)
    lines = [f"Twilio error {code}: {message}" if message else f"Twilio error {code}"]
    if error_page(code):
        lines.append(f"More: {error_page(code)}")
    return "\n".join(lines)


def hung_up_by_other_side(direction: str) -> str:
    """Who ended an answered call when neither Twilio nor the operator did."""
    return "caller hung up" if direction == "inbound" else "callee hung up"


@dataclass
class EndingWitness:
    """Remembers what the console saw (its own actions, room events) to say why calls ended.

    A call ended by the operator (hang up, disconnect, end room) needs no reason. A call that
    ended because another participant joined its room under the same identity is Twilio's
    53205; one whose room ended elsewhere says so; any other answered call was hung up by the
    other side.
    """

    by_operator: set[str] = field(default_factory=set)
    _joins: dict[tuple[str, str], dict[str, datetime]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    _rooms_ended: dict[str, datetime] = field(default_factory=dict)

    def operator_ended(self, call_sid: str) -> None:
        """The operator asked for this call to end."""
        if call_sid:
            self.by_operator.add(call_sid)

    def operator_forgot(self, call_sid: str) -> None:
        """The operator's request to end this call failed: it was not theirs after all."""
        self.by_operator.discard(call_sid)

    def participant_joined(
        self, room: str, identity: str, participant_sid: str, at: datetime
    ) -> None:
        """A participant connected (a room callback)."""
        if room and identity and participant_sid:
            self._joins[(room, identity)].setdefault(participant_sid, at)

    def room_ended(self, room: str, at: datetime) -> None:
        """A room ended (a room callback)."""
        if room:
            self._rooms_ended[room] = at

    def reason(self, call: Call) -> tuple[str, str]:
        """(error code, message) the console adds for a finished call; ('', '') for none."""
        if call.status not in FINAL_CALL_STATUSES or call.error_code:
            return "", ""
        if call.sid in self.by_operator:
            return "", ""
        if call.status == "canceled":
            return "", CANCELED_ELSEWHERE
        if call.status != "completed" or call.answered_at is None:
            return "", ""  # busy, no-answer and failed speak for themselves
        if self._superseded(call):
            return DUPLICATE_IDENTITY, DUPLICATE_IDENTITY_MESSAGE
        ended = self._rooms_ended.get(call.room)
        if ended is not None and ended >= call.answered_at - JOIN_SLACK:
            return "", ROOM_ENDED
        return "", hung_up_by_other_side(call.direction)

    def _superseded(self, call: Call) -> bool:
        """Whether someone else joined the call's room under its identity while it was there.

        Joins are counted from when the call was placed (its own join comes after that, however
        late its callbacks arrive); a second one means another participant took the identity.
        """
        joins = self._joins.get((call.room, call.identity), {})
        began = [t for t in (call.placed_at, call.answered_at) if t is not None]
        since = min(began) - JOIN_SLACK if began else None
        joined = [at for at in joins.values() if since is None or at >= since]
        return len(joined) >= 2

    def may_change(self, call: Call, now: datetime) -> bool:
        """Whether late room events could still change this finished call's reason."""
        return (
            call.status == "completed"
            and not call.error_code
            and call.sid not in self.by_operator
            and call.ended_at is not None
            and now - call.ended_at <= LATE_EVIDENCE
        )

    def explained(self, call: Call) -> Call:
        """A finished call with the reason the console saw added (Twilio's own reason kept)."""
        if call.error_code:
            return call
        code, message = self.reason(call)
        if (code, message) == (call.error_code, call.error_message):
            return call
        return replace(call, error_code=code, error_message=message)

    def reexplained(self, calls: list[Call], room: str, now: datetime) -> list[Call]:
        """Calls in room that ended just now and read differently after a late room event."""
        changed = []
        for call in calls:
            if call.room == room and self.may_change(call, now):
                explained = self.explained(call)
                if explained != call:
                    changed.append(explained)
        return changed

    def forget_before(self, moment: datetime, calls: list[Call]) -> None:
        """Drop what can no longer explain a call: events before moment, except for live calls.

        Every join since a live call was placed is kept (its own, and anyone who took its
        identity since), and the operator's marks on calls that are live or ended after moment.
        """
        keep_from: dict[tuple[str, str], datetime] = {}
        for call in calls:
            began = [t for t in (call.placed_at, call.answered_at) if t is not None]
            if not call.finished and began:
                key = (call.room, call.identity)
                start = min(began) - JOIN_SLACK
                keep_from[key] = min(start, keep_from.get(key, start))
        recent = {c.sid for c in calls if not c.finished or (c.ended_at and c.ended_at >= moment)}
        for key in list(self._joins):
            since = min(moment, keep_from.get(key, moment))
            kept = {sid: at for sid, at in self._joins[key].items() if at >= since}
            if kept:
                self._joins[key] = kept
            else:
                del self._joins[key]
        for room in [r for r, at in self._rooms_ended.items() if at < moment]:
            del self._rooms_ended[room]
        self.by_operator &= recent
