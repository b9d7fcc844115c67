"""Scrapy's core stats, for a crawl that could not open too.

When a stage cannot open (a full disk as the crawl state is made), Scrapy closes the spider it
never opened, and its ``CoreStats`` asserted the start time it sets as the spider opens: an
``AssertionError`` traceback beside the one line that says why the crawl could not start
(``crawler.commands.crawl.start_failure``). Such a crawl has no elapsed time to count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.corestats import CoreStats as ScrapyCoreStats

if TYPE_CHECKING:
    from scrapy import Spider


class CoreStats(ScrapyCoreStats):
    """``EXTENSIONS``: Scrapy's CoreStats, that counts nothing at the close of a crawl that
    never opened."""

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.start_time is None:
            return
        super().spider_closed(spider, reason)
