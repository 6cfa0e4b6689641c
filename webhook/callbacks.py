"""Turns a signed callback request into an event for the consumer."""

from __future__ import annotations

from flask import current_app, request

from webhook.events import CallbackEvent, EventDispatcher

DISPATCHER_KEY = "switchboard.events"


def dispatcher() -> EventDispatcher:
    """The current app's event dispatcher."""
    return current_app.extensions[DISPATCHER_KEY]


def publish_callback(kind: type[CallbackEvent]) -> None:
    """Queue the current request's form fields as an event of the given kind."""
    dispatcher().submit(kind(fields=request.form.to_dict(flat=True)))
