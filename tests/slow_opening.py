"""An extension that keeps a crawl opening for a while, for the tests of a stop asked then.

Its ``spider_opened`` handler (awaited by Scrapy while the spider opens, before the engine
runs) waits until the extraction workers' fork server has started, touches the file named by
``SLOW_OPENING_MARK`` (the test's cue), then waits ``SLOW_OPENING_SECONDS`` more without
blocking the reactor, so that a signal sent on the cue is handled while the crawl still opens.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

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


class SlowOpening:
    def __init__(self, mark: Path, seconds: float) -> None:
        self.mark = mark
        self.seconds = seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        extension = cls(
            Path(settings["SLOW_OPENING_MARK"]), settings.getfloat("SLOW_OPENING_SECONDS")
        )
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        return extension

    async def spider_opened(self) -> None:
        deadline = time.monotonic() + FORK_SERVER_WAIT
        while not fork_server_started() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        self.mark.touch()
        await asyncio.sleep(self.seconds)
