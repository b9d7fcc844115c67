"""robots.txt compliance for every request, including those made while robots.txt downloads.

Scrapy's middleware, with two fixes:

* In Scrapy 2.19 every request that arrives while a site's robots.txt is downloading awaits
  the same Deferred; the first waiter consumes its result and every later one receives
  ``None``, which the middleware reads as "allowed", so those requests ignore robots.txt
  (the await replaced a callback that passed the result on, in scrapy/scrapy#6802). Here a
  waiter looks the site's parser up again once the download is over.
* A robots.txt that cannot be downloaded (refused, timed out) is logged as one warning line,
  not as an error with a traceback, and the site is crawled as if it had none (as Scrapy
  does).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class RobotsTxtMiddleware(_ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware with concurrent waiters and download errors fixed."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            await self._fetch_robots(request, netloc)
        parser = self._parsers[netloc]
        if isinstance(parser, Deferred):
            await maybe_deferred_to_future(parser)
            parser = self._parsers[netloc]  # set before the Deferred fired
        return None if isinstance(parser, Deferred) else parser

    async def _fetch_robots(self, request: Request, netloc: str) -> None:
        self._parsers[netloc] = Deferred()
        scheme = urlparse_cached(request).scheme
        robots_request = Request(
            f"{scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(robots_request)
            await self._parse_robots(response, netloc, request)
        except Exception as exc:
            if not isinstance(exc, IgnoreRequest):
                logger.warning(
                    "robots.txt of %s could not be fetched (%s); crawling it as if it had none",
                    netloc,
                    exc,
                )
            self._robots_error(exc, netloc)
        self._stats.inc_value("robotstxt/request_count")
