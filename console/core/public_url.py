"""The public URL Twilio uses to reach the webhook, checked and written one way."""

from __future__ import annotations

from urllib.parse import urlsplit


def normalize_public_url(url: str) -> str:
    """url as scheme://host[:port] without a trailing slash; ValueError says what is wrong."""
    text = url.strip()
    if not text:
        raise ValueError("no public URL: enter the https URL of your tunnel in Settings")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not a web address: {text!r} (it should look like https://abc.ngrok.app)")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise ValueError(f"the port in {text!r} is not a port number") from None
    if parts.username or parts.password:
        raise ValueError(f"{text!r} holds a user name or password; leave them out")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"{text!r} has a path; give only scheme and host, e.g. https://abc.ngrok.app"
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
