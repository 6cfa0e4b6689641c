"""The HTTP session of a team console: while the server is lost, requests are refused, not sent."""

from __future__ import annotations

from typing import Any

import requests

from console.core.gateways.team_errors import TeamUnreachable


class TeamSession(requests.Session):
    """A requests session that refuses every request while `offline_reason` is set.

    The console keeps showing the last state while its event stream is down; an action then
    fails at once with the reason, so nothing is queued to happen later without the operator.
    """

    offline_reason = ""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        """Send the request, unless the team server is lost (TeamUnreachable, nothing sent)."""
        if self.offline_reason:
            raise TeamUnreachable(
                f"Not sent: {self.offline_reason}. The window shows the last state it had; "
                "try again when the team server is back."
            )
        return super().request(method, url, *args, **kwargs)
