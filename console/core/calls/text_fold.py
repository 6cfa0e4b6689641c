"""Case folding for history search, letter for letter the same in Python, SQLite and PostgreSQL.

SQLite's LIKE folds ASCII only, and so do PostgreSQL's ILIKE and lower() in a database made
with the C locale; a search for "ÜL" must still find "Müller". Text with a letter outside ASCII
is therefore matched on text folded here: every letter whose lower case is one letter (the
same one-for-one folding the trigram indexes do) becomes that letter.
"""

from __future__ import annotations

import functools

_SEARCHED = range(0x80, 0x10000)  # the letters names, rooms and messages are written in


@functools.cache
def _pairs() -> tuple[tuple[str, str], ...]:
    """(letter, its lower case) for every letter outside ASCII that folds one for one."""
    found = ((chr(code), chr(code).lower()) for code in _SEARCHED)
    return tuple((a, b) for a, b in found if a != b and len(b) == 1)


def fold_pairs(text: str) -> tuple[str, str]:
    """(upper, lower): the letters that fold into one of text's folded letters, and what each
    folds to, position for position; PostgreSQL's translate() folds with them in any locale
    (ILIKE still folds ASCII). Only these few: translate() reads its list once a letter."""
    wanted = set(fold(text))
    chosen = [(a, b) for a, b in _pairs() if b in wanted]
    return "".join(a for a, _ in chosen), "".join(b for _, b in chosen)


@functools.cache
def _table() -> dict[int, int]:
    table = {ord(a): ord(b) for a, b in _pairs()}
    table.update((code, code + 32) for code in range(ord("A"), ord("Z") + 1))
    return table


def fold(text: str | None) -> str:
    """text with every letter in lower case, one letter for one (None is '')."""
    return (text or "").translate(_table())


def needs_folding(text: str) -> bool:
    """Whether ASCII-only case folding (LIKE, ILIKE in the C locale) could miss a match."""
    return not text.isascii()
