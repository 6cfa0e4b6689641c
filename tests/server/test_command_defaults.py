"""What `switchboard history` and `switchboard server` do without options, and their help."""

from __future__ import annotations

import pytest

from console.commands.cli import main

ACCOUNT = "AC" + "0" * 32


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "0" * 32)


def test_history_reads_the_team_database_of_the_environment(
    database_url, credentials, monkeypatch, capsys
):
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", database_url)
    assert main(["history", "--csv"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.endswith("operator")  # the team's CSV, not this computer's
    assert main(["history", "--database", "", "--csv"]) == 0
    assert "operator" not in capsys.readouterr().out.splitlines()[0]


def test_help_describes_history_and_shows_the_server_serves_without_an_action(capsys):
    with pytest.raises(SystemExit):
        main(["history", "--help"])
    assert "SWITCHBOARD_DATABASE_URL" in capsys.readouterr().out.split("options:")[0]
    with pytest.raises(SystemExit):
        main(["server", "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert "switchboard server [options]" in usage and "ACTION ..." not in usage
