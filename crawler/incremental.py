"""Incremental crawls: article requests for pages the dataset already holds are never sent.

A spider middleware, between the spider and the scheduler: every article request (marked
``meta["article"]``) is looked up in the crawl state of ``OUTPUT_DIR`` by its normalized URL.
A stored article is not requested again, unless its listing (sitemap ``lastmod``, feed date)
says it changed after the stored version was fetched: then it is fetched again
(``cb_kwargs["refetch"] = True``) and stored as a new version.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.redis_mode import WorkerRegistry, redis_url
from crawler.shared_state import RedisCrawlState
from crawler.state import CrawlState
from pipelines.dataset import state_dir_setting
from pipelines.dates import to_utc
from pipelines.normalize import DEFAULT_TRACKING_PARAMS, normalize_url

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

ARTICLE_META = "article"
"""``Request.meta`` key that marks a request for an article page."""


class IncrementalMiddleware(BaseSpiderMiddleware):
    """Drops article requests for stored pages; lets changed ones through as refetches.

    Settings: ``INCREMENTAL_ENABLED`` (``True``; off fetches every listed article again, the
    dedupe stage still keeps the dataset free of duplicates).
    """

    def __init__(
        self,
        crawler: Crawler,
        *,
        state_path: Path,
        tracking_params: tuple[str, ...],
        registry: WorkerRegistry | None = None,
    ):
        super().__init__(crawler)
        self.state_path = state_path
        self.tracking_params = tracking_params
        self.registry = registry
        """Redis mode: the state shared by every worker (``None``: embedded)."""
        self.state: CrawlState | RedisCrawlState | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("INCREMENTAL_ENABLED", True):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        params = settings.getlist("NORMALIZE_TRACKING_PARAMS", list(DEFAULT_TRACKING_PARAMS))
        middleware = cls(
            crawler,
            state_path=state_dir_setting(settings),
            tracking_params=tuple(params),
            registry=WorkerRegistry.for_crawler(crawler) if redis_url(settings) else None,
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        if self.registry is not None:
            self.state = RedisCrawlState(self.registry.client, self.registry.prefix)
        else:
            self.state = CrawlState.open(self.state_path)

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
        except redis.RedisError as exc:  # Redis mode, server gone: the dedupe stage decides
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
        return None

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        return item
