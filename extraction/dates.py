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
# "GMT+3", "UTC-05:30": the zone three (five and a half) hours ahead of (behind) UTC, as pages
# mean it; dateutil reads them as POSIX TZ strings, with the sign the other way round.
_NAMED_OFFSET = re.compile(r"\b(?:GMT|UTC|UT)\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)")
_HOUR = 3600
# Zone abbreviations read the same the world over (RFC 822's North American zones, as feeds
# use them, and the European, Russian and East Asian ones pages write); others (IST, BST, CST
# outside RFC 822 ...) name several zones and are read as no zone, never as the zone of the
# machine that parses them (which dateutil does for the names in time.tzname).
_ZONES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0,
    "EST": -5 * _HOUR, "EDT": -4 * _HOUR, "CST": -6 * _HOUR, "CDT": -5 * _HOUR,
    "MST": -7 * _HOUR, "MDT": -6 * _HOUR, "PST": -8 * _HOUR, "PDT": -7 * _HOUR,
    "AKST": -9 * _HOUR, "AKDT": -8 * _HOUR, "HST": -10 * _HOUR,
    "WEST": _HOUR, "CET": _HOUR, "CEST": 2 * _HOUR, "MEZ": _HOUR, "MESZ": 2 * _HOUR,
    "EET": 2 * _HOUR, "EEST": 3 * _HOUR, "MSK": 3 * _HOUR,
    "JST": 9 * _HOUR, "KST": 9 * _HOUR, "HKT": 8 * _HOUR, "SGT": 8 * _HOUR,
    "AEST": 10 * _HOUR, "AEDT": 11 * _HOUR, "NZST": 12 * _HOUR, "NZDT": 13 * _HOUR,
}  # fmt: skip


def _zone(name: str | None, offset: int | None) -> int | None:
    """dateutil's ``tzinfos``: the offset in seconds of a zone written as ``name`` and/or
    ``offset``; ``None`` (no zone) for a name read in more than one way; ``ValueError`` for an
    offset no clock has (a day or more)."""
    if name and name.upper() in _ZONES:
        return _ZONES[name.upper()]
    if offset is not None and abs(offset) >= 24 * _HOUR:
        raise ValueError(f"UTC offset of {offset} s")
    return offset


def _signed_offset(match: re.Match[str]) -> str:
    sign = "-" if match[1] in "-\u2212" else "+"
    return f"{sign}{int(match[2]):02d}:{match[3] or '00'}"


def _has_valid_offset(value: datetime) -> bool:
    """Whether ``value``'s offset, if any, is one a clock can have (less than a day: Python
    refuses others when the time is converted, dateutil makes them)."""
    try:
        value.utcoffset()
    except ValueError:
        return False
    return True


def parse_datetime(value: str | None, *, dayfirst: bool = False) -> datetime | None:
    """A datetime from an ISO 8601 (extended or basic), RFC 2822 or other common date string.

    Numeric dates with dots (15.08.2023) are read day first everywhere; with ``dayfirst``,
    slashed ones (05/10/2022) too, as outside the US. The result keeps the offset the string
    gives (it is naive when the string has none, or names a zone read in more than one way):
    ``GMT+3`` is three hours ahead of UTC, as pages mean it (not POSIX's three behind), an
    offset of a day or more is no date;
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
        parsed = dateutil_parser.isoparse(value)
    except (ValueError, OverflowError):
        pass
    else:
        return parsed if _has_valid_offset(parsed) else None
    value = _NAMED_OFFSET.sub(_signed_offset, value)
    # Dotted dates (15.08.2023) are day-first wherever they are used.
    # A string that starts with the year is year-month-day whatever the country.
    dayfirst = (dayfirst and not _YEAR_FIRST.match(value)) or bool(_DOTTED_DATE.search(value))
    try:
        with warnings.catch_warnings():
            # An unknown zone name ("EST5EDT-ish") leaves the result naive, taken as UTC later.
            warnings.simplefilter("ignore", dateutil_parser.UnknownTimezoneWarning)
            first = dateutil_parser.parse(
                value, dayfirst=dayfirst, default=_DEFAULT_A, tzinfos=_zone
            )
            second = dateutil_parser.parse(
                value, dayfirst=dayfirst, default=_DEFAULT_B, tzinfos=_zone
            )
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        return None
    # A string without a day, month or year gets it from the default: not a date.
    return first if first.date() == second.date() and _has_valid_offset(first) else None


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
    """``value`` in UTC; a naive value is taken to be UTC already; ``None`` for a value whose
    offset no clock has (a day or more, which dateutil makes)."""
    if value is None or not _has_valid_offset(value):
        return None
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
