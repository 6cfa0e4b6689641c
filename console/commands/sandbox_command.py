"""`switchboard sandbox`: the offline Twilio stand-in on its own, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import re
import sys

from console.commands import arguments

ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard sandbox`."""
    parser = sub.add_parser("sandbox", help="run the offline Twilio sandbox on its own")
    arguments.add_listen_options(parser, 8079)
    parser.add_argument(
        "--ring-delay",
        type=arguments.non_negative_seconds,
        default=1.0,
        help="seconds a callee rings before answering (default 1)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve the sandbox until stopped."""
    from console.commands.serving import serve_until_signal
    from sandbox.core import Sandbox
    from sandbox.server import SandboxPortInUse, SandboxServer

    account_sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip() or None
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip() or None
    if account_sid and not ACCOUNT_SID.match(account_sid):
        print(
            "switchboard sandbox: TWILIO_ACCOUNT_SID must be AC followed by 32 lowercase hex "
            "digits.",
            file=sys.stderr,
        )
        return 2
    sandbox = Sandbox(account_sid, auth_token, ring_delay=args.ring_delay)
    server = SandboxServer(sandbox, host=args.host, port=args.port)
    try:
        server.start()
    except SandboxPortInUse as error:
        print(f"switchboard sandbox: {error.strerror}", file=sys.stderr)
        sandbox.close()
        return 1
    print(f"Sandbox listening on {server.url}", flush=True)
    print(f"Account SID: {sandbox.account_sid}", flush=True)
    if auth_token:  # the operator's own token, possibly a real one: never echo it
        print("Auth Token: (taken from TWILIO_AUTH_TOKEN, not shown)", flush=True)
    else:
        print(f"Auth Token: {sandbox.auth_token}", flush=True)
    print(f"API Key: {sandbox.api_key_sid}  secret: {sandbox.api_key_secret}", flush=True)
    print(
        "(These are the sandbox's own test credentials, not real Twilio secrets; they only "
        "open this local sandbox.)",
        flush=True,
    )
    print(f"Point the twilio SDK here with: export SWITCHBOARD_TWILIO_URL={server.url}", flush=True)
    serve_until_signal("Sandbox", server.stop, sandbox.close)
    return 0
