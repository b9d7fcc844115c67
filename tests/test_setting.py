"""Tests for pipelines/setting.py: the kinds of setting, and the durations they read and show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from scrapy.settings import Settings

from crawler.addon import DECLARED
from pipelines.setting import (
    SettingError,
    duration_setting,
    format_duration,
    optional_duration,
    optional_integer,
    parse_duration,
)

# --- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 2D ", timedelta(days=2)),
        ("3600", timedelta(hours=1)),
        (86400, timedelta(days=1)),
        (0, timedelta(0)),
    ],
)
def test_parse_duration(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "d", "3 days", "1.5h", "-1", "-3d", -5, "3y", "h12", "1d 12h", "\u0663d", "\u00b2"],
)
def test_parse_duration_rejects(text: str | int) -> None:
    with pytest.raises(ValueError, match=r"not a duration|is negative"):
        parse_duration(text)


@pytest.mark.parametrize("value", [True, 1.5, None, ["3d"]])
def test_parse_duration_rejects_other_types(value: object) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)  # type: ignore[arg-type]


def test_parse_duration_too_long() -> None:
    with pytest.raises(ValueError, match="too long"):
        parse_duration("99999999999999999w")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(days=7), "7d"),
        (timedelta(days=1, hours=12), "1d12h"),
        (timedelta(days=2, seconds=61), "2d1m1s"),
        (timedelta(weeks=520), "3640d"),
    ],
)
def test_format_duration(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    "seconds", [0, 1, 59, 60, 61, 3599, 3600, 3661, 86399, 86400, 90061, 604800, 10**9]
)
def test_format_duration_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("value", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_format_duration_refuses_what_no_setting_holds(value: timedelta) -> None:
    with pytest.raises(ValueError, match="no whole, non-negative number of seconds"):
        format_duration(value)


def test_a_duration_settings_default_is_shown_from_its_value() -> None:
    # each had its default typed again for the docs (shown_default="`2d`"), which stayed when
    # the value changed
    setting = duration_setting("X_AFTER", timedelta(days=4, hours=6), "doc")
    assert setting.default_text() == "`4d6h`"
    durations = [s for s in DECLARED if isinstance(s.default, timedelta)]
    assert len(durations) >= 5
    for declared in durations:
        assert declared.shown_default is None, declared.name
        assert declared.default_text() == f"`{format_duration(declared.default)}`"


def test_duration_settings_read_durations() -> None:
    positive = duration_setting("X_EVERY", timedelta(seconds=30), "doc", positive=True)
    assert positive.read(Settings({"X_EVERY": "2m"})) == timedelta(minutes=2)
    assert positive.read(Settings({"X_EVERY": timedelta(hours=1)})) == timedelta(hours=1)
    with pytest.raises(SettingError, match=r"^X_EVERY='0': must be more than 0$"):
        positive.read(Settings({"X_EVERY": "0"}))
    optional = optional_duration("X_MAX_AGE", "doc", unset="empty (no limit)")
    assert optional.read(Settings()) is None
    assert optional.read(Settings({"X_MAX_AGE": ""})) is None
    assert optional.read(Settings({"X_MAX_AGE": "3d"})) == timedelta(days=3)
    assert optional.default_text() == "empty (no limit)"
    with pytest.raises(SettingError, match=r"^X_MAX_AGE='soon': 'soon' is not a duration"):
        optional.read(Settings({"X_MAX_AGE": "soon"}))


# --- the others ----------------------------------------------------------------------------


def test_an_optional_integer_without_limits_says_so_cleanly() -> None:
    assert optional_integer("X_LEVEL", "doc", unset="none").allowed == "an integer, or empty"
    limited = optional_integer("X_WORKERS", "doc", minimum=1, unset="none")
    assert limited.allowed == "an integer >= 1, or empty"
