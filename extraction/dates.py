"""Parsing the dates that pages, feeds and sitemaps give, and converting them to UTC."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

from dateutil import parser as dateutil_parser

_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d")
# ISO 8601 allows "2023" and "2023-08"; neither names a day.
_YEAR_OR_MONTH = re.compile(r"\d{4}(?:-\d{2})?")
_UNIX_SECONDS = re.compile(r"^\d{9,10}$")
# Two defaults that differ in year, month and day (see parse_datetime).
_DEFAULT_A = datetime(2000, 1, 1)
_DEFAULT_B = datetime(2001, 2, 2)
_TEXT_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_YEAR_FIRST = re.compile(r"\d{4}\D")
_DOTTED_DATE = re.compile(r"(?<!\d)\d{1,2}\.\d{1,2}\.(?:19|20)\d\d(?!\d)")


def parse_datetime(value: str | None, *, dayfirst: bool = False) -> datetime | None:
    """A datetime from an ISO 8601 (extended or basic), RFC 2822 or other common date string.

    Numeric dates with dots (15.08.2023) are read day first everywhere; with ``dayfirst``,
    slashed ones (05/10/2022) too, as outside the US. The result keeps the offset the string
    gives (it is naive when the string has none);
    ``None`` when the string is not a date. Strings without a four-digit year are refused, so
    that a stray number never becomes a date.
    """
    if not value:
        return None
    value = value.strip()
    if not value or len(value) > 64:
        return None
    if _UNIX_SECONDS.match(value):
        return datetime.fromtimestamp(int(value), tz=UTC)
    if not _HAS_YEAR.search(value) or _YEAR_OR_MONTH.fullmatch(value):
        return None
    try:
        # Python 3.11+ reads extended and basic ISO 8601 (20230815T1639+0300).
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        pass
    try:
        return dateutil_parser.isoparse(value)
    except (ValueError, OverflowError):
        pass
    # Dotted dates (15.08.2023) are day-first wherever they are used.
    # A string that starts with the year is year-month-day whatever the country.
    dayfirst = (dayfirst and not _YEAR_FIRST.match(value)) or bool(_DOTTED_DATE.search(value))
    try:
        with warnings.catch_warnings():
            # An unknown zone name ("EST5EDT-ish") leaves the result naive, taken as UTC later.
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            first = dateutil_parser.parse(value, dayfirst=dayfirst, default=_DEFAULT_A)
            second = dateutil_parser.parse(value, dayfirst=dayfirst, default=_DEFAULT_B)
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        return None
    # A string without a day, month or year gets it from the default: not a date.
    return first if first.date() == second.date() else None


def first_date_in_text(text: str) -> datetime | None:
    """The first complete numeric date (year first: 2005-3-11, 2022/02/13, 2022年2月13日) in
    ``text``, as a naive datetime; ``None`` when there is none."""
    for match in _TEXT_DATE.finditer(text):
        try:
            return datetime(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def to_utc(value: datetime | None) -> datetime | None:
    """``value`` in UTC; a naive value is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
