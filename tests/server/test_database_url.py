"""Database URLs in messages: the password never shows, whatever form the URL takes."""

from __future__ import annotations

import pytest

from server.database import Database, DatabaseError, password_of, redact, scrub

SECRET = "s3cr:et@/pw"
URL = "postgresql://team:s3cr%3Aet%40%2Fpw@db.example.com:5433/switchboard?sslmode=require"


def test_the_password_of_each_form_is_found():
    assert password_of(URL) == SECRET
    assert password_of("host=db user=team password='p w' dbname=x") == "p w"
    assert password_of("postgresql://team@db/x") == ""


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (URL, "postgresql://team:***@db.example.com:5433/switchboard?sslmode=require"),
        ("postgresql://team:pw@[::1]/x", "postgresql://team:***@[::1]/x"),
        ("postgresql://db/x?user=team&password=pw", "postgresql://db/x?user=team&password=***"),
        ("host=db password=pw dbname=x", "host=db password=*** dbname=x"),
        ("host=db password='p w' dbname=x", "host=db password=*** dbname=x"),
        ("postgresql://team@db/x", "postgresql://team@db/x"),
    ],
)
def test_urls_are_redacted(url, shown):
    assert redact(url) == shown


def test_messages_that_quote_the_url_or_the_password_are_scrubbed():
    text = f"could not use {URL}: password {SECRET} rejected"
    cleaned = scrub(text, URL)
    assert SECRET not in cleaned and "s3cr%3Aet" not in cleaned
    assert "***" in cleaned


def test_an_unreachable_database_is_named_without_its_password():
    url = "postgresql://team:hunter2hunter2@127.0.0.1:1/x"
    with pytest.raises(DatabaseError) as caught:
        Database(url).open(timeout=2)
    assert "hunter2hunter2" not in str(caught.value)
    assert "127.0.0.1:1" in str(caught.value)


def test_no_database_at_all_says_how_to_give_one():
    with pytest.raises(DatabaseError, match="SWITCHBOARD_DATABASE_URL"):
        Database("")
