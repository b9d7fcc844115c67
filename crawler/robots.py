"""robots.txt compliance for every request, including those made while robots.txt downloads.

Scrapy's middleware, with two fixes:

* In Scrapy 2.19 every request that arrives while a site's robots.txt is downloading awaits
  the same Deferred; the first waiter consumes its result and every later one receives
  ``None``, which the middleware reads as "allowed", so those requests ignore robots.txt
  (the await replaced a callback that passed the result on, in scrapy/scrapy#6802). Here a
  waiter looks the site's parser up again once the download is over.
* A robots.txt that cannot be downloaded (refused, timed out, a redirect loop) is logged as one
  warning line, not as an error with a traceback (or not at all), and the site is crawled as
  if it had none (as Scrapy does); it is counted as ``news/robots/error/<reason>``.
* A robots.txt answered with a server error (5xx, or 429, after the retries) disallows the site
  for this run, as RFC 9309 (section 2.3.1.4) asks: Scrapy read the error page as the site's
  rules, and crawled everything (``news/robots/error/http_5xx``). The site's source counts it
  as a failed request of kind ``robots_http_5xx`` (its health line says that robots.txt
  answered it, so every page was held back), not as the spider's request for robots.txt
  failing with ``http_5xx`` beside pages forbidden by robots.txt.

And a robots.txt is downloaded once: a request for it (the spider reads a site's robots.txt
for its sitemaps) made before the middleware had the site's rules is answered with what the
middleware downloaded for them; both downloaded it, every run, from every site with a home page.

And two limits for hostile robots.txt files:

* Only the first :data:`~crawler.sitemaps.ROBOTS_MAX_SIZE` (500 KiB) are downloaded and read,
  as Google does (RFC 9309 asks crawlers to read at least that much): the download stops
  there (``news/robots/truncated``). A robots.txt announced larger than ``DOWNLOAD_MAXSIZE``
  is refused by Scrapy before any byte arrives, and counted as a download error
  (``too_large``).
* A robots.txt that is an HTML page (a soft 404) or binary data is reported
  (``news/robots/not_robots_txt``); like any robots.txt, only its lines that are rules count.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxt
from scrapy.exceptions import StopDownload
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.address_guard import GuardRefused
from crawler.fetch_errors import fetch_error_reason
from crawler.sitemaps import ROBOTS_MAX_SIZE
from dataset.health import ROBOTS_DOWN
from pipelines.signals import fetch_failed
from pipelines.stats import ROBOTS_ERROR, ROBOTS_HTTP_ERROR, ROBOTS_NOT_ROBOTS_TXT, ROBOTS_TRUNCATED

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

ROBOTS_META = "news_robots_txt"
"""``Request.meta`` key of the robots.txt requests of this middleware (the bytes received)."""
_UTF8_BOM = b"\xef\xbb\xbf"
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
"""The rules a robots.txt answered with a server error stands for."""


def not_robots_txt(body: bytes) -> str | None:
    """What a robots.txt body is instead, when it is not plain text: ``"HTML"`` (an error or
    home page served in its place) or ``"binary data"``; ``None`` for a plain-text body."""
    start = body[:1024].removeprefix(_UTF8_BOM).lstrip()
    if start.startswith(b"<"):
        return "HTML"
    if b"\x00" in start:
        return "binary data"
    return None


class RobotsTxtMiddleware(_ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware with concurrent waiters and download errors fixed, and
    limits for hostile robots.txt files."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        crawler.signals.connect(self._bytes_received, signal=signals.bytes_received)
        self._wanted: set[str] = set()
        """The sites whose robots.txt a request asks for while the middleware fetches it."""
        self._received: dict[str, Response] = {}
        """Their robots.txt as downloaded, until that request takes it."""

    async def process_request(  # type: ignore[override]
        self, request: Request, spider: Spider | None = None
    ) -> Response | None:
        """Scrapy's check; a request for the site's robots.txt itself made before its rules
        were known gets the response the middleware downloaded for them."""
        url = urlparse_cached(request)
        if url.path != "/robots.txt" or url.query or request.meta.get("dont_obey_robotstxt"):
            await super().process_request(request)
            return None
        if not isinstance(self._parsers.get(url.netloc, Deferred()), Deferred):
            return None  # the rules are known and their response gone: downloaded again
        self._wanted.add(url.netloc)
        await self.robot_parser(request)
        self._wanted.discard(url.netloc)
        received = self._received.pop(url.netloc, None)
        if received is None or received.request is None or received.request.url != request.url:
            return None  # its download failed, or another scheme: downloaded
        return received.replace(request=request)

    def _bytes_received(self, data: bytes, request: Request) -> None:
        """Stop downloading a robots.txt after :data:`ROBOTS_MAX_SIZE` bytes (the response
        keeps what arrived)."""
        if ROBOTS_META not in request.meta:
            return
        received = request.meta[ROBOTS_META] + len(data)
        request.meta[ROBOTS_META] = received
        if received > ROBOTS_MAX_SIZE:
            raise StopDownload(fail=False)

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
        meta: dict[str, Any] = {"dont_obey_robotstxt": True, ROBOTS_META: 0}
        if (slot := request.meta.get("download_slot")) is not None:
            meta["download_slot"] = slot  # a source's site: fetched at the source's pace
        robots_request = Request(
            f"{scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta=meta,
            callback=NO_CALLBACK,
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(robots_request)
            await self._parse_robots(response, netloc, request)
        except Exception as exc:
            if not isinstance(exc, GuardRefused):  # the guard logs and counts its refusals
                reason, description = fetch_error_reason(exc)
                self._stats.inc_value(ROBOTS_ERROR.of(reason))
                logger.warning(
                    "robots.txt of %s could not be fetched (%s: %s); crawling it as if it had none",
                    netloc,
                    reason,
                    description,
                )
            self._robots_error(exc, netloc)
        self._stats.inc_value("robotstxt/request_count")

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if netloc in self._wanted:
            self._received[netloc] = response
        if response.status >= 500 or response.status == 429:
            self._stats.inc_value(ROBOTS_HTTP_ERROR.of(response.status))
            logger.warning(
                "robots.txt of %s answered %d: not crawling the site in this run (RFC 9309:"
                " a robots.txt that cannot be read for a server error disallows everything)",
                netloc,
                response.status,
            )
            # the source's run history says why its pages were held back, as this kind
            self.crawler.signals.send_catch_log(
                signal=fetch_failed,
                request=response.request or request,
                kind=f"{ROBOTS_DOWN}{response.status}",
                listing=None,
            )
            response = response.replace(body=DISALLOW_ALL)
        body = response.body
        if len(body) > ROBOTS_MAX_SIZE or "download_stopped" in response.flags:
            # a rule cut in the middle is not read
            body = body[:ROBOTS_MAX_SIZE]
            body = body[: max(body.rfind(b"\n"), body.rfind(b"\r")) + 1]
            self._stats.inc_value(ROBOTS_TRUNCATED.name)
            logger.warning(
                "robots.txt of %s is larger than %d KiB: only its first %d KiB are read",
                netloc,
                ROBOTS_MAX_SIZE // 1024,
                ROBOTS_MAX_SIZE // 1024,
            )
        kind = not_robots_txt(body) if 200 <= response.status < 300 else None
        if kind:
            self._stats.inc_value(ROBOTS_NOT_ROBOTS_TXT.name)
            logger.warning(
                "robots.txt of %s is not a robots.txt (%s): only its lines that are rules count",
                netloc,
                kind,
            )
        if body is not response.body:
            response = response.replace(body=body)
        await super()._parse_robots(response, netloc, request)
