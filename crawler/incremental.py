"""Incremental crawls: article requests for pages the dataset already holds are never sent.

A spider middleware, between the spider and the scheduler: every article request (marked
``meta["article"]``) is looked up in the crawl state of ``OUTPUT_DIR`` by its normalized URL.
A stored article is not requested again, unless its listing (sitemap ``lastmod``, feed date)
says it changed after the stored version was fetched: then it is fetched again
(``cb_kwargs["refetch"] = True``) and stored as a new version.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from extraction.dates import to_utc
from extraction.urls import normalize_url
from pipelines.normalize import NORMALIZE_TRACKING_PARAMS
from pipelines.setting import flag
from pipelines.state import state_stores

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from dataset.state.base import CrawlStateStore, StateStores

logger = logging.getLogger(__name__)

ARTICLE_META = "article"
"""``Request.meta`` key that marks a request for an article page."""

INCREMENTAL_ENABLED = flag(
    "INCREMENTAL_ENABLED",
    True,
    "article requests for pages already in the dataset are not sent (a page whose sitemap or "
    "feed date is newer than the stored copy is fetched again, as a new version)",
)
SETTINGS = (INCREMENTAL_ENABLED,)


class IncrementalMiddleware(BaseSpiderMiddleware):
    """Drops article requests for stored pages; lets changed ones through as refetches (off,
    every listed article is fetched again, and the dedupe stage still keeps the dataset free of
    duplicates)."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        stores: StateStores,
        tracking_params: tuple[str, ...],
    ):
        super().__init__(crawler)
        self.stores = stores
        self.tracking_params = tracking_params
        self.state: CrawlStateStore | None = None
        self.skipped: set[int] = set()
        """A 64-bit digest of each stored article's URL skipped in this crawl: a page listed
        by a feed and a sitemap is one article skipped twice (8 bytes and a set slot each)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not INCREMENTAL_ENABLED.read(settings):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        tracking_params = NORMALIZE_TRACKING_PARAMS.read(settings)
        middleware = cls(crawler, stores=state_stores(crawler), tracking_params=tracking_params)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        self.state = self.stores.crawl_state()

    def spider_closed(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if not request.meta.get(ARTICLE_META) or self.state is None:
            return request
        url = normalize_url(request.url, self.tracking_params)
        stats = self.crawler.stats
        assert stats is not None
        try:
            if not self.state.has_url(url):
                return request
            stored = self.state.stored_at(url)
        except self.stores.errors as exc:  # Redis mode, server gone: the dedupe stage decides
            stats.inc_value("news/incremental/state_unavailable")
            logger.debug("Cannot look %s up in the shared state: %s", request.url, exc)
            return request
        listed = to_utc(
            request.cb_kwargs.get("listed_modified_at")
            or request.cb_kwargs.get("listed_published_at")
        )
        if listed is not None and stored is not None and listed > stored:
            stats.inc_value("news/incremental/refetched")
            logger.info("Listed as changed since %s, fetching again: %s", stored, request.url)
            request.cb_kwargs["refetch"] = True
            return request
        stats.inc_value("news/incremental/known_skipped")
        digest = int.from_bytes(hashlib.blake2b(url.encode(), digest_size=8).digest(), "big")
        if digest not in self.skipped:
            self.skipped.add(digest)
            stats.inc_value("news/incremental/known_articles")
        return None

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        return item
