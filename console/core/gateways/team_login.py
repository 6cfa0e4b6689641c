"""Team mode's sign-in from the environment: the server's URL and this operator's token."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from urllib.parse import urlsplit

SERVER_VARIABLE, TOKEN_VARIABLE = "SWITCHBOARD_SERVER", "SWITCHBOARD_TOKEN"


@dataclasses.dataclass(frozen=True)
class TeamLogin:
    """Where the team server is and this operator's token (never shown in a repr)."""

    server: str
    token: str = dataclasses.field(repr=False)


def team_login(environ: Mapping[str, str]) -> TeamLogin | None:
    """The team from SWITCHBOARD_SERVER and SWITCHBOARD_TOKEN, or None when neither is set.

    Raises ValueError, in words, when only one is set or the server is not an http(s) URL.
    """
    server = environ.get(SERVER_VARIABLE, "").strip()
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not server and not token:
        return None
    if not server or not token:
        missing = SERVER_VARIABLE if not server else TOKEN_VARIABLE
        both = f"{SERVER_VARIABLE} and {TOKEN_VARIABLE}"
        raise ValueError(f"team mode needs both {both}: set {missing}")
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{SERVER_VARIABLE} must be the server's http(s) URL, not {server!r}")
    return TeamLogin(server.rstrip("/"), token)
