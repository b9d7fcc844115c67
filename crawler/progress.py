"""Progress a person can follow: one log line per ``PROGRESS_INTERVAL`` with what the crawl has
done so far, and on a terminal a live display of the same figures.

The line (INFO, logger ``crawler.progress``)::

    progress: discovered 120, queued 14, fetched 98 (45/min), stored 80, dropped 12, errors 3;
    rows committed 64

(one line) counts article pages discovered (each URL once: the source accounting's count, ``-``
when ``SOURCE_HISTORY_ENABLED`` is off), requests waiting in the scheduler, article pages
fetched (``news/fetch/pages``, the run summary's "fetched") and how many a minute over the last
interval, items that passed every pipeline (``item_scraped_count``), items dropped
(``item_dropped_count``), requests that failed for good (``news/fetch/error/*`` and
``news/fetch/http_error/*``), and rows in the data files committed to the dataset so far
(``news/parquet/rows_written``). It replaces Scrapy's own "Crawled N pages" line (the add-on
sets ``LOGSTATS_INTERVAL`` to 0 while this extension is on).

The live display (``PROGRESS_DISPLAY``: ``auto`` shows it when stderr is a terminal) is drawn
by :mod:`crawler.live_progress`, with rich, imported only then: a crawl under cron or Scrapyd
never loads it. The log lines go on being written, above the display.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sized
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from crawler.source_accounting import SourceAccounting
from pipelines.setting import choice, duration_setting, flag
from pipelines.stats import (
    FETCH_ERROR,
    FETCH_HTTP_ERROR,
    FETCH_PAGES,
    ITEM_DROPPED,
    ITEM_SCRAPED,
    PARQUET_ROWS_WRITTEN,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

    from crawler.live_progress import LiveProgress

logger = logging.getLogger(__name__)

PROGRESS_ENABLED = flag(
    "PROGRESS_ENABLED",
    True,
    "log a progress line every `PROGRESS_INTERVAL` (and show the live display on a terminal); "
    "it replaces Scrapy's `Crawled N pages` line (docs/operations.md)",
)
# 30 s: a person watching the log learns within half a minute whether the crawl moves, the
# rate is still taken over dozens of pages at the project's politeness, and a day-long crawl
# logs 2,880 lines, a small share of its log.
PROGRESS_INTERVAL = duration_setting(
    "PROGRESS_INTERVAL",
    timedelta(seconds=30),
    "time between two progress lines",
    positive=True,
)
PROGRESS_DISPLAY = choice(
    "PROGRESS_DISPLAY",
    "auto",
    ("auto", "live", "lines"),
    "`auto`: the live display when stderr is a terminal, the log lines alone otherwise (under "
    "cron, Scrapyd, a pipe); `live`: the display even where no terminal is detected; `lines`: "
    "never the display",
)
SETTINGS = (PROGRESS_ENABLED, PROGRESS_INTERVAL, PROGRESS_DISPLAY)

REFRESH_SECONDS = 1.0
"""Time between two updates of the live display: the elapsed time is shown in seconds, and
each update asks the scheduler for its length (a Redis call in Redis mode)."""
FETCH_ERRORS = (FETCH_ERROR.prefix, FETCH_HTTP_ERROR.prefix)
"""The stats of the requests that failed for good, by reason (the spider counts them)."""
_DUMB_TERMINALS = ("dumb", "unknown")
"""``TERM`` values of terminals that cannot move the cursor (rich draws nothing live there)."""


@dataclass(frozen=True, kw_only=True)
class Progress:
    """What the crawl has done so far."""

    elapsed: float
    """Seconds since the spider opened."""
    discovered: int | None
    """Article pages discovered, each URL once (``None``: not counted, the source accounting
    is off)."""
    queued: int | None
    """Requests waiting in the scheduler (``None``: the scheduler does not say)."""
    fetched: int
    """Article pages fetched."""
    stored: int
    """Items that passed every pipeline."""
    dropped: int
    """Items dropped by a pipeline."""
    errors: int
    """Requests that failed for good."""
    committed: int
    """Rows in the data files committed to the dataset."""


def fetch_errors(stats: Mapping[str, Any]) -> int:
    """Requests that failed for good, whatever the reason."""
    return sum(int(value) for key, value in stats.items() if key.startswith(FETCH_ERRORS))


def progress_of(
    stats: Mapping[str, Any], *, elapsed: float, discovered: int | None, queued: int | None
) -> Progress:
    """The progress the crawl's stats (and the figures no stat holds) say."""
    return Progress(
        elapsed=elapsed,
        discovered=discovered,
        queued=queued,
        fetched=int(stats.get(FETCH_PAGES.name, 0)),
        stored=int(stats.get(ITEM_SCRAPED.name, 0)),
        dropped=int(stats.get(ITEM_DROPPED.name, 0)),
        errors=fetch_errors(stats),
        committed=int(stats.get(PARQUET_ROWS_WRITTEN.name, 0)),
    )


