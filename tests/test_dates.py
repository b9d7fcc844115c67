"""Tests for pipelines/dates.py: parsing date strings and converting to UTC."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest

from extraction.dates import parse_datetime, to_utc

PLUS_3 = timezone(timedelta(hours=3))
MINUS_5 = timezone(timedelta(hours=-5))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-08-15T16:39:00+03:00", datetime(2023, 8, 15, 16, 39, tzinfo=PLUS_3)),
        ("2023-08-15T16:39:00.250+03:00", datetime(2023, 8, 15, 16, 39, 0, 250_000, PLUS_3)),
        ("2023-08-15 16:39:00-05:00", datetime(2023, 8, 15, 16, 39, tzinfo=MINUS_5)),
        ("20230815T1639+0300", datetime(2023, 8, 15, 16, 39, tzinfo=PLUS_3)),
        ("20230815T163900Z", datetime(2023, 8, 15, 16, 39, tzinfo=UTC)),
        ("2023-08-15T13:39:00Z", datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
        ("2023-08-15t13:39:00z", datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
        ("  2023-08-15T13:39:00Z\n", datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
        ("Tue, 15 Aug 2023 13:39:00 GMT", datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
        ("Tue, 15 Aug 2023 16:39:00 +0300", datetime(2023, 8, 15, 16, 39, tzinfo=PLUS_3)),
        ("15 Aug 2023 11:39:00 -0500", datetime(2023, 8, 15, 11, 39, tzinfo=MINUS_5)),
        ("August 15, 2023", datetime(2023, 8, 15)),
        ("1692106740", datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
    ],
)
def test_parse_datetime_keeps_the_instant_and_offset(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-08-15", datetime(2023, 8, 15)),
        ("20230815", datetime(2023, 8, 15)),
        ("2023-08-15T16:39", datetime(2023, 8, 15, 16, 39)),
        ("05.08.2023", datetime(2023, 8, 5)),
        ("5.8.2023", datetime(2023, 8, 5)),
        ("05.08.2023 10:15", datetime(2023, 8, 5, 10, 15)),
    ],
)
def test_parse_datetime_without_offset_is_naive(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is None


def test_dotted_date_is_day_first() -> None:
    parsed = parse_datetime("05.08.2023")
    assert parsed is not None
    assert (parsed.day, parsed.month) == (5, 8)


def test_unix_seconds_are_utc() -> None:
    parsed = parse_datetime("1692106740")
    assert parsed is not None
    assert parsed.tzinfo is UTC
    assert parsed.isoformat() == "2023-08-15T13:39:00+00:00"


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "3",
        "3 2023",
        "August 2023",
        "Aug 2023",
        "15 August",
        "10:30",
        "garbage",
        "not a date at all",
        "2023-13-45",
        "2023-08-15T25:00:00",
        "12345678901",  # eleven digits: not unix seconds
        "x" * 10_000,
        "2023-08-15 " + "y" * 10_000,
    ],
)
def test_parse_datetime_refuses_non_dates(value: str | None) -> None:
    assert parse_datetime(value) is None


@pytest.mark.parametrize("value", ["2023", "1999", "2023-08", "2015-11"])
def test_parse_datetime_refuses_year_or_month_only(value: str) -> None:
    # "Strings without a four-digit year are refused, so that a stray number never becomes a
    # date"; a year or a month alone is no more a date than "August 2023" (which is refused).
    assert parse_datetime(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "Tue, 15 Aug 2023 16:39:00 XYZT",
        "15 August 2023 10:00 FOOBAR",
        "Tue, 15 Aug 2023 16:39:00 EST5EDT",
    ],
)
def test_unknown_timezone_name_neither_raises_nor_warns(value: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_datetime(value)
    assert parsed is None or parsed.tzinfo is None
    if parsed is not None:
        assert parsed.date() == datetime(2023, 8, 15).date()


def test_unknown_timezone_name_keeps_the_date() -> None:
    parsed = parse_datetime("Tue, 15 Aug 2023 16:39:00 XYZT")
    assert parsed == datetime(2023, 8, 15, 16, 39)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            datetime(2023, 8, 15, 16, 39, tzinfo=PLUS_3),
            datetime(2023, 8, 15, 13, 39, tzinfo=UTC),
        ),
        (
            datetime(2023, 8, 15, 22, 0, tzinfo=MINUS_5),
            datetime(2023, 8, 16, 3, 0, tzinfo=UTC),
        ),
        (datetime(2023, 8, 15, 13, 39), datetime(2023, 8, 15, 13, 39, tzinfo=UTC)),
        (
            datetime(2023, 8, 15, 13, 39, tzinfo=UTC),
            datetime(2023, 8, 15, 13, 39, tzinfo=UTC),
        ),
    ],
)
def test_to_utc(value: datetime, expected: datetime) -> None:
    converted = to_utc(value)
    assert converted is not None
    assert converted.tzinfo is UTC
    # Same wall clock in UTC, not merely the same instant.
    assert converted.replace(tzinfo=None) == expected.replace(tzinfo=None)


def test_to_utc_none() -> None:
    assert to_utc(None) is None


def test_to_utc_of_parsed_strings() -> None:
    assert to_utc(parse_datetime("20230815T1639+0300")) == datetime(2023, 8, 15, 13, 39, tzinfo=UTC)
    naive = to_utc(parse_datetime("2023-08-15"))
    assert naive is not None
    assert naive.tzinfo is UTC
    assert naive.hour == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # a zone named with its offset, as pages mean it (dateutil read POSIX's sign: 13:00)
        ("2025-06-01 10:00 GMT+3", datetime(2025, 6, 1, 7, tzinfo=UTC)),
        ("2025-06-01 10:00 UTC+8", datetime(2025, 6, 1, 2, tzinfo=UTC)),
        ("2025-06-01 10:00 UTC-05:30", datetime(2025, 6, 1, 15, 30, tzinfo=UTC)),
        ("2025-06-01 10:00 GMT\u22125", datetime(2025, 6, 1, 15, tzinfo=UTC)),
        ("Sun, 01 Jun 2025 10:00:00 GMT", datetime(2025, 6, 1, 10, tzinfo=UTC)),
        # abbreviations read one way only (RFC 822's among them)
        ("Sun, 01 Jun 2025 10:00:00 EDT", datetime(2025, 6, 1, 14, tzinfo=UTC)),
        ("Sun, 01 Jan 2025 10:00:00 PST", datetime(2025, 1, 1, 18, tzinfo=UTC)),
        ("2025-06-01 10:00 CEST", datetime(2025, 6, 1, 8, tzinfo=UTC)),
        ("2025-06-01 10:00 MSK", datetime(2025, 6, 1, 7, tzinfo=UTC)),
        # read in more than one way (India, Israel, Ireland): no zone, the time as UTC
        ("2025-06-01 10:00 IST", datetime(2025, 6, 1, 10, tzinfo=UTC)),
    ],
)
def test_zone_names_and_named_offsets(value: str, expected: datetime) -> None:
    assert to_utc(parse_datetime(value)) == expected


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata"])
def test_the_machines_zone_changes_nothing(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    # dateutil read a name in time.tzname (EDT on a New York machine) as the local zone
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        for value, utc_hour in (
            ("Sun, 01 Jun 2025 10:00:00 EDT", 14),
            ("2025-06-01 10:00 CEST", 8),
            ("2025-06-01 10:00 IST", 10),
            ("2025-06-01 10:00", 10),
        ):
            assert to_utc(parse_datetime(value)) == datetime(2025, 6, 1, utc_hour, tzinfo=UTC)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-09T10:00:00+24:00",
        "2026-01-09T10:00:00-25:00",
        "2026-01-09 10:00 +2400",
        "2026-01-09 10:00 GMT-24",
        "2026-01-09 10:00 UTC+30",
        "Fri, 09 Jan 2026 10:00:00 +9999",
    ],
)
def test_an_offset_of_a_day_or_more_is_no_date(value: str) -> None:
    # dateutil made such offsets; converting them raised ValueError, which ended a sitemap's
    # reading (its later entries lost) or lost the article
    assert parse_datetime(value) is None


def test_to_utc_of_an_offset_no_clock_has_is_none() -> None:
    from dateutil.tz import tzoffset  # noqa: PLC0415

    assert to_utc(datetime(2026, 1, 9, 10, tzinfo=tzoffset(None, 24 * 3600))) is None
