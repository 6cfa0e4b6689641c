"""Plays one call's life on its own thread: ring, answer, fetch TwiML, run it, hang up."""

from __future__ import annotations

import logging
import math
from typing import Protocol

from sandbox import callees
from sandbox.call_queue import CallQueue
from sandbox.callbacks import CallbackDispatcher, SignedSender, WebhookFailed
from sandbox.clock import Clock
from sandbox.errors import TwilioApiError
from sandbox.models import Call
from sandbox.serialize import rfc2822
from sandbox.state import SandboxState
from sandbox.twiml_player import CallInterrupted, TwimlFailure, TwimlPlayer

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
INITIATE_SECONDS = 0.05
DIGIT_POLL_SECONDS = 0.02


class CallHost(Protocol):
    """What a call needs from its account: the state, the clock, the callee and webhook settings."""

    state: SandboxState
    clock: Clock
    ring_delay: float
    webhook_timeout: float
    sender: SignedSender
    dispatcher: CallbackDispatcher
    call_queue: CallQueue


class CallRunner:
    """The life of one call, and the CallSession its TwiML player drives."""

    def __init__(self, sandbox: CallHost, call: Call) -> None:
        self.sandbox = sandbox
        self.state = sandbox.state
        self.call = call
        self.clock = sandbox.clock
        self._first_fetch = True

    # -- the life of the call ------------------------------------------------------------------

    def run(self) -> None:
        """Thread target: plays the call to its end, whatever happens."""
        try:
            self._life()
        except Exception:
            log.exception("call %s crashed", self.call.sid)
            self.finish("failed")

    def _life(self) -> None:
        call = self.call
        try:
            if call.direction == "inbound":
                self._set_status("ringing", None)
            else:
                if not self.sandbox.call_queue.wait_turn(call.sid):
                    self.finish("canceled")  # left the line: canceled (or the account closed)
                    return
                with self.state.lock:
                    if call.ended:
                        return  # canceled as it left the line
                    now = self.clock.now()
                    call.start_time = now
                    call.queue_seconds = (now - call.created).total_seconds()
                self._set_status("queued", "initiated")
                self.sleep(INITIATE_SECONDS)
                behaviour = callees.outcome(call.to)
                if behaviour == "failed":
                    self.finish("failed")
                    return
                self._set_status("ringing", "ringing")
                ring = self.sandbox.ring_delay
                if behaviour == "busy":
                    self.sleep(min(ring, call.timeout))
                    self.finish("busy")
                    return
                if behaviour == "no-answer" or ring >= call.timeout:
                    self.sleep(call.timeout)
                    self.finish("no-answer")
                    return
                self.sleep(ring)
        except CallInterrupted:
            self.finish("canceled")
            return
        with self.state.lock:
            if call.ended:
                return
            call.answered = self.clock.now()
            self._set_status("in-progress", "answered")
        self._answered()
        self.finish("completed")

    def _answered(self) -> None:
        call = self.call
        source: tuple[str, str, str] = (
            ("twiml", call.twiml, "") if call.twiml else ("url", call.url, call.method)
        )
        while True:
            player = TwimlPlayer(self, self.call.heard)
            try:
                if source[0] == "twiml":
                    player.play_document(source[1])
                else:
                    player.play_url(source[1], source[2])
                return
            except CallInterrupted:
                with self.state.lock:
                    pending, call.pending = call.pending, None
                    call.wake.clear()
                self._leave_room()
                if call.ended or pending is None or pending[0] != "redirect":
                    return
                _, url, method, twiml = pending
                source = ("twiml", twiml, "") if twiml else ("url", url, method)
            except TwimlFailure as error:
                self.state.record_error(
                    call.sid, 12100, str(error), source[1] if source[0] == "url" else ""
                )
                return
            except WebhookFailed as error:
                self.state.record_error(call.sid, 11200, str(error), source[1])
                return

    def _leave_room(self) -> None:
        participant = self.state.participant_of_call(self.call.sid)
        if participant is not None:
            self.state.disconnect(participant, hang_up=False)

    def finish(self, status: str) -> bool:
        """End the call with this final status, once: leave the room, stamp the end, call back.

        Called by the call's own thread, and by an update (Status=completed/canceled) so that
        its answer already shows the call ended. Returns False if the call had ended before.
        """
        self._leave_room()
        with self.state.lock:
            if self.call.ended:
                return False
            self.call.end_time = self.clock.now()
            self._set_status(status, "completed")
        return True

    # -- status and callbacks ------------------------------------------------------------------

    def _set_status(self, status: str, event: str | None) -> None:
        call = self.call
        with self.state.lock:
            if call.ended:
                return  # an update ended it first; the call's thread only catches up
            call.status = status
            call.updated = self.clock.now()
            if event is None or event not in call.status_callback_events:
                return
            if not call.status_callback:
                return
            fields = self.voice_fields()
            if event == "initiated":
                fields["CallStatus"] = "initiated"
            fields.update(
                CallbackSource="call-progress-events",
                SequenceNumber=str(call.sequence),
                Timestamp=rfc2822(self.clock.now()),
            )
            call.sequence += 1
            if event == "completed" and call.duration is not None:
                # A call that never connected has no duration, as its REST record says.
                fields["CallDuration"] = str(call.duration)
                fields["Duration"] = str(math.ceil(call.duration / 60))
            if event == "completed" and call.error is not None:
                fields["ErrorCode"] = str(call.error.code)
                fields["ErrorMessage"] = call.error.message
            url, method = call.status_callback, call.status_callback_method
        self.sandbox.dispatcher.submit(call.sid, url, fields, method)

    def voice_fields(self) -> dict[str, str]:
        """The fields Twilio sends a voice webhook (the caller holds the lock)."""
        call = self.call
        return {
            "AccountSid": self.state.account_sid,
            "ApiVersion": API_VERSION,
            "CallSid": call.sid,
            "CallStatus": call.status,
            "Called": call.to,
            "Caller": call.from_,
            "Direction": call.direction,
            "From": call.from_,
            "To": call.to,
        }

    # -- CallSession ---------------------------------------------------------------------------

    def fetch(self, url: str, method: str, extra: dict[str, str]) -> str:
        """Ask the webhook for TwiML, signed, within the webhook timeout."""
        with self.state.lock:
            fields = self.voice_fields()
            if self._first_fetch and self.call.direction == "inbound":
                fields["CallStatus"] = "ringing"
        self._first_fetch = False
        fields.update(extra)
        timeout = self.clock.real_seconds(self.sandbox.webhook_timeout)
        answer = self.sandbox.sender.send(url, fields, method, timeout=timeout)
        self._check_interrupted()
        return answer.text

    def _check_interrupted(self) -> None:
        if self.call.pending is not None or self.call.ended:
            raise CallInterrupted()

    def sleep(self, seconds: float) -> None:
        """Let simulated time pass unless something interrupts the call."""
        self._check_interrupted()
        if not self.clock.sleep(seconds, self.call.wake):
            self._check_interrupted()
            raise CallInterrupted()  # woken without a request: only stop() does that

    def connect_room(self, room: str, identity: str) -> bool:
        """Join the room and stay there until the call is interrupted."""
        try:
            participant = self.state.join(room, identity, self.call)
        except TwilioApiError as error:
            self.state.record_error(self.call.sid, error.code, error.message)
            return False
        if participant is None:
            self._check_interrupted()
            return False
        while True:
            self.call.wake.wait()
            with self.state.lock:
                if self.call.pending is not None or self.call.ended:
                    raise CallInterrupted()
                self.call.wake.clear()

    def gather(self, num_digits: int, finish_on_key: str, timeout: float) -> str:
        """Take the digits the simulated caller pressed, waiting up to timeout for them."""
        deadline = self.clock.now().timestamp() + timeout
        while True:
            with self.state.lock:
                pressed = self._take_digits(num_digits, finish_on_key)
            if pressed:
                return pressed
            left = deadline - self.clock.now().timestamp()
            if left <= 0:
                return ""
            self._check_interrupted()
            if self.call.wake.wait(min(self.clock.real_seconds(left), DIGIT_POLL_SECONDS)):
                self._check_interrupted()

    def _take_digits(self, num_digits: int, finish_on_key: str) -> str:
        pending = self.call.digits
        if not pending:
            return ""
        if num_digits > 0:
            taken = pending[:num_digits]
        elif finish_on_key and finish_on_key in pending:
            taken = pending[: pending.index(finish_on_key)]
            self.call.digits = pending[len(taken) + 1 :]
            return taken or ""
        else:
            taken = pending
        self.call.digits = pending[len(taken) :]
        return taken
