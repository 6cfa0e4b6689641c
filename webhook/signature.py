"""Checks X-Twilio-Signature against the public URL the request was addressed to."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable, Mapping

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


REJECTED = "The request is not signed by Twilio for this webhook."


def public_url_of_request() -> str:
    """The URL Twilio signed: the configured public base URL plus the path and raw query."""
    base = (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    url = base + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_problem() -> str | None:
    """Why the current request's signature is not acceptable, or None when it is."""
    if current_app.config.get("SKIP_SIGNATURE"):
        return None
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        return "missing X-Twilio-Signature"
    token = current_app.config.get("AUTH_TOKEN") or ""
    if not token:
        return "no auth token is configured, so no signature can be checked"
    url = public_url_of_request()
    if not _signed(RequestValidator(token), url, request.form, signature):
        return f"X-Twilio-Signature does not match {_shown(url)} (wrong auth token or public URL?)"
    return None


def _shown(url: str, longest: int = 300) -> str:
    """The URL for the log, cut short: anyone can send a URL of any length."""
    return url if len(url) <= longest else f"{url[:longest]}… ({len(url) - longest} more)"


def _signed(validator: RequestValidator, url: str, form: Mapping[str, str], signature: str) -> bool:
    """The validator's verdict; the URL exactly as requested is tried first, as Twilio signs it.

    RequestValidator.validate also accepts the URL with the default port added or removed; it
    computes two signatures for that, so the common case is settled with one.
    """
    exact = validator.compute_signature(url, form)
    # As bytes: compare_digest refuses str with non-ASCII, and a forged header may hold some.
    if hmac.compare_digest(exact.encode(), signature.encode("utf-8", "replace")):
        return True
    return validator.validate(url, form, signature)


def twilio_signed(view: Callable) -> Callable:
    """Decorate a view so that it answers 403 unless Twilio signed the request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        problem = signature_problem()
        if problem:
            log.warning("rejected %s %s: %s", request.method, request.path, problem)
            request.environ["switchboard.rejection"] = problem
            abort(403, description=REJECTED)  # the detail names the public URL: log only
        return view(*args, **kwargs)

    # Twilio never sends OPTIONS; left to Flask, an unsigned OPTIONS would get an empty 200.
    wrapper.provide_automatic_options = False  # type: ignore[attr-defined]
    return wrapper
