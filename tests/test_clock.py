"""crawler.clock: this machine's clock checked against the servers' ``Date`` headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING

import pytest
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.clock import ClockCheck, server_time, skew_text
from pipelines.stats import FETCH_CLOCK_AHEAD, FETCH_CLOCK_BEHIND

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler


def answer(url: str, at: datetime | None, **headers: str) -> HtmlResponse:
    if at is not None:
        headers["Date"] = format_datetime(at.astimezone(UTC), usegmt=True)
    return HtmlResponse(url, body=b"<html></html>", headers=headers, request=Request(url))


def receive(crawler: Crawler, response: HtmlResponse) -> None:
    assert response.request is not None
    crawler.signals.send_catch_log(
        signals.response_received, response=response, request=response.request, spider=None
    )


@pytest.fixture
def crawler() -> Iterator[Crawler]:
    crawler = get_crawler(settings_dict={"EXTENSIONS": {}})
    extension = ClockCheck.from_crawler(crawler)  # signals hold their receivers weakly
    yield crawler
    del extension


def test_a_clock_years_behind_the_servers_is_warned_of_once(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    ahead = datetime.now(UTC) + timedelta(days=2 * 365 + 14, hours=3)
    with caplog.at_level(logging.WARNING, logger="crawler.clock"):
        receive(crawler, answer("https://news.test/a", ahead))
        receive(crawler, answer("https://news.test/b", ahead))
    assert crawler.stats is not None
    assert crawler.stats.get_value(FETCH_CLOCK_BEHIND.name) == 2
    assert crawler.stats.get_value(FETCH_CLOCK_AHEAD.name) is None
    (line,) = caplog.messages  # before: no word, and every publication time stored as null
    assert line.startswith("This machine's clock is 2 years 14 days behind the time ")
    assert "https://news.test/a" in line
    assert "publication times more than a day after this clock are ignored" in line


def test_a_clock_ahead_is_warned_of_and_a_cache_answer_is_not_judged(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    behind = datetime.now(UTC) - timedelta(hours=5)
    with caplog.at_level(logging.WARNING, logger="crawler.clock"):
        cached = answer("https://news.test/old", behind)
        cached.flags.append("cached")  # its Date is the first fetch's
        receive(crawler, cached)
        # kept 5 hours by a cache on the way: its Age says so, the server's time is now
        receive(crawler, answer("https://news.test/kept", behind, Age=str(5 * 3600)))
        receive(crawler, answer("https://news.test/none", None))
        receive(crawler, answer("https://news.test/bad", None, Date="yesterday"))
        assert caplog.messages == []
        receive(crawler, answer("https://news.test/a", behind))
    assert crawler.stats is not None
    assert crawler.stats.get_value(FETCH_CLOCK_AHEAD.name) == 1
    (line,) = caplog.messages
    assert "5 hours ahead of the time https://news.test/a answered at" in line


def test_a_server_a_few_minutes_off_is_not_warned_of(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="crawler.clock"):
        receive(crawler, answer("https://news.test/a", datetime.now(UTC) + timedelta(minutes=50)))
        receive(crawler, answer("https://news.test/b", datetime.now(UTC) - timedelta(minutes=50)))
    assert caplog.messages == []


def test_server_time_reads_date_and_age() -> None:
    assert server_time(b"Sun, 06 Dec 2026 08:00:00 GMT", b"60") == datetime(
        2026, 12, 6, 8, 1, tzinfo=UTC
    )
    assert server_time(b"Sun, 06 Dec 2026 08:00:00 -0000", b"x") == datetime(
        2026, 12, 6, 8, tzinfo=UTC
    )
    for unreadable in (None, b"", b"soon", b"Sun, 99 Dec 2026 08:00:00 GMT"):
        assert server_time(unreadable, None) is None
    # a hostile answer at the calendar's end: no OverflowError (an error line, exit 1)
    assert server_time(b"Fri, 31 Dec 9999 23:59:59 GMT", b"86400") is None


def test_skew_text_gives_the_two_largest_units() -> None:
    assert skew_text(timedelta(days=365 * 2 + 14, hours=3)) == "2 years 14 days"
    assert skew_text(-timedelta(hours=1, minutes=5)) == "1 hour 5 minutes"
    assert skew_text(timedelta(days=1)) == "1 day"
    assert skew_text(timedelta(seconds=20)) == "0 minutes"


def test_the_check_is_on_in_the_project_and_can_be_turned_off() -> None:
    assert project_settings.EXTENSIONS.get("crawler.clock.ClockCheck") is not None
    with pytest.raises(NotConfigured):
        ClockCheck.from_crawler(get_crawler(settings_dict={"CLOCK_CHECK_ENABLED": False}))
