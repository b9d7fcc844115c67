"""Site boilerplate stage: strips the lines that repeat across a site's pages (runs after the
extract stage), with the extraction library's learner
(:class:`extraction.site_boilerplate.SiteBoilerplate`); what it learns is kept in the crawl
state, so the next crawl strips it from the first page on."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from extraction import site_boilerplate
from extraction.site_boilerplate import SiteBoilerplate
from extraction.text import paragraphs_of, text_size
from extraction.urls import host_of
from pipelines.extract import EXTRACT_MIN_TEXT_CHARS, NotAnArticle
from pipelines.setting import flag, integer, number
from pipelines.state import state_stores
from pipelines.stats import (
    SITE_BOILERPLATE_DROPPED,
    SITE_BOILERPLATE_LINES_REMOVED,
    SITE_BOILERPLATE_PAGES_CLEANED,
    SITE_BOILERPLATE_SAVE_ERROR,
    SITE_BOILERPLATE_SITES_UNLOADED,
    SITE_BOILERPLATE_STATE_UNAVAILABLE,
)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from dataset.state.base import SiteBoilerplateStore, StateStores

logger = logging.getLogger(__name__)

SITE_BOILERPLATE_ENABLED = flag("SITE_BOILERPLATE_ENABLED", True, "the site boilerplate stage")
SITE_BOILERPLATE_MIN_PAGES = integer(
    "SITE_BOILERPLATE_MIN_PAGES",
    site_boilerplate.MIN_PAGES,
    "pages of a site seen before anything is stripped, and pages a line must occur on",
    minimum=2,
)
SITE_BOILERPLATE_MIN_SHARE = number(
    "SITE_BOILERPLATE_MIN_SHARE",
    site_boilerplate.MIN_SHARE,
    "share of a site's pages a line must occur on to be boilerplate",
    minimum=0.0,
    maximum=1.0,
    above=True,
)
SITE_BOILERPLATE_MAX_LINES = integer(
    "SITE_BOILERPLATE_MAX_LINES",
    site_boilerplate.MAX_LINES,
    "line counts kept per site (the rarest are forgotten first)",
    minimum=100,
)
SITE_BOILERPLATE_SAVE_EVERY = integer(
    "SITE_BOILERPLATE_SAVE_EVERY",
    500,
    "pages between two saves of the learned state (it is also saved at the end)",
    minimum=1,
)
SITE_BOILERPLATE_MAX_SITES = integer(
    "SITE_BOILERPLATE_MAX_SITES",
    1000,
    "sites whose tables stay in memory (12 bytes a line counted, at most "
    "`SITE_BOILERPLATE_MAX_LINES` lines a site: 60 MB at the defaults); past it the least "
    "recently seen half are saved and unloaded (loaded again when their site comes back)",
    minimum=1,
)
SETTINGS = (
    SITE_BOILERPLATE_ENABLED,
    SITE_BOILERPLATE_MIN_PAGES,
    SITE_BOILERPLATE_MIN_SHARE,
    SITE_BOILERPLATE_MAX_LINES,
    SITE_BOILERPLATE_SAVE_EVERY,
    SITE_BOILERPLATE_MAX_SITES,
)


class SiteBoilerplatePipeline:
    """Strips lines that repeat across a site's pages; drops a page left with too little."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        stores: StateStores,
        learner: SiteBoilerplate,
        save_every: int = SITE_BOILERPLATE_SAVE_EVERY.default,
        min_text_chars: int = EXTRACT_MIN_TEXT_CHARS.default,
        max_sites: int = SITE_BOILERPLATE_MAX_SITES.default,
    ) -> None:
        self.stats = stats
        self.stores = stores
        """The crawl state's backend: the learnt lines are kept in its store."""
        self.learner = learner
        self.save_every = save_every
        self.min_text_chars = min_text_chars
        self.max_sites = max_sites
        self.store: SiteBoilerplateStore | None = None
        self.pages = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not SITE_BOILERPLATE_ENABLED.read(settings):
            raise NotConfigured("SITE_BOILERPLATE_ENABLED is off")
        assert crawler.stats is not None
        learner = SiteBoilerplate(
            min_pages=SITE_BOILERPLATE_MIN_PAGES.read(settings),
            min_share=SITE_BOILERPLATE_MIN_SHARE.read(settings),
            max_lines=SITE_BOILERPLATE_MAX_LINES.read(settings),
        )
        options = {
            "save_every": SITE_BOILERPLATE_SAVE_EVERY.read(settings),
            "min_text_chars": EXTRACT_MIN_TEXT_CHARS.read(settings),
            "max_sites": SITE_BOILERPLATE_MAX_SITES.read(settings),
        }
        # the state's backend is opened once every setting was found valid
        pipeline = cls(crawler.stats, stores=state_stores(crawler), learner=learner, **options)
        crawler.signals.connect(pipeline.close_store, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.store = self.stores.site_boilerplate()

    def close_store(self) -> None:
        if self.store is None:
            return
        try:
            self.store.save(self.learner)
        # disk full, or Redis gone: what was learned since the last save is lost
        except self.stores.errors as exc:
            self.stats.inc_value(SITE_BOILERPLATE_SAVE_ERROR.name)
            logger.error("Cannot save the learned site boilerplate: %s", exc)
        finally:
            self.store.close()
            self.store = None

    def process_item(self, item: Any) -> Any:
        try:
            return self._process(item)
        except self.stores.errors as exc:
            # the shared state is gone: the page goes on as extracted (the worker is
            # stopping, and the dedupe stage drops it: nothing can be checked)
            self.stats.inc_value(SITE_BOILERPLATE_STATE_UNAVAILABLE.name)
            logger.debug("Cannot reach the site boilerplate's store: %s", exc)
            return item

    def _process(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        site = host_of(adapter.get("canonical_url") or adapter["url"]) or ""
        store = self.store
        if store is not None:
            store.load(self.learner, site)
            if len(self.learner.sites) > self.max_sites:
                store.save(self.learner)
                forgotten = self.learner.forget_oldest(self.max_sites // 2 or 1)
                self.stats.inc_value(SITE_BOILERPLATE_SITES_UNLOADED.name, len(forgotten))
        text = adapter.get("text") or ""
        paragraphs = paragraphs_of(text)
        if store is None or store.first_visit(adapter["url"]):
            self.learner.observe(site, paragraphs)
        kept = self.learner.strip(site, paragraphs)
        removed = len(paragraphs) - len(kept)
        if removed:
            self.stats.inc_value(SITE_BOILERPLATE_LINES_REMOVED.name, removed)
            self.stats.inc_value(SITE_BOILERPLATE_PAGES_CLEANED.name)
            adapter["text"] = "\n\n".join(kept)
            precomputed = adapter.get("precomputed")
            if precomputed is not None and precomputed.for_text(text):
                adapter["precomputed"] = precomputed.after_edit(text, adapter["text"])
        self.pages += 1
        if store is not None and self.pages % self.save_every == 0:
            try:
                store.save(self.learner)
            except self.stores.errors as exc:
                self.stats.inc_value(SITE_BOILERPLATE_SAVE_ERROR.name)
                logger.error("Cannot save the learned site boilerplate: %s", exc)
        if removed and text_size(adapter["text"]) < self.min_text_chars:
            self.stats.inc_value(SITE_BOILERPLATE_DROPPED.name)
            raise NotAnArticle(
                f"NotAnArticle: little text besides the site's boilerplate <{adapter['url']}>"
            )
        return item
