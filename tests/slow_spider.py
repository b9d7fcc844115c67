"""Components that hold a crawl's spider opening or closing for a while, for the tests of a
stop asked then (tests/test_shutdown.py).

Each touches the file named by ``SLOW_SPIDER_MARK`` (the test's cue), then waits
``SLOW_SPIDER_SECONDS`` without blocking the reactor, so that a signal sent on the cue is
handled while the spider still opens or closes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

FORK_SERVER_WAIT = 10.0
"""Seconds to wait at most for the fork server to appear."""


def fork_server_started() -> bool:
    """Whether a child of this process (of any of its threads) runs multiprocessing's fork
    server."""
    for children in Path("/proc/self/task").glob("*/children"):
        for pid in children.read_text().split():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"forkserver" in command:
                return True
    return False


class _Slow:
    def __init__(self, mark: Path, seconds: float) -> None:
        self.mark = mark
        self.seconds = seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        return cls(Path(settings["SLOW_SPIDER_MARK"]), settings.getfloat("SLOW_SPIDER_SECONDS"))

    async def _hold(self) -> None:
        self.mark.touch()
        await asyncio.sleep(self.seconds)


class SlowOpening(_Slow):
    """An extension whose ``spider_opened`` handler (awaited while the spider opens, before the
    engine runs) waits until the extraction workers' fork server has started (it then imports
    the extraction library for a while), then holds the opening."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = super().from_crawler(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    async def spider_opened(self) -> None:
        deadline = time.monotonic() + FORK_SERVER_WAIT
        while not fork_server_started() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await self._hold()


class SlowClosing(_Slow):
    """An item pipeline that holds the closing (the pipelines close together: the others write
    what they hold meanwhile)."""

    def process_item(self, item: Any) -> Any:
        return item

    async def close_spider(self) -> None:
        await self._hold()


class FailingOpen:
    """An item pipeline that cannot open (as a stage whose store is damaged): placed between
    the extraction stage (whose workers then run) and the Parquet stage (never opened)."""

    def open_spider(self) -> None:
        raise RuntimeError("this stage cannot open")

    def process_item(self, item: Any) -> Any:
        return item
