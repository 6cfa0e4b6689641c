"""The `switchboard` command line: argparse subcommands, with the window as the default."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from console.commands.arguments import OneLineParser


class VersionAction(argparse.Action):
    """--version, reading the package metadata only when asked (it costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kwargs.get("help"))  # type: ignore[arg-type]

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from webhook.version import package_version

        print(f"{parser.prog} {package_version()}")
        parser.exit()


def build_parser(commands: bool = True) -> argparse.ArgumentParser:
    """The argument parser; without `commands`, only the window's options (a faster start)."""
    parser = OneLineParser(
        prog="switchboard",
        description="Dial phone and SIP participants into Twilio Video rooms.",
    )
    parser.add_argument(
        "--version", action=VersionAction, help="show the installed version and exit"
    )
    parser.add_argument(
        "--sandbox", action="store_true", help="use the offline sandbox even if credentials exist"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    if not commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from console.commands import (
        doctor,
        sandbox_command,
        screenshot_command,
        self_test,
        webhook_command,
    )

    webhook_command.add_parser(sub)
    sandbox_command.add_parser(sub)
    screenshot_command.add_parser(sub)
    self_test.add_parser(sub)
    doctor.add_parser(sub)
    from console.commands import script_commands

    script_commands.add_parsers(sub)
    from console.commands import room_commands

    room_commands.add_parsers(sub)
    from console.commands import team_commands

    team_commands.add_parsers(sub)
    from console.commands import server_command

    server_command.add_parser(sub)
    from console.commands import team_demo

    team_demo.add_parser(sub)
    return parser


def opens_window(argv: Sequence[str]) -> bool:
    """Whether argv names no subcommand and asks for no help: the window opens.

    Every subcommand's module is imported to build its parser; the window needs none of them.
    """
    return not any(arg in ("-h", "--help") or not arg.startswith("-") for arg in argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    if getattr(sys, "frozen", False):  # the packaged app: a webhook worker starts this program
        import multiprocessing

        multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    window = opens_window(argv)
    if not window:  # a command may be handed a database URL: its password is shown nowhere
        from server import secret_filter
        from server.database_url import database_url_from_env

        secret_filter.protect(database_url_from_env(), *argv)
        secret_filter.install()
    args = build_parser(commands=not window).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # the SDK logs every request at INFO
        logging.getLogger("twilio").setLevel(logging.WARNING)
    if args.command is None:
        from console.app import run_gui

        return run_gui(args)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
