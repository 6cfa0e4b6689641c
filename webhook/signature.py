"""Checks X-Twilio-Signature against the public URL the request was addressed to."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


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
    if not RequestValidator(token).validate(url, request.form, signature):
        return f"X-Twilio-Signature does not match {url} (wrong auth token or public URL?)"
    return None


def twilio_signed(view: Callable) -> Callable:
    """Decorate a view so that it answers 403 unless Twilio signed the request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        problem = signature_problem()
        if problem:
            log.warning("rejected %s %s: %s", request.method, request.path, problem)
            request.environ["switchboard.rejection"] = problem
            abort(403, description=problem)
        return view(*args, **kwargs)

    return wrapper
