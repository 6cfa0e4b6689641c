"""`switchboard webhook`: the TwiML webhook on its own, headless, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands import arguments
from console.commands.serving import serve_until_signal, stop_signals

if TYPE_CHECKING:
    from console.core.calls.history_recorder import HistoryRecorder


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register `switchboard webhook`."""
    parser = sub.add_parser("webhook", help="serve the TwiML webhook on its own")
    arguments.add_listen_options(parser, 8080)
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
        type=arguments.file_path,
        default=None,
        metavar="FILE",
        help="routing rules for incoming calls (default: routes.toml in the user config "
        "directory); reread whenever the file changes",
    )
    parser.add_argument(
        "--history",
        type=arguments.file_path,
        default=None,
        metavar="FILE",
        help="the call history that status callbacks are recorded in (default: the console's, "
        "history.sqlite3 in the user data directory)",
    )
    parser.add_argument(
        "--workers",
        type=arguments.count(1, 64),
        default=0,
        metavar="N",
        help="processes that answer requests, sharing the port (default: one per core, at "
        "most 4); 1 serves from this process",
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
    from console.core.calls.history import CallHistory, HistoryError
    from console.core.calls.history_recorder import HistoryRecorder
    from webhook import PortInUse
    from webhook.routes_file import default_routes_path
    from webhook.workers import default_workers

    routes = args.routes or default_routes_path()
    if args.routes and not routes.exists():
        print(f"switchboard webhook: routes file {routes} does not exist", file=sys.stderr)
        return 2
    config = {
        "AUTH_TOKEN": token,
        "PUBLIC_URL": args.public_url,
        "DEFAULT_ROOM": args.default_room,
        "SKIP_SIGNATURE": args.insecure_skip_signature,
        "ROUTES_FILE": str(routes),  # also when absent: a file created later takes effect
    }
    workers = args.workers or default_workers()
    recorder = HistoryRecorder(args.history)
    try:
        CallHistory(recorder.path).close()  # said now, not at the first callback
    except HistoryError as error:
        print(f"switchboard webhook: {error}", file=sys.stderr)
        return 1
    try:
        if workers == 1:
            return _serve_in_process(args, config, stop, recorder)
        return _serve_from_workers(args, config, workers, stop, recorder)
    except PortInUse as error:
        print(f"switchboard webhook: {error.strerror}", file=sys.stderr)
        return 1
    finally:
        recorder.close()


def _announce(config: dict, url: str, how: str, recorder: HistoryRecorder) -> None:
    if config["SKIP_SIGNATURE"]:
        print("WARNING: signature checks are OFF (--insecure-skip-signature)", file=sys.stderr)
    print(f"Webhook listening on {url} ({how})", flush=True)
    print(f"Public URL: {config['PUBLIC_URL']}", flush=True)
    print(f"Call history: {recorder.path} (every status callback is recorded)", flush=True)
    _print_routes(Path(config["ROUTES_FILE"]))


def _serve_in_process(
    args: argparse.Namespace, config: dict, stop: threading.Event, recorder: HistoryRecorder
) -> int:
    from webhook import WebhookServer, create_app  # Flask loads only to serve

    app = create_app(config, on_event=recorder)
    server = WebhookServer(app, host=args.host, port=args.port)
    server.start()
    config["PUBLIC_URL"] = app.config["PUBLIC_URL"] = args.public_url or server.local_url
    _announce(config, server.local_url, "1 process", recorder)
    gc.freeze()  # start-up objects never die: keep them out of the collector's pauses
    return serve_until_signal("Webhook", server.stop, stop=stop)


def _serve_from_workers(
    args: argparse.Namespace,
    config: dict,
    workers: int,
    stop: threading.Event,
    recorder: HistoryRecorder,
) -> int:
    import logging
    import signal

    from webhook.server import listen, local_url
    from webhook.workers import serve_with_workers

    listener = listen(args.host, args.port)
    url = local_url(args.host, listener.getsockname()[1])
    config["PUBLIC_URL"] = args.public_url or url

    def ready() -> None:
        _announce(config, url, f"{workers} worker processes", recorder)
        print("Press Ctrl-C to stop.", flush=True)
        if stop.is_set():  # a signal came before gunicorn's master took them over
            os.kill(os.getpid(), signal.SIGTERM)

    level = logging.getLogger().getEffectiveLevel()
    if serve_with_workers(listener, config, workers, ready, level, on_event=recorder) != 0:
        print("switchboard webhook: a worker process could not start", file=sys.stderr)
        return 1
    print("Webhook stopped.", flush=True)
    return 0


def _print_routes(path: Path) -> None:
    from webhook.routes_file import RoutesFile

    routes = RoutesFile(path)
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
