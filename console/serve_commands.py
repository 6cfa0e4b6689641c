"""`switchboard webhook` and `switchboard sandbox`: headless servers that run until stopped."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Catch Ctrl-C and SIGTERM while the block runs; the event is set when one arrives."""
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_until_signal(
    name: str, *cleanups: Callable[[], object], stop: threading.Event | None = None
) -> None:
    """Say how to stop, block until Ctrl-C or SIGTERM, run the cleanups, and say it stopped.

    Pass the event of an enclosing stop_signals() to catch signals from before serving began.
    """
    with contextlib.ExitStack() as stack:
        if stop is None:
            stop = stack.enter_context(stop_signals())
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not stop.wait(0.5):
                pass
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
    parser.add_argument(
        "--default-room", default="", help="room for incoming calls that no route matches"
    )
    parser.add_argument(
        "--routes",
        default="",
        metavar="FILE",
        help="routing rules for incoming calls (default: routes.toml in the user config "
        "directory); reread whenever the file changes",
    )
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
    with stop_signals() as stop:  # from here on, Ctrl-C and SIGTERM stop the server cleanly
        return _serve_webhook(args, token, stop)


def _serve_webhook(args: argparse.Namespace, token: str, stop: threading.Event) -> int:
    from webhook import PortInUse, WebhookServer, create_app  # Flask loads only to serve
    from webhook.routes_file import default_routes_path

    routes = Path(args.routes) if args.routes else default_routes_path()
    if args.routes and not routes.is_file():
        print(f"switchboard webhook: routes file {routes} does not exist", file=sys.stderr)
        return 2
    config = {
        "AUTH_TOKEN": token,
        "PUBLIC_URL": args.public_url,
        "DEFAULT_ROOM": args.default_room,
        "SKIP_SIGNATURE": args.insecure_skip_signature,
        "ROUTES_FILE": str(routes),  # also when absent: a file created later takes effect
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
    _print_routes(app)
    gc.freeze()  # start-up objects never die: keep them out of the collector's pauses
    serve_until_signal("Webhook", server.stop, stop=stop)
    return 0


def _print_routes(app) -> None:
    from webhook.incoming import routes_file

    routes = routes_file(app)
    if routes is None:
        return
    routes.check()
    if not routes.exists:
        print(f"Routes: {routes.path} (none yet: incoming calls join the default room)", flush=True)
        return
    print(f"Routes: {routes.path} ({len(routes.rules.routes)} route(s))", flush=True)
    if routes.error:
        print(
            f"Routes file problem (no rules in force until it is fixed): {routes.error}",
            file=sys.stderr,
            flush=True,
        )


def add_sandbox_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard sandbox`."""
    from console import sandbox_command

    sandbox_command.add_parser(sub)