def rate_per_minute(before: Progress, now: Progress) -> float:
    """Article pages fetched per minute between two progresses (0 when no time passed)."""
    seconds = now.elapsed - before.elapsed
    return (now.fetched - before.fetched) * 60 / seconds if seconds > 0 else 0.0


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def rate_text(rate: float | None) -> str:
    """``45/min``; one decimal under 10 (``0.5/min``); ``-/min`` when not known yet."""
    if rate is None:
        return "-/min"
    return f"{rate:.1f}/min" if round(rate, 1) < 10 else f"{rate:.0f}/min"


def elapsed_text(seconds: float) -> str:
    """``0:01:23``."""
    return str(timedelta(seconds=int(seconds)))


def figures(progress: Progress, rate: float | None) -> list[tuple[str, str]]:
    """The figures shown, named, as the line and the live display write them."""
    return [
        ("discovered", _count(progress.discovered)),
        ("queued", _count(progress.queued)),
        ("fetched", str(progress.fetched)),
        ("rate", rate_text(rate)),
        ("stored", str(progress.stored)),
        ("dropped", str(progress.dropped)),
        ("errors", str(progress.errors)),
        ("rows committed", str(progress.committed)),
    ]


def progress_line(progress: Progress, rate: float | None) -> str:
    """The progress line: ``progress: discovered 120, queued 14, fetched 98 (45/min), stored
    80, dropped 12, errors 3; rows committed 64``."""
    shown = dict(figures(progress, rate))
    return (
        f"progress: discovered {shown['discovered']}, queued {shown['queued']}, "
        f"fetched {shown['fetched']} ({shown['rate']}), stored {shown['stored']}, "
        f"dropped {shown['dropped']}, errors {shown['errors']}; "
        f"rows committed {shown['rows committed']}"
    )


def shows_live(display: str, stream: Any, environ: Mapping[str, str]) -> bool:
    """Whether ``PROGRESS_DISPLAY`` asks for the live display on ``stream`` (stderr)."""
    if display != "auto":
        return display == "live"
    isatty = getattr(stream, "isatty", None)
    terminal = bool(isatty is not None and isatty())
    return terminal and environ.get("TERM", "").lower() not in _DUMB_TERMINALS


class CrawlProgress:
    """The extension: the progress line every interval, the live display on a terminal."""

    def __init__(self, crawler: Crawler, interval: float, *, live: bool) -> None:
        self.crawler = crawler
        self.interval = interval
        """Seconds between two progress lines."""
        self.live = live
        """Whether the live display is shown."""
        self.accounting: SourceAccounting | None = None
        """The source accounting, which counts the pages discovered (found when the spider
        opens; ``None`` when it is off)."""
        self.started = 0.0
        self.last: Progress | None = None
        """The progress at the last line (at the start before the first)."""
        self.rate: float | None = None
        """Article pages fetched a minute over the last interval (``None`` before the first
        line)."""
        self.display: LiveProgress | None = None
        self._tasks: list[AsyncioLoopingCall | LoopingCall] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not PROGRESS_ENABLED.read(settings):
            raise NotConfigured("PROGRESS_ENABLED is off")
        interval = PROGRESS_INTERVAL.read(settings).total_seconds()
        live = shows_live(PROGRESS_DISPLAY.read(settings), sys.stderr, os.environ)
        extension = cls(crawler, interval, live=live)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def progress(self) -> Progress:
        """The crawl's progress now."""
        assert self.crawler.stats is not None
        scheduler = self.crawler.engine.scheduler
        return progress_of(
            self.crawler.stats.get_stats(),
            elapsed=time.monotonic() - self.started,
            discovered=self.accounting.discovered if self.accounting is not None else None,
            queued=len(scheduler) if isinstance(scheduler, Sized) else None,
        )

    def spider_opened(self, spider: Spider) -> None:
        self.accounting = self.crawler.get_extension(SourceAccounting)
        self.started = time.monotonic()
        self.last = self.progress()
        self._repeat(self.log_progress, self.interval)
        if self.live:
            from crawler.live_progress import LiveProgress  # noqa: PLC0415 (rich only here)

            self.display = LiveProgress(force_terminal=True)
            self.display.start(*self._figures())
            self._repeat(self.refresh, REFRESH_SECONDS)

    def _repeat(self, call: Any, seconds: float) -> None:
        task = create_looping_call(call)
        task.start(seconds, now=False)
        self._tasks.append(task)

    def _figures(self) -> tuple[str, list[tuple[str, str]]]:
        now = self.progress()
        return elapsed_text(now.elapsed), figures(now, self.rate)

    def log_progress(self) -> None:
        now = self.progress()
        if self.last is not None:
            self.rate = rate_per_minute(self.last, now)
        self.last = now
        logger.info("%s", progress_line(now, self.rate))

    def refresh(self) -> None:
        if self.display is not None:
            self.display.show(*self._figures())

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the lines and the live display (the terminal is left as it was); again is
        harmless. Also called by ``scrapy crawl`` once the crawl is over, before it prints the
        run summary: a forced shutdown (a second Ctrl-C) closes no spider."""
        for task in self._tasks:
            if task.running:
                task.stop()
        self._tasks.clear()
        if self.display is not None:
            self.display.stop()
            self.display = None
