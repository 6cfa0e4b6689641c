"""The Sandbox: one simulated Twilio account with its state, clock, settings and call players."""

from __future__ import annotations

import copy
import hmac
import logging
import threading
from typing import Protocol
from urllib.parse import urlsplit

from sandbox import callees
from sandbox.call_queue import DEFAULT_RATE, CallQueue
from sandbox.callbacks import CallbackDispatcher, SignedSender
from sandbox.calls import CallRunner
from sandbox.clock import Clock
from sandbox.errors import TwilioApiError, UnknownResource
from sandbox.faults import FaultInjector
from sandbox.ids import new_sid, new_token
from sandbox.models import Call, CallError
from sandbox.room_timeouts import RoomTimeouts
from sandbox.state import SandboxState, request_hangup

log = logging.getLogger(__name__)

CALL_EVENTS = frozenset({"initiated", "ringing", "answered", "completed"})
VERIFIED_CALLER_ID = "+15005550009"


class FormLike(Protocol):
    """A form: .get(name) and .getlist(name), like werkzeug's MultiDict."""

    def get(self, key: str, default=None): ...

    def getlist(self, key: str) -> list[str]: ...


def is_http_url(url: str) -> bool:
    """Whether url is an absolute http(s) URL."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _method(value: str | None) -> str:
    method = (value or "POST").upper()
    if method not in ("GET", "POST"):
        raise TwilioApiError(400, 20001, f"Method {value!r} is not GET or POST")
    return method


class Sandbox:
    """An offline Twilio account: rooms, calls, numbers, and the behaviour of simulated callees."""

    def __init__(
        self,
        account_sid: str | None = None,
        auth_token: str | None = None,
        *,
        ring_delay: float = 1.0,
        webhook_timeout: float = 15.0,
        clock: Clock | None = None,
        fault_seed: int | None = None,
        calls_per_second: float = DEFAULT_RATE,
    ) -> None:
        self.account_sid = account_sid or new_sid("AC")
        self.auth_token = auth_token or new_token()
        self.api_key_sid = new_sid("SK")
        self.api_key_secret = new_token()
        self.ring_delay = ring_delay
        self.webhook_timeout = webhook_timeout
        self.clock = clock or Clock()
        self.faults = FaultInjector(fault_seed)
        self.sender = SignedSender(self.auth_token)
        self.dispatcher = CallbackDispatcher(self.sender)
        self.state = SandboxState(self.account_sid, self.clock, self.dispatcher.submit)
        self.call_queue = CallQueue(self.clock, calls_per_second)
        self.room_timeouts = RoomTimeouts(self.state, self.clock)
        self.state.rooms_changed = self.room_timeouts.poke
        self.clock.on_speed_change(self.room_timeouts.poke)
        self.room_timeouts.start()
        self._runners: dict[str, CallRunner] = {}
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self._closed = False
        self.state.add_number(callees.ACCOUNT_NUMBERS[0], "Sandbox line 1")
        self.state.add_number(callees.ACCOUNT_NUMBERS[1], "Sandbox line 2")
        self.state.add_number(VERIFIED_CALLER_ID, "Operator desk (verified)", verified_only=True)

    # -- credentials ---------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> bool:
        """Whether Basic credentials are the account's SID and token, or its API key and secret."""
        pairs = ((self.account_sid, self.auth_token), (self.api_key_sid, self.api_key_secret))
        return any(
            hmac.compare_digest(username, user) and hmac.compare_digest(password, secret)
            for user, secret in pairs
        )

    @property
    def errors(self) -> list[CallError]:
        """Every error recorded while playing calls, oldest first."""
        with self.state.lock:
            return list(self.state.errors)

    def errors_of(self, call_sid: str) -> list[CallError]:
        """The errors recorded for one call."""
        return [e for e in self.errors if e.call_sid == call_sid]

    # -- calls ---------------------------------------------------------------------------------

    def place_call(self, form: FormLike) -> Call:
        """Start an outbound-api call as POST Calls.json does, after Twilio's checks.

        Returns the call as it was created; its life goes on on its own thread.
        """
        to = (form.get("To") or "").strip()
        from_ = (form.get("From") or "").strip()
        if not to:
            raise TwilioApiError(400, 21201, "No 'To' number is specified")
        if not from_:
            raise TwilioApiError(400, 21603, "A 'From' phone number is required.")
        if not callees.is_valid_to(to):
            raise TwilioApiError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not callees.is_well_formed_from(from_):
            raise TwilioApiError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        if from_.startswith("+") and not self.state.is_caller_id(from_):
            raise TwilioApiError(
                400,
                21210,
                f"The source phone number provided, {from_}, is not yet verified for your "
                "account. You may only make calls from phone numbers that you've verified or "
                "purchased from Twilio.",
            )
        url = (form.get("Url") or "").strip()
        twiml = form.get("Twiml") or ""
        if not url and not twiml:
            raise TwilioApiError(400, 21205, "Url parameter is required.")
        if url and not is_http_url(url):
            raise TwilioApiError(400, 21205, f"Url is not a valid URL: {url}")
        callback = (form.get("StatusCallback") or "").strip()
        if callback and not is_http_url(callback):
            raise TwilioApiError(400, 21609, f"Invalid StatusCallback URL: {callback}")
        events = {e for raw in form.getlist("StatusCallbackEvent") for e in raw.split()}
        try:
            timeout = int(form.get("Timeout") or 60)
        except ValueError:
            raise TwilioApiError(400, 20001, "Timeout must be a number of seconds") from None
        now = self.clock.now()
        call = Call(
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            direction="outbound-api",
            created=now,
            updated=now,
            url=url,
            method=_method(form.get("Method")),
            twiml=twiml,
            status_callback=callback,
            status_callback_method=_method(form.get("StatusCallbackMethod")),
            status_callback_events=frozenset(events & CALL_EVENTS) or frozenset({"completed"}),
            timeout=max(1, min(timeout, 600)),
            digits=form.get("SendDigits") or "",
        )
        return self._start(call, queued=True)

    def incoming_call(self, from_: str, to: str, digits: str = "") -> Call:
        """Simulate a caller ringing one of the account's numbers; its VoiceUrl answers."""
        number = self.state.number_by_value(to)
        if number is None:
            raise TwilioApiError(404, 20404, f"The sandbox account does not own {to}")
        if not callees.is_well_formed_from(from_):
            raise TwilioApiError(400, 21212, f"Invalid 'From' Phone Number: {from_}")
        if not number.voice_url:
            raise TwilioApiError(400, 21205, f"{to} has no VoiceUrl")
        now = self.clock.now()
        call = Call(
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            direction="inbound",
            created=now,
            updated=now,
            status="ringing",
            start_time=now,
            url=number.voice_url,
            method=number.voice_method,
            status_callback=number.status_callback,
            status_callback_method=number.status_callback_method,
            phone_number_sid=number.sid,
            digits=digits,
        )
        self._start(call, queued=False)
        return call

    def find_call(self, sid: str) -> Call:
        """A call by SID; UnknownResource (Twilio's 20404) if none."""
        with self.state.lock:
            call = self.state.calls.get(sid)
        if call is None:
            raise UnknownResource(f"Call {sid}")
        return call

    def update_call(self, call: Call, form: FormLike) -> Call:
        """End a call (Status=completed/canceled) or redirect it (Url/Twiml), as Twilio does.

        An ending takes effect before the answer, so the answer shows the call's new state:
        completed for a call in progress, canceled for one queued or ringing. Status=canceled
        leaves a call in progress alone.
        """
        status = form.get("Status")
        url = (form.get("Url") or "").strip()
        twiml = form.get("Twiml") or ""
        with self.state.lock:
            if status is not None:
                if status not in ("completed", "canceled"):
                    raise TwilioApiError(400, 20001, f"Status {status!r} is not valid")
                if call.ended or (status == "canceled" and call.status == "in-progress"):
                    return call
                final = "completed" if call.status == "in-progress" else "canceled"
                self.call_queue.leave(call.sid)
                request_hangup(call, final)  # the call's thread stops where it is
                runner = self._runners.get(call.sid)
                if runner is not None:
                    runner.finish(final)
                return call
            if url or twiml:
                if url and not is_http_url(url):
                    raise TwilioApiError(400, 21205, f"Url is not a valid URL: {url}")
                if call.status != "in-progress":
                    raise TwilioApiError(400, 21220, "Call is not in-progress. Cannot redirect.")
                call.pending = ("redirect", url, _method(form.get("Method")), twiml)
                call.wake.set()
                return call
        raise TwilioApiError(400, 20001, "Nothing to update: give Status, Url or Twiml")

    def delete_call(self, call: Call) -> None:
        """Remove an ended call's record; 20009 while it is still live."""
        with self.state.lock:
            if not call.ended:
                raise TwilioApiError(
                    400, 20009, "Cannot delete this resource before it is complete"
                )
            self.state.calls.pop(call.sid, None)
            self._runners.pop(call.sid, None)

    def caller_hangs_up(self, call: Call) -> None:
        """The simulated party on the line hangs up (no-op once the call has ended)."""
        with self.state.lock:
            if not call.ended:
                request_hangup(call, "completed")

    def send_digits(self, call: Call, digits: str) -> None:
        """The simulated caller presses keys; a <Gather> will take them."""
        with self.state.lock:
            call.digits += digits

    def _start(self, call: Call, queued: bool) -> Call:
        """Record the call and start its thread; API calls first join the CPS queue.

        Returns the call as it stood before its thread ran (what POST Calls.json answers).
        """
        runner = CallRunner(self, call)
        with self.state.lock:
            if self._closed:
                raise TwilioApiError(503, 20503, "The sandbox is shutting down")
            self.state.calls[call.sid] = call
            self._runners[call.sid] = runner
            if queued:
                call.queue_seconds = self.call_queue.join(call.sid)
            answer = copy.copy(call)
        thread = threading.Thread(target=runner.run, name=f"call-{call.sid[-6:]}", daemon=True)
        with self._threads_lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return answer

    # -- life cycle ----------------------------------------------------------------------------

    def live_calls(self) -> list[Call]:
        """Calls that have not ended yet."""
        with self.state.lock:
            return [c for c in self.state.calls.values() if not c.ended]

    def close(self, timeout: float = 1.0) -> None:
        """Hang up every call and stop the call and callback threads."""
        self.dispatcher.begin_closing()
        self.call_queue.close()
        self.room_timeouts.stop(timeout / 4)
        with self.state.lock:
            self._closed = True
            for call in self.state.calls.values():
                if not call.ended:
                    request_hangup(call, "completed")
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout / max(1, len(threads)))
        self.dispatcher.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
