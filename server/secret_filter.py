"""Keeping database passwords out of every log record, traceback and printed error."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

from server.database_url import HIDDEN, hide_passwords, secrets_of

MIN_LENGTH = 4  # a shorter password is hidden only where a URL shows it, not in every word
LONGEST = 16_384  # characters of a message or traceback kept (and searched): the rest is cut
# Longest first; replaced whole (never changed in place), as log calls read it on any thread.
_known: tuple[str, ...] = ()
_installed = False


def protect(*urls: str | None) -> None:
    """Remember the passwords these URLs, key=value strings or --option=URL arguments carry,
    to hide them anywhere."""
    found: list[str] = []
    for url in urls:
        text = url or ""
        if text.startswith("--") and "=" in text:
            text = text.split("=", 1)[1]
        found += secrets_of(text)
    protect_values(*found)


def protect_values(*secrets: str | None) -> None:
    """Remember secrets given as themselves (the Twilio auth token, an API key's secret)."""
    global _known
    found = set(_known) | {s for s in secrets if s and len(s) >= MIN_LENGTH}
    _known = tuple(sorted(found, key=len, reverse=True))  # a new tuple: readers never see it change


def clean(text: object, keep_end: bool = False) -> str:
    """text with every remembered password, and any URL or password=… password, hidden; past
    LONGEST characters, its start is kept (its end, for a traceback)."""
    shown = str(text)
    if len(shown) > LONGEST:
        cut = len(shown) - LONGEST
        if keep_end:
            shown = f"({cut} characters not shown) …{shown[cut:]}"
        else:
            shown = f"{shown[:LONGEST]}… ({cut} more characters not shown)"
    for secret in _known:
        shown = shown.replace(secret, HIDDEN)
    return hide_passwords(shown)


class SecretFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack so that no password is left in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging would print the raw arguments
            message = f"{record.msg!r} (arguments that do not fit it: {record.args!r})"
            record.msg, record.args = message, ()
        cleaned = clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = clean(record.exc_text, keep_end=True)
        if record.stack_info:
            record.stack_info = clean(record.stack_info, keep_end=True)
        return True


def install() -> None:
    """Clean every log record (any logger's, made now or later, in this process and its forks),
    and uncaught exceptions' tracebacks, of passwords. Safe to call more than once."""
    global _installed
    if _installed:
        return
    _installed = True
    scrubber = SecretFilter()
    make_record: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def cleaned_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        scrubber.filter(record)
        return record

    logging.setLogRecordFactory(cleaned_record)
    sys.excepthook = _print_cleaned
    threading.excepthook = lambda hook: _print_cleaned(
        hook.exc_type, hook.exc_value, hook.exc_traceback, hook.thread
    )


def _print_cleaned(kind, error, trace, thread: threading.Thread | None = None) -> None:
    """An uncaught exception's traceback on stderr, its passwords hidden."""
    if sys.stderr is None or kind is SystemExit:
        return
    where = f"Exception in thread {thread.name}:\n" if thread is not None else ""
    shown = "".join(traceback.format_exception(kind, error, trace))
    print(clean(where + shown, keep_end=True), end="", file=sys.stderr, flush=True)
