"""Dedupe stage: drop an article whose URL, canonical URL or text the dataset already holds.

Checks the persistent state of earlier crawls into the same ``OUTPUT_DIR`` and the articles
this crawl accepted but has not committed yet. The state learns a row's keys only once the
data file holding it is committed (the ``articles_committed`` signal), so an article whose
file was lost in a crash is fetched and stored again by the next crawl.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from crawler.state import CrawlState
from pipelines.dataset import articles_dir, output_dir_setting, state_dir
from pipelines.signals import articles_committed

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class DuplicateArticle(DropItem):
    """The article's URL, canonical URL or text is already in the dataset (or in this crawl)."""


class DedupePipeline:
    """Drops exact duplicates, within a crawl and across crawls into one ``OUTPUT_DIR``.

    Settings: ``DEDUPE_ENABLED`` (``True``); uses ``OUTPUT_DIR`` for its state.
    """

    def __init__(self, stats: StatsCollector, *, output_dir: Path) -> None:
        self.stats = stats
        self.output_dir = output_dir
        self.state: CrawlState | None = None
        # Keys of accepted articles whose data file is not committed yet.
        self.pending_urls: set[str] = set()
        self.pending_hashes: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("DEDUPE_ENABLED", True):
            raise NotConfigured("DEDUPE_ENABLED is off")
        output_dir = output_dir_setting(settings)
        assert crawler.stats is not None
        pipeline = cls(crawler.stats, output_dir=output_dir)
        crawler.signals.connect(pipeline.on_articles_committed, signal=articles_committed)
        # Closed after every pipeline has flushed (close_spider methods run concurrently).
        crawler.signals.connect(pipeline.close_state, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.state = CrawlState.open(state_dir(self.output_dir))
        recovered = self.state.sync(articles_dir(self.output_dir))
        if recovered:
            self.stats.inc_value("news/dedupe/files_recovered", recovered)
            logger.warning("Recorded %d data files the state did not know yet", recovered)

    def close_state(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None

    def duplicate_of(
        self,
        url: str,
        canonical_url: str | None,
        content_hash: str,
        *,
        new_version: bool = False,
    ) -> str | None:
        """What the article duplicates (``"url"`` or ``"content"``), or ``None``.

        A ``new_version`` (a stored page fetched again because it changed) may share its URL
        with a stored row, not its text.
        """
        assert self.state is not None, "open_spider() was not called"
        for key in dict.fromkeys(filter(None, (url, canonical_url))):
            if key in self.pending_urls or (not new_version and self.state.has_url(key)):
                return "url"
        if content_hash in self.pending_hashes or self.state.has_content(content_hash):
            return "content"
        return None

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url, canonical = adapter["url"], adapter.get("canonical_url")
        content_hash = adapter["content_hash"]
        kind = self.duplicate_of(
            url, canonical, content_hash, new_version=bool(adapter.get("refetch"))
        )
        if kind is not None:
            self.stats.inc_value(f"news/dedupe/duplicate/{kind}")
            raise DuplicateArticle(f"DuplicateArticle: same {kind} already stored <{url}>")
        self.pending_urls.update(filter(None, (url, canonical)))
        self.pending_hashes.add(content_hash)
        self.stats.inc_value("news/dedupe/unique")
        return item

    def on_articles_committed(self, file: str, keys: list[tuple[Any, ...]]) -> None:
        if self.state is None:
            return
        self.state.record_file(file, keys)
        for url, canonical, content_hash, *_ in keys:
            self.pending_urls.discard(url)
            if canonical:
                self.pending_urls.discard(canonical)
            self.pending_hashes.discard(content_hash)
