"""Database URLs in messages: the password never shows, whatever form the URL takes."""

from __future__ import annotations

import pytest

from server.database import Database, DatabaseError
from server.database_url import hide_passwords, password_of, redact, scrub, url_problem

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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:HUNTER/2@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:HUN@TER2@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:HUN?TER#2@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:HUNTER2@[::1/x", "postgresql://u:***@[::1/x"),
        ("postgresql://u:HUNTER2@127.0.0.1:abc/x", "postgresql://u:***@127.0.0.1:abc/x"),
        ("host=db password='HUNTER\\' 2' dbname=x", "host=db password=*** dbname=x"),
        ("password='HUNTER 2", "password=***"),
    ],
)
def test_any_shape_of_url_is_redacted_without_an_error(url, shown):
    assert redact(url) == shown
    assert "HUN" not in scrub(f"could not use {url}: bad URL {url!r}", url)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://u:HUNTER/2@h/x", "'/' in its password: percent-encode it (/ as %2F)"),
        ("postgresql://u:HUN@TER@h/x", "'@' in its password: percent-encode it (@ as %40)"),
        ("postgresql://u:HUN?TER#2@h/x", "'#' and '?' in its password"),
        ("postgresql://u/x:HUNTER2@h/x", "'/' in its user name"),
        ("postgresql://u:HUNTER%zz@h/x", "write % as %25"),
        ("mysql://u:HUNTER2@h/x", "must start with postgresql://"),
    ],
)
def test_a_url_libpq_would_misread_is_refused_in_words(url, problem):
    message = url_problem(url)
    assert problem in message and "HUNTER" not in message
    with pytest.raises(DatabaseError) as caught:
        Database(url)
    assert str(caught.value) == message


def test_well_formed_urls_have_no_problem():
    assert url_problem(URL) == ""
    assert url_problem("postgres://u@h:5432/x?sslmode=require&password=p%40ss") == ""
    assert url_problem("host=db password=p/w@x dbname=x") == ""


def test_free_text_loses_every_password_it_shows():
    text = (
        "invalid choice: 'postgresql://u:HUNTER/2@127.0.0.1:1/x' and host=db password=HUNTER3 "
        "and postgresql://db/x?password=HUNTER4&sslmode=require"
    )
    shown = hide_passwords(text)
    assert "HUNTER" not in shown
    assert "postgresql://u:***@127.0.0.1:1/x" in shown and "&sslmode=require" in shown


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
