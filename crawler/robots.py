"""robots.txt compliance for every request, including those that arrive while robots.txt is
still downloading."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxt
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy.http import Request
    from scrapy.robotstxt import RobotParser


class RobotsTxtMiddleware(_ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware with concurrent waiters fixed.

    In Scrapy 2.19 every request that arrives while a site's robots.txt is downloading awaits
    the same Deferred; the first waiter consumes its result and every later one receives
    ``None``, which the middleware reads as "allowed", so those requests ignore robots.txt
    (the await replaced a callback that passed the result on, in scrapy/scrapy#6802). Here a
    waiter that got ``None`` looks the site's parser up again: by then it is known.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        parser = await super().robot_parser(request)
        if parser is None:
            known = self._parsers.get(urlparse_cached(request).netloc)
            if not isinstance(known, Deferred):
                return known
        return parser
