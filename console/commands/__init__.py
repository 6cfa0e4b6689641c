"""The `switchboard` command line and each of its subcommands."""
