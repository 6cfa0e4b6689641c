"""What the script commands share: one-line errors with exit statuses, and the gateway."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from console.core.calls.dial_input import InvalidInput

if TYPE_CHECKING:  # the SDK loads when a command runs, not when the CLI starts
    from console.core.gateways.gateway import Gateway
    from console.core.gateways.team_gateway import TeamGateway
    from console.core.preferences import Preferences

EXIT_FAILED = 1  # Twilio, the network, the call itself, or the history file
EXIT_USAGE = 2  # what was typed, or settings that are missing


class CommandError(Exception):
    """An error a command reports in one line on stderr, with the exit status to return."""

    def __init__(self, message: str, status: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.status = status


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def reported(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Run a command; any error becomes one line on stderr and a non-zero exit, never a trace."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from console.core.calls.history import HistoryError
        from console.core.gateways.gateway import TwilioError

        root = logging.getLogger()
        level = root.level
        if not getattr(args, "verbose", False):  # stderr carries the one error line, no logs
            root.setLevel(logging.CRITICAL)
        try:
            return command(args)
        except CommandError as error:
            message, status = str(error), error.status
        except InvalidInput as error:
            message, status = f"{error.field}: {error.message}", EXIT_USAGE
        except (TwilioError, HistoryError) as error:
            message, status = str(error), EXIT_FAILED
        except BrokenPipeError:  # e.g. `switchboard history --csv | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILED
        except Exception as error:
            message, status = f"unexpected error: {type(error).__name__}: {error}", EXIT_FAILED
        finally:
            root.setLevel(level)  # a command run inside a longer-lived process leaves it as it was
        from server.secret_filter import clean

        shown = one_line(clean(message))
        print(f"switchboard {args.command}: {shown}", file=sys.stderr, flush=True)
        return status

    return run


def in_a_team() -> bool:
    """Whether commands go through a team server: SWITCHBOARD_SERVER/TOKEN, or Settings ▸ Team."""
    from console.core.gateways.team_login import SERVER_VARIABLE, TOKEN_VARIABLE
    from console.core.preferences import Preferences

    if os.environ.get(SERVER_VARIABLE) or os.environ.get(TOKEN_VARIABLE):
        return True
    return bool(Preferences.default().team_server)


def connect() -> tuple[Gateway | TeamGateway, Preferences]:
    """The gateway the window would use (same settings and credentials), and the preferences.

    In a team (SWITCHBOARD_SERVER and SWITCHBOARD_TOKEN, or Settings ▸ Team), it is the team
    server's, as this operator.
    """
    from console.core.credentials import resolve_credentials
    from console.core.gateways.gateway import Gateway
    from console.core.gateways.team_gateway import TeamGateway
    from console.core.gateways.twilio_http import make_client
    from console.core.preferences import Preferences
    from console.core.secrets_store import SecretStore
    from console.core.team_settings import resolve_team

    preferences, secrets = Preferences.default(), SecretStore()
    try:
        login = resolve_team(preferences, secrets, os.environ)
    except ValueError as error:
        raise CommandError(str(error), EXIT_USAGE) from None
    if login is not None:
        return TeamGateway(login.server, login.token), preferences
    credentials = resolve_credentials(preferences, secrets, os.environ)
    if credentials is None:
        raise CommandError(
            "no Twilio credentials: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or "
            "TWILIO_API_KEY and TWILIO_API_SECRET), or save them in the window's settings",
            EXIT_USAGE,
        )
    username, password, account_sid = credentials.client_login()
    return Gateway(make_client(username, password, account_sid=account_sid)), preferences
