"""Date filter values as Twilio takes them: a date or an ISO 8601 date-time, else a 400."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.date_filters import BEFORE, FROM, ON, DateBound, parse_moment, read_bounds
from sandbox.errors import TwilioApiError


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026-11-24T18:00:00Z", datetime(2026, 11, 24, 18, tzinfo=UTC)),
        ("2026-11-24T18:00", datetime(2026, 11, 24, 18, tzinfo=UTC)),  # no zone: UTC
        ("2026-11-24T20:00:00+02:00", datetime(2026, 11, 24, 18, tzinfo=UTC)),
        ("2026-11-24T13:00:00-0500", datetime(2026, 11, 24, 18, tzinfo=UTC)),
        ("2026-11-24T18:00:00.1234567Z", datetime(2026, 11, 24, 18, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_dates_and_date_times_parse(value, moment):
    assert parse_moment("StartTime", value) == moment


@pytest.mark.parametrize(
    "value", ["", "yesterday", "24/11/2026", "2026-11-31", "2026-11-24T25:00Z", "2026-11-24T18"]
)
def test_anything_else_is_twilios_400(value):
    with pytest.raises(TwilioApiError) as refused:
        parse_moment("StartTime<", value)
    assert (refused.value.status, refused.value.code) == (400, 20001)
    assert refused.value.message.startswith(f"Invalid StartTime<: {value}.")


def test_on_is_the_utc_day_before_is_strict_from_is_inclusive():
    moment = datetime(2026, 11, 25, tzinfo=UTC)
    late, midnight = datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC), moment
    assert DateBound("x", ON, moment).admits(midnight)
    assert not DateBound("x", ON, moment).admits(late)
    assert DateBound("x", BEFORE, moment).admits(late)
    assert not DateBound("x", BEFORE, moment).admits(midnight)
    assert DateBound("x", FROM, moment).admits(midnight)
    assert not DateBound("x", FROM, moment).admits(None)  # never started: never passes


def test_only_the_filters_given_are_read():
    args = {"StartTime>": "2026-11-24", "To": "+1"}
    bounds = read_bounds(args, {"StartTime>": FROM, "EndTime": ON})
    assert [(b.name, b.relation) for b in bounds] == [("StartTime>", FROM)]
