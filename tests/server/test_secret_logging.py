"""The secret filter: no log record, whoever logs it, and no traceback shows a database password."""

from __future__ import annotations

import io
import logging
import subprocess
import sys

from server import secret_filter

URL = "postgresql://team:HUNTER%2F2@db.example.com/x"  # the password: HUNTER/2


def _protected() -> None:
    secret_filter.protect(URL)
    secret_filter.install()


def test_third_party_records_lose_the_password(caplog):
    _protected()
    with caplog.at_level(logging.INFO):
        logging.getLogger("psycopg.pool").warning("error connecting in %r: %s", "pool", URL)
        logging.getLogger("waitress").info("password HUNTER/2 was refused")
        logging.getLogger("psycopg").warning("conninfo host=db password=HUNTER3 dbname=x")
    assert "HUNTER" not in caplog.text
    assert "postgresql://team:***@db.example.com/x" in caplog.text
    assert [r.name for r in caplog.records] == ["psycopg.pool", "waitress", "psycopg"]


def test_a_logger_with_its_own_handler_made_later_is_cleaned_too():
    _protected()
    stream = io.StringIO()
    logger = logging.getLogger("gunicorn.error.test")  # as gunicorn's: not propagated
    logger.propagate, handler = False, logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"cannot use {URL} (HUNTER/2)")
        except RuntimeError:
            logger.exception("worker failed on %s", URL)
    finally:
        logger.removeHandler(handler)
    shown = stream.getvalue()
    assert "HUNTER" not in shown
    assert "worker failed on postgresql://team:***@" in shown and "RuntimeError" in shown


def test_uncaught_exceptions_print_no_password():
    program = (
        "import threading\n"
        "from server import secret_filter\n"
        f"secret_filter.protect({URL!r})\n"
        "secret_filter.install()\n"
        "def fail():\n"
        "    raise ValueError('in a thread: HUNTER/2')\n"
        "thread = threading.Thread(target=fail, name='hub')\n"
        "thread.start()\n"
        "thread.join()\n"
        f"raise RuntimeError('at the top: ' + {URL!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "HUNTER" not in done.stderr
    assert "Exception in thread hub" in done.stderr
    assert "ValueError: in a thread: ***" in done.stderr
    assert "RuntimeError: at the top: postgresql://team:***@db.example.com/x" in done.stderr


def test_a_record_whose_arguments_do_not_fit_its_format_still_hides_the_password(capsys):
    _protected()
    stream = io.StringIO()
    logger = logging.getLogger("switchboard.test.badformat")
    logger.propagate, handler = False, logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("two values %s %s expected", URL)  # one given: logging cannot format it
    finally:
        logger.removeHandler(handler)
    shown = stream.getvalue() + capsys.readouterr().err
    assert "HUNTER" not in shown
    assert "two values %s %s expected" in shown and "postgresql://team:***@" in shown


def test_a_huge_message_is_cut_and_a_huge_traceback_keeps_its_end():
    _protected()
    anyone_can_send = "a://a:" * 50_000 + URL  # as an unsigned request's URL in the log
    shown = secret_filter.clean(anyone_can_send)
    assert len(shown) < secret_filter.LONGEST + 100
    assert shown.endswith("more characters not shown)")
    trace = "Traceback …\n" + "x" * 100_000 + f"\nRuntimeError: cannot use {URL}"
    kept = secret_filter.clean(trace, keep_end=True)
    assert len(kept) < secret_filter.LONGEST + 100
    assert kept.endswith("RuntimeError: cannot use postgresql://team:***@db.example.com/x")


def test_a_secret_given_as_itself_is_hidden_wherever_it_appears(caplog):
    _protected()
    token = "f0e1d2c3b4a5968778695a4b3c2d1e0f"  # as a Twilio auth token
    secret_filter.protect_values(token, None, "")
    with caplog.at_level(logging.INFO, logger="switchboard.test.token"):
        logging.getLogger("switchboard.test.token").info("Authorization: Basic %s", token)
    assert token not in caplog.text and "Authorization: Basic ***" in caplog.text
