"""Lets `python -m console` do what the `switchboard` command does."""

from console.commands.cli import main

raise SystemExit(main())
