"""Language stage: ``language`` and ``language_confidence`` from the text, with langdetect
(:mod:`extraction.language`), seeded so that results repeat; the page's declared language only
where detection is unsure."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from extraction import language
from extraction.language import LanguageDetector
from extraction.pool import WorkerFailed
from extraction.record import apply_detection
from extraction.worker import detect_language
from pipelines.setting import flag, integer, number
from pipelines.signals import workers_started
from pipelines.stats import LANGUAGE_DECLARED, LANGUAGE_DETECTED, LANGUAGE_REUSED, LANGUAGE_UNKNOWN

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from extraction.language import Detection
    from extraction.pool import PagePool
    from extraction.worker import Precomputed

logger = logging.getLogger(__name__)

LANGUAGE_ENABLED = flag("LANGUAGE_ENABLED", True, "the language stage")
LANGUAGE_SAMPLE_CHARS = integer(
    "LANGUAGE_SAMPLE_CHARS",
    language.DEFAULT_SAMPLE_CHARS,
    "characters of text given to langdetect (on the corpus 600 name the same languages as "
    "2,000, faster)",
    minimum=20,
)
LANGUAGE_MIN_CONFIDENCE = number(
    "LANGUAGE_MIN_CONFIDENCE",
    language.DEFAULT_MIN_CONFIDENCE,
    "below it the page's declared language wins",
    minimum=0.0,
    maximum=1.0,
)
LANGUAGE_SEED = integer(
    "LANGUAGE_SEED",
    language.DEFAULT_SEED,
    "langdetect's seed: the same text always gives the same answer",
)
SETTINGS = (LANGUAGE_ENABLED, LANGUAGE_SAMPLE_CHARS, LANGUAGE_MIN_CONFIDENCE, LANGUAGE_SEED)


class LanguagePipeline:
    """Sets ``language`` and ``language_confidence``; the extraction worker's detection is
    used when it was made on this very text, with these settings. A text a stage changed
    since (the site-boilerplate stage) is detected again by an extraction worker when there
    are workers, so that the crawl process never loads the language profiles."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        sample_chars: int = language.DEFAULT_SAMPLE_CHARS,
        min_confidence: float = language.DEFAULT_MIN_CONFIDENCE,
        seed: int = language.DEFAULT_SEED,
    ) -> None:
        self.stats = stats
        self.min_confidence = min_confidence
        self.seed = seed
        self.sample_chars = sample_chars
        self.pool: PagePool | None = None
        """The extract stage's workers (:data:`pipelines.signals.workers_started`; ``None``:
        none)."""
        self._detector: LanguageDetector | None = None

    @property
    def detector(self) -> LanguageDetector:
        """Made when first needed, in this process: without extraction workers, or when a
        worker failed."""
        if self._detector is None:
            self._detector = LanguageDetector(seed=self.seed, sample_chars=self.sample_chars)
        return self._detector

    def use_workers(self, pool: PagePool) -> None:
        self.pool = pool

    async def _detect(self, text: str) -> tuple[str | None, float | None]:
        if self.pool is not None:
            try:
                found: Detection = await self.pool.call(
                    detect_language, text, self.seed, self.sample_chars
                )
            except WorkerFailed:
                pass  # detected here instead
            else:
                return found.language, found.confidence
        return self.detector.detect(text)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not LANGUAGE_ENABLED.read(settings):
            raise NotConfigured("LANGUAGE_ENABLED is off")
        assert crawler.stats is not None
        pipeline = cls(
            crawler.stats,
            sample_chars=LANGUAGE_SAMPLE_CHARS.read(settings),
            min_confidence=LANGUAGE_MIN_CONFIDENCE.read(settings),
            seed=LANGUAGE_SEED.read(settings),
        )
        crawler.signals.connect(pipeline.use_workers, signal=workers_started)
        return pipeline

    def _reusable(self, precomputed: Precomputed | None, text: str) -> Detection | None:
        if precomputed is None or precomputed.detection is None:
            return None
        detection = precomputed.detection
        if not detection.made_with(seed=self.seed, sample_chars=self.sample_chars):
            return None
        return detection if precomputed.for_text(text) else None

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        text = adapter.get("text") or ""
        reused = self._reusable(adapter.get("precomputed"), text)
        if reused is not None:
            self.stats.inc_value(LANGUAGE_REUSED.name)
            detected, confidence = reused.language, reused.confidence
        else:
            detected, confidence = await self._detect(text)
        language_code, confidence = apply_detection(
            adapter, detected, confidence, min_confidence=self.min_confidence
        )
        if language_code is None:
            self.stats.inc_value(LANGUAGE_UNKNOWN.name)
            logger.info("No language detected or declared: %s", adapter.get("url"))
        elif confidence is None:
            self.stats.inc_value(LANGUAGE_DECLARED.name)
        else:
            self.stats.inc_value(LANGUAGE_DETECTED.name)
        return item
