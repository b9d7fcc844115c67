"""This machine's clock checked against the servers' answers (their ``Date`` header, plus
their ``Age`` for a cache's answer): a clock set years behind made every publication time of
a first crawl read as lying ahead of the fetch, and the dataset stored them all as null with
no warning; a clock set ahead stamps every row's ``fetched_at`` and the crawl state wrong.

One warning a crawl for each way, naming the server whose answer showed it (a server with a
wrong clock is then told from a machine's), and ``news/fetch/clock_behind`` or
``news/fetch/clock_ahead`` counts the answers. Answers from Scrapy's HTTP cache are not looked
at: their ``Date`` is that of the first fetch."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipelines.setting import flag
from pipelines.stats import FETCH_CLOCK_AHEAD, FETCH_CLOCK_BEHIND

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

CLOCK_CHECK_ENABLED = flag(
    "CLOCK_CHECK_ENABLED",
    True,
    "compare this machine's clock with the `Date` of the servers' answers, and warn once a "
    "crawl when it is more than an hour behind or ahead of them",
)
SETTINGS = (CLOCK_CHECK_ENABLED,)

SKEW = timedelta(hours=1)
"""How far a server's time may differ from this machine's before the clock is said wrong:
servers' clocks agree within seconds, and an hour leaves a server's own slip unwarned."""


def server_time(date: bytes | None, age: bytes | None) -> datetime | None:
    """The time a server answered at, as its ``Date`` header (and ``Age``, the seconds a
    cache kept the answer) says it; ``None`` without a readable ``Date``."""
    if not date:
        return None
    try:
        answered = parsedate_to_datetime(date.decode("latin-1"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if answered.tzinfo is None:  # "-0000": UTC, as RFC 9110 dates are
        answered = answered.replace(tzinfo=UTC)
    try:
        seconds = int(age or b"0")
    except ValueError:
        seconds = 0
    try:
        return answered + timedelta(seconds=min(max(seconds, 0), 10**9))
    except OverflowError:  # a date at the end of the calendar: no time a server answered at
        return None


def skew_text(skew: timedelta) -> str:
    """A duration in its two largest units, as a reader takes it in: "2 years 14 days",
    "3 days 4 hours", "1 hour 5 minutes"."""
    years, days = divmod(abs(skew).days, 365)
    hours, minutes = divmod(abs(skew).seconds // 60, 60)
    units = [(years, "year"), (days, "day"), (hours, "hour"), (minutes, "minute")]
    shown = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units if n][:2]
    return " ".join(shown) or "0 minutes"


class ClockCheck:
    """Warns once a crawl when a server's answer shows this machine's clock more than
    :data:`SKEW` behind or ahead of it, and counts such answers."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not CLOCK_CHECK_ENABLED.read(crawler.settings):
            raise NotConfigured("CLOCK_CHECK_ENABLED is off")
        assert crawler.stats is not None
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def response_received(self, response: Response) -> None:
        if "cached" in response.flags:
            return
        date = response.headers.get(b"Date")
        answered = server_time(date, response.headers.get(b"Age"))
        if date is None or answered is None:
            return
        skew = answered - datetime.now(UTC)
        if skew > SKEW:
            self._clock_wrong(FETCH_CLOCK_BEHIND.name, "behind", skew, response.url, date)
        elif skew < -SKEW:
            self._clock_wrong(FETCH_CLOCK_AHEAD.name, "ahead of", skew, response.url, date)

    def _clock_wrong(self, stat: str, way: str, skew: timedelta, url: str, date: bytes) -> None:
        self.stats.inc_value(stat)
        if way in self.warned:
            return
        self.warned.add(way)
        consequence = (
            "publication times more than a day after this clock are ignored as implausible"
            if way == "behind"
            else "fetched_at and the crawl state's times are stamped ahead"
        )
        logger.warning(
            "This machine's clock is %s %s the time %s answered at (Date: %s): %s. Set the "
            "clock (NTP); %s counts the answers that show it",
            skew_text(skew),
            way,
            url,
            date.decode("latin-1"),
            consequence,
            stat,
        )
