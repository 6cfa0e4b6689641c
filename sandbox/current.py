"""The Sandbox and base URL of the request being served, shared by the app and its blueprints."""

from __future__ import annotations

from flask import current_app, request

from sandbox.core import Sandbox

SANDBOX_KEY = "switchboard.sandbox"


def current_sandbox() -> Sandbox:
    """The Sandbox the current app serves."""
    return current_app.extensions[SANDBOX_KEY]


def base_url() -> str:
    """This server's own base URL, used for absolute `url` fields (Video) and paging links."""
    return request.host_url.rstrip("/")
