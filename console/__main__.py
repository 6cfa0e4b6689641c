"""Lets `python -m console` do what the `switchboard` command does."""

from console.cli import main

raise SystemExit(main())
