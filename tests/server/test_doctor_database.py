"""`switchboard doctor --database`: the team database checked beside everything else."""

from __future__ import annotations

import json

from console.commands.cli import main


def test_doctor_reports_a_current_database_with_a_notify_round_trip(database_url, capsys):
    main(["doctor", "--json", "--webhook-port", "1", "--database", database_url])
    report = json.loads(capsys.readouterr().out)
    database = report["database"]
    assert database["reachable"] is True
    assert database["schema_version"] == database["latest_schema_version"]
    assert database["notify_ms"] is not None and database["ok"] is True
    (check,) = [c for c in report["checks"] if c["name"] == "database"]
    assert check["ok"] is True and "LISTEN/NOTIFY round trip" in check["detail"]


def test_doctor_names_an_old_schema_and_hides_the_password(empty_database, capsys, monkeypatch):
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", empty_database)  # never migrated
    status = main(["doctor", "--webhook-port", "1"])
    out = capsys.readouterr().out
    assert status == 1
    (line,) = [line for line in out.splitlines() if line.startswith("✗ database:")]
    assert "run `switchboard server migrate`" in line
    password = empty_database.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password and password not in out
