"""Normalize stage: Unicode and white space, UTC timestamps, URLs, word count, content hash
and row id, by the extraction library's :func:`extraction.record.normalize_article`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from extraction.dates import to_utc
from extraction.record import normalize_article
from extraction.urls import DEFAULT_TRACKING_PARAMS
from pipelines.setting import flag, text_list
from pipelines.stats import NORMALIZE_IMPLAUSIBLE_PUBLISHED_AT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from extraction.text import NormalizedText
    from extraction.worker import Precomputed

logger = logging.getLogger(__name__)

NORMALIZE_ENABLED = flag("NORMALIZE_ENABLED", True, "the normalize stage")
NORMALIZE_TRACKING_PARAMS = text_list(
    "NORMALIZE_TRACKING_PARAMS",
    DEFAULT_TRACKING_PARAMS,
    "query parameters removed from URLs (glob patterns, case-insensitive)",
    shown_default="`utm_*`, `fbclid`, `gclid`, ... (see `extraction/urls.py`)",
)
SETTINGS = (NORMALIZE_ENABLED, NORMALIZE_TRACKING_PARAMS)


def _reusable(precomputed: Precomputed | None, text: str) -> NormalizedText | None:
    if precomputed is None or precomputed.normalized is None:
        return None
    return precomputed.normalized if precomputed.for_text(text) else None


class NormalizePipeline:
    """Normalizes text, fields, timestamps and URLs; computes word count, hash and id. The
    extraction worker's normalized text is used when it was made from this very text."""

    def __init__(
        self, stats: StatsCollector, *, tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS
    ) -> None:
        self.stats = stats
        self.tracking_params = tracking_params

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not NORMALIZE_ENABLED.read(settings):
            raise NotConfigured("NORMALIZE_ENABLED is off")
        assert crawler.stats is not None
        return cls(crawler.stats, tracking_params=NORMALIZE_TRACKING_PARAMS.read(settings))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        published = to_utc(adapter.get("published_at"))
        text = _reusable(adapter.get("precomputed"), adapter.get("text") or "")
        normalize_article(adapter, self.tracking_params, text=text)
        if published is not None and adapter["published_at"] is None:
            self.stats.inc_value(NORMALIZE_IMPLAUSIBLE_PUBLISHED_AT.name)
            logger.info("Ignored implausible publication time %s: %s", published, adapter["url"])
        return item
