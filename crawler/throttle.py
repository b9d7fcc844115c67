"""Scrapy's AutoThrottle, under a source's own ``download_delay``.

AutoThrottle sets a site's delay after every response from the latency it measured, between
``DOWNLOAD_DELAY`` and ``AUTOTHROTTLE_MAX_DELAY``: a source's ``download_delay`` (its download
slot's ``delay``, :meth:`crawler.spiders.news.NewsSpider._apply_politeness`) lasted until the
site's first answer, then went the way of every other site's (a source asking for 3 s was asked
every 1.2 to 1.7 s). Here a slot's delay never goes below its source's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.extensions.throttle import AutoThrottle as ScrapyAutoThrottle

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response


class AutoThrottle(ScrapyAutoThrottle):
    """``EXTENSIONS``: Scrapy's AutoThrottle, that keeps a slot's configured delay as a floor."""

    def _response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        super()._response_downloaded(response, request, spider)
        key, slot = self._get_slot(request, spider)
        if key is None or slot is None:
            return
        engine = self.crawler.engine
        assert engine is not None
        configured: Any = engine.downloader.per_slot_settings.get(key, {}).get("delay")
        if configured is not None and slot.delay < float(configured):
            slot.delay = float(configured)
