"""Gives the memory the crawl process has freed back to the system every
``MEMORY_TRIM_INTERVAL`` (:func:`extraction.memory.give_back`): pages parsed for links, rows
converted and written, results of the workers leave freed memory scattered in the C library's
heap, which otherwise stays counted against a container's memory limit (about 25 MB of the
crawl process's ~270 MB at 2,000 pages, ``bench/RESULTS.md``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from extraction.memory import give_back
from pipelines.setting import duration_setting, flag

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

MEMORY_TRIM_ENABLED = flag(
    "MEMORY_TRIM_ENABLED",
    True,
    "give the memory the crawl process has freed back to the system every "
    "`MEMORY_TRIM_INTERVAL` (glibc only; a few milliseconds each time)",
)
MEMORY_TRIM_INTERVAL = duration_setting(
    "MEMORY_TRIM_INTERVAL",
    timedelta(seconds=10),
    "time between two trims of the crawl process's free memory",
    positive=True,
)
SETTINGS = (MEMORY_TRIM_ENABLED, MEMORY_TRIM_INTERVAL)


class MemoryTrim:
    """Calls :func:`~extraction.memory.give_back` every ``interval`` seconds while the spider
    runs, and once when it closes (the run's report and history are written after)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.trims = 0
        self._task: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not MEMORY_TRIM_ENABLED.read(settings):
            raise NotConfigured("MEMORY_TRIM_ENABLED is off")
        extension = cls(MEMORY_TRIM_INTERVAL.read(settings).total_seconds())
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def trim(self) -> None:
        if give_back():
            self.trims += 1

    def spider_opened(self) -> None:
        self._task = create_looping_call(self.trim)
        self._task.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self._task is not None and self._task.running:
            self._task.stop()
        self.trim()
