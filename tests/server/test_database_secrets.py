"""The database password through the real command line: never printed, never logged."""

from __future__ import annotations

import logging

import pytest

from console.commands.cli import main

SECRET = "HUNTER"  # every password below holds it; nothing else the commands print does
ACCOUNT = "AC" + "0" * 32
URLS = {
    "unclosed IPv6 bracket": "postgresql://u:HUNTER2@[::1/x",
    "slash in password": "postgresql://u:HUNTERA/HUNTERB@127.0.0.1:1/x",
    "at in password": "postgresql://u:HUNTERA@HUNTERB@127.0.0.1:1/x",
    "question and hash": "postgresql://u:HUNTERA?HUNTERB#HUNTERC@127.0.0.1:1/x",
    "port not a number": "postgresql://u:HUNTER2@127.0.0.1:abc/x",
    "bad percent escape": "postgresql://u:HUNTER%zz@127.0.0.1:1/x",
    "encoded password": "postgresql://u:HUNTER%2F%40%232@127.0.0.1:1/x",
    "password in query": "postgresql://u@127.0.0.1:1/x?password=HUNTER2&sslmode=disable",
    "other scheme": "mysql://u:HUNTER2@127.0.0.1:1/x",
    "key=value": "host=127.0.0.1 port=1 user=u password=HUNTER2 dbname=x",
    "key=value quoted": "host=127.0.0.1 port=1 password='HUNTER \\' 2' dbname=x",
}
ONE_LINE_COMMANDS = {
    "migrate": ["server", "migrate"],
    "serve": ["server", "--workers", "1", "--port", "0"],
    "operator list": ["server", "operator", "list"],
    "history": ["history"],
}


def _run(argv, capsys, caplog) -> tuple[int, str, str]:
    with caplog.at_level(logging.DEBUG):
        status = main(argv)
    out, err = capsys.readouterr()
    everything = out + err + caplog.text
    assert SECRET not in everything and SECRET.lower() not in everything
    return status, out, err


@pytest.fixture
def credentials(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "0" * 32)


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
@pytest.mark.parametrize("command", ONE_LINE_COMMANDS.values(), ids=ONE_LINE_COMMANDS.keys())
def test_a_command_says_in_one_line_what_is_wrong_and_hides_the_password(
    url, command, credentials, monkeypatch, capsys, caplog
):
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    status, out, err = _run(command, capsys, caplog)
    assert status == 1 and out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"switchboard {command[0]}: The database ")
    assert "Traceback" not in err and "unexpected error" not in err


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_server_check_reports_the_database_it_cannot_use(url, capsys, caplog):
    status, out, _ = _run(["server", "check", "--database", url], capsys, caplog)
    assert status == 1
    first, second = out.splitlines()
    assert first.startswith("✗ Database ") and second.startswith("  not reachable: The database")


@pytest.mark.parametrize("url", URLS.values(), ids=URLS.keys())
def test_doctor_reports_the_database_among_its_checks(url, monkeypatch, capsys, caplog):
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", url)
    status, out, err = _run(["doctor", "--webhook-port", "1"], capsys, caplog)
    assert status == 1 and "could not finish" not in err
    (line,) = [line for line in out.splitlines() if line.startswith("✗ database:")]
    assert "not reachable: The database" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["server", URLS["at in password"]],
        ["server", "migrate", URLS["slash in password"]],
        ["doctor", URLS["unclosed IPv6 bracket"]],
        ["history", URLS["port not a number"]],
        ["server", "--workers", URLS["question and hash"]],
        ["server", "check", *URLS["key=value"].split()],
        ["history", f"--database={URLS['at in password']}", "--limit", "x"],
    ],
    ids=["serve", "migrate", "doctor", "history", "workers", "key=value", "option=value"],
)
def test_a_misplaced_url_is_not_echoed_by_the_usage_error(argv, capsys, caplog):
    with pytest.raises(SystemExit) as exited:
        _run(argv, capsys, caplog)
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err and len(err.splitlines()) == 1
    assert "(see switchboard" in err


def test_sslmode_in_the_url_reaches_libpq(database_url, capsys, caplog):
    password = database_url.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1]
    status = main(["server", "check", "--database", f"{database_url}?sslmode=require"])
    out = capsys.readouterr().out
    assert status == 1 and "SSL" in out and password not in out + caplog.text
    assert main(["server", "check", "--database", f"{database_url}?sslmode=disable"]) == 0
