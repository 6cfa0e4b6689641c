"""`switchboard webhook` and `switchboard sandbox`: headless servers that run until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable

from webhook import PortInUse, WebhookServer, create_app


def wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_until_signal(name: str, *cleanups: Callable[[], object]) -> None:
    """Say how to stop, block until Ctrl-C or SIGTERM, run the cleanups, and say it stopped."""
    print("Press Ctrl-C to stop.", flush=True)
    try:
        wait_for_signal()
    finally:
        for cleanup in cleanups:
            cleanup()
    print(f"{name} stopped.", flush=True)


def add_webhook_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard webhook`."""
    parser = sub.add_parser("webhook", help="serve the TwiML webhook on its own")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--public-url",
        default="",
        help="the URL Twilio reaches this webhook at (signatures are checked against it); "
        "defaults to the local URL",
    )
    parser.add_argument("--default-room", default="", help="room that incoming calls join")
    parser.add_argument(
        "--insecure-skip-signature",
        action="store_true",
        help="DANGEROUS: accept requests without a valid X-Twilio-Signature",
    )
    parser.set_defaults(handler=run_webhook)


def run_webhook(args: argparse.Namespace) -> int:
    """Serve the webhook until Ctrl-C or SIGTERM."""
    token = os.environ.get("TWILIO_AUTH_TOKEN", "")
    if not token and not args.insecure_skip_signature:
        print(
            "switchboard webhook: TWILIO_AUTH_TOKEN is not set, so Twilio's signatures cannot be "
            "checked. Set it, or pass --insecure-skip-signature for experiments.",
            file=sys.stderr,
        )
        return 2
    config = {
        "AUTH_TOKEN": token,
        "PUBLIC_URL": args.public_url,
        "DEFAULT_ROOM": args.default_room,
        "SKIP_SIGNATURE": args.insecure_skip_signature,
    }
    app = create_app(config)
    server = WebhookServer(app, host=args.host, port=args.port)
    try:
        server.start()
    except PortInUse as error:
        print(f"switchboard webhook: {error.strerror}", file=sys.stderr)
        return 1
    if not args.public_url:
        app.config["PUBLIC_URL"] = server.local_url
    if args.insecure_skip_signature:
        print("WARNING: signature checks are OFF (--insecure-skip-signature)", file=sys.stderr)
    print(f"Webhook listening on {server.local_url}", flush=True)
    print(f"Public URL: {app.config['PUBLIC_URL']}", flush=True)
    serve_until_signal("Webhook", server.stop)
    return 0


def add_sandbox_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard sandbox`."""
    from console import sandbox_command

    sandbox_command.add_parser(sub)
