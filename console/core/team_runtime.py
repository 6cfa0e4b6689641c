"""Team mode: the console works through a team server, with no webhook, tunnel or credentials."""

from __future__ import annotations

import logging
from collections.abc import Callable

from console.core.gateways.gateway import RETRY_DELAYS, TwilioError
from console.core.gateways.team_errors import TeamAuthError
from console.core.gateways.team_events import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    RECONNECTING,
    REFUSED,
    TURNED_AWAY,
    TeamEvent,
    TeamEventStream,
)
from console.core.gateways.team_gateway import TeamGateway
from console.core.gateways.team_login import TeamLogin
from console.core.runtime import Runtime
from console.core.team_session import TeamSession
from webhook.events import Event

log = logging.getLogger(__name__)

RELOAD = "reload"  # the TeamEvent kind sent when the server says to refresh everything


def offline_reason(state: str, detail: str = "") -> str:
    """Why actions are refused in this stream state, in words; "" while connected."""
    if state in (CONNECTED, CONNECTING):  # connecting: the sign-in has just answered
        return ""
    if state == REFUSED:
        return f"the team server refused this operator's token ({detail or 'signed out'})"
    if state == CLOSED:
        return "the console is closing"
    if state == TURNED_AWAY:  # up, but with no room for this console's stream now
        answer = detail.strip().rstrip(".") or "no reason given"
        return f"the team server turned this console's event stream away ({answer}); trying again"
    return "the team server is unreachable (reconnecting…)"


def start_team(
    login: TeamLogin,
    on_event: Callable[[Event], object],
    on_team_event: Callable[[object], object],
    on_state: Callable[[str, str], object],
) -> Runtime:
    """Sign in to the team server and open its event stream; the runtime stops the stream.

    A refused token still starts a session (its state is REFUSED, with the reason), so the
    window can say what to fix; an unreachable server starts one that keeps reconnecting.
    """
    session = TeamSession()
    gateway = TeamGateway(login.server, login.token, session=session, retry_delays=())
    runtime = Runtime("team", "", gateway, None, login.server)
    try:
        runtime.operator = gateway.check_credentials()
        last_id: int | None = gateway.last_event_id()
    except TeamAuthError as error:
        reason = f"The team server refused this operator's token: {error}"
        runtime.notes.append(f"{reason}. Set a new token in Settings ▸ Team and restart.")
        runtime.team_state = (REFUSED, str(error))
        session.offline_reason = offline_reason(REFUSED, str(error))
        on_state(REFUSED, str(error))
        return runtime
    except TwilioError as error:
        runtime.notes.append(f"The team server is not answering yet ({error}); reconnecting.")
        runtime.team_state = (RECONNECTING, str(error))
        session.offline_reason = offline_reason(RECONNECTING)
        last_id = None  # the stream's hello gives the newest id once it connects
    gateway.retry_delays = RETRY_DELAYS  # sign-in tried once; later reads retry as usual

    def on_reload() -> None:
        on_team_event(TeamEvent(0, RELOAD, {}))

    def state_changed(state: str, detail: str) -> None:
        runtime.team_state = (state, detail)
        session.offline_reason = offline_reason(state, detail)
        on_state(state, detail)

    stream = TeamEventStream(
        login.server,
        login.token,
        on_event,
        on_reload=on_reload,
        on_team_event=on_team_event,
        on_state=state_changed,
        last_event_id=last_id,
    )
    runtime.add_cleanup(stream.close)  # before the gateway closes: newest first
    runtime.team_stream = stream
    stream.start()
    log.info("team mode: %s as %s", gateway.host, runtime.operator or "(not signed in yet)")
    return runtime
