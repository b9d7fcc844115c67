"""Extract stage: the page's main text and metadata, from the fetched bytes.

The work is the extraction library's (:func:`extraction.worker.process_page`), run in worker
processes (:class:`extraction.pool.PagePool`) and awaited, so the crawl keeps downloading
meanwhile. The worker also detects the language and signs the text for the later stages,
with their settings (``LANGUAGE_*``, ``DEDUPE_NEAR_ENABLED``), and hands that work on as the
item's ``precomputed`` value.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem, NotConfigured

from extraction import extractor, pool
from extraction.pool import PagePool, WorkerFailed
from extraction.record import apply_extraction
from extraction.resources import default_workers, memory_limit, usable_cores
from extraction.worker import PageOptions, Rejected
from pipelines import dedupe, language
from pipelines.setting import flag, integer, optional_integer, seconds
from pipelines.signals import ARTICLE_META, workers_started
from pipelines.stats import EXTRACT_ARTICLES, EXTRACT_DROPPED, EXTRACT_WORKERS_FAILED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

EXTRACT_ENABLED = flag("EXTRACT_ENABLED", True, "the extract stage")
EXTRACT_MIN_TEXT_CHARS = integer(
    "EXTRACT_MIN_TEXT_CHARS",
    extractor.MIN_TEXT_CHARS,
    "pages with less main text are dropped as `NotAnArticle` (a Chinese, Japanese or Thai "
    "letter counts three, a Korean syllable two)",
    minimum=1,
)
EXTRACT_COMMENTS = flag(
    "EXTRACT_COMMENTS",
    True,
    "keep the readers' comments a page shows with the article in the `comments` column (off: "
    "the column is null, and each page costs about 1 ms less)",
)
EXTRACT_SECOND_OPINION = flag(
    "EXTRACT_SECOND_OPINION",
    True,
    "ask readability which short paragraphs at the ends of trafilatura's text it keeps too, "
    "and drop the others (dates, labels, credits, prompts around the article): about 3 ms on "
    "the two thirds of pages that start or end with such a paragraph, 7% of the extraction's "
    "CPU; off is the lean choice",
)
EXTRACT_WORKERS = optional_integer(
    "EXTRACT_WORKERS",
    "worker processes that extract pages (and detect their language and sign their text); "
    "`0` extracts in the crawl process itself (for debugging, and the least memory: "
    "docs/operations.md, In a container)",
    minimum=0,
    unset="usable cores (the container's CPU quota counted), fewer under a memory limit",
)
EXTRACT_TIMEOUT = seconds(
    "EXTRACT_TIMEOUT",
    pool.DEFAULT_TIMEOUT,
    "seconds one page may take in a worker; past it the worker is replaced and the page "
    "dropped as `ExtractionTimeout`",
    minimum=0,
    above=True,
)
EXTRACT_WORKER_MAX_TASKS = integer(
    "EXTRACT_WORKER_MAX_TASKS",
    pool.DEFAULT_MAX_TASKS,
    "pages after which a worker is replaced, freeing trafilatura's caches (inline: the caches "
    "are reset)",
    minimum=1,
)
EXTRACT_MAX_PENDING = optional_integer(
    "EXTRACT_MAX_PENDING",
    "pages handed to the workers at once; the others wait, and Scrapy stops downloading when "
    "too many wait",
    minimum=1,
    unset="twice the workers",
)
HTML_ARCHIVE_ENABLED = flag(
    "HTML_ARCHIVE_ENABLED",
    False,
    "keep each stored article's page as fetched in `OUTPUT_DIR/html/` (see docs/dataset.md); "
    "the pages of a row group stay in memory until it is written, and count towards "
    "`PARQUET_ROW_GROUP_BYTES`",
)
SETTINGS = (
    EXTRACT_ENABLED,
    EXTRACT_MIN_TEXT_CHARS,
    EXTRACT_COMMENTS,
    EXTRACT_SECOND_OPINION,
    EXTRACT_WORKERS,
    EXTRACT_TIMEOUT,
    EXTRACT_WORKER_MAX_TASKS,
    EXTRACT_MAX_PENDING,
    HTML_ARCHIVE_ENABLED,
)


class NotHtml(DropItem):
    """The response is not an HTML page (PDF, image, video, JSON, ...)."""


class EmptyPage(DropItem):
    """The response body is empty or not parseable as HTML."""


class NotAnArticle(DropItem):
    """The page has too little article text (a video or photo page, an error page that does not
    say it is one)."""


class ListingPage(NotAnArticle):
    """The page lists other pages (home page, section, tag, author or search page)."""


class ErrorPage(DropItem):
    """The page says it is an error page or a wall, not an article: a soft 404 ("Page not
    found" answered ``200``), a consent, bot, login or maintenance wall, a server error, an app
    shell. Not a ``NotAnArticle``: the article may be there on the next run (a page listed
    minutes before it is served, a wall lifted), so the page is not remembered as no article."""


class ExtractionTimeout(DropItem):
    """Extracting the page took longer than ``EXTRACT_TIMEOUT`` (its worker was replaced)."""


class WorkerCrashed(DropItem):
    """The worker process extracting the page died (it was replaced)."""


DROP_REASONS: dict[str, type[DropItem]] = {
    drop.__name__: drop for drop in (NotHtml, EmptyPage, NotAnArticle, ListingPage, ErrorPage)
}
"""The drop of each reason of :data:`extraction.extractor.REASONS`."""
assert set(DROP_REASONS) == set(extractor.REASONS)


class ExtractPipeline:
    """Turns the fetched page into text and metadata; drops what is not an article."""

    def __init__(
        self,
        stats: StatsCollector,
        *,
        keep_html: bool = False,
        pool: PagePool | None = None,
        options: PageOptions | None = None,
        signals: SignalManager | None = None,
    ) -> None:
        self.stats = stats
        self.signals = signals
        self.keep_html = keep_html
        """Leave the page on the item, for the HTML archive (``HTML_ARCHIVE_ENABLED``)."""
        self.pool = pool or PagePool(0)
        self.options = options or PageOptions()
        self._started = False
        """Whether the pool was started (:meth:`_start_workers`)."""
        self._waiting = False
        """Whether :meth:`_requested` waits for the first article request."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not EXTRACT_ENABLED.read(settings):
            raise NotConfigured("EXTRACT_ENABLED is off")
        workers = EXTRACT_WORKERS.read(settings)
        options = PageOptions(
            min_text_chars=EXTRACT_MIN_TEXT_CHARS.read(settings),
            comments=EXTRACT_COMMENTS.read(settings),
            second_opinion=EXTRACT_SECOND_OPINION.read(settings),
            language=language.LANGUAGE_ENABLED.read(settings),
            language_seed=language.LANGUAGE_SEED.read(settings),
            language_sample_chars=language.LANGUAGE_SAMPLE_CHARS.read(settings),
            signature=dedupe.DEDUPE_ENABLED.read(settings)
            and dedupe.DEDUPE_NEAR_ENABLED.read(settings),
        )
        if workers is None:
            cores = usable_cores()
            chosen = default_workers(cores, memory_limit())
            workers = chosen.workers
            if workers < cores:
                logger.info("Extraction workers: %s", chosen.reason)
        page_pool = PagePool(
            workers,
            timeout=EXTRACT_TIMEOUT.read(settings),
            max_tasks=EXTRACT_WORKER_MAX_TASKS.read(settings),
            max_pending=EXTRACT_MAX_PENDING.read(settings),
        )
        # trafilatura logs its own view of every rejected page; this stage logs one clear
        # line per page instead.
        for name in ("trafilatura", "htmldate", "courlan"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        assert crawler.stats is not None
        return cls(
            crawler.stats,
            keep_html=HTML_ARCHIVE_ENABLED.read(settings),
            pool=page_pool,
            options=options,
            signals=crawler.signals,
        )

    def open_spider(self) -> None:
        """The workers start when the first article page is asked for (its download and the
        workers' start go on together): a run that finds nothing new starts none, and takes
        half the memory and 60% of the CPU it took (``make bench-nothing-new``)."""
        if self.pool.workers and self.signals is not None:
            self.signals.connect(self._requested, signal=signals.request_reached_downloader)
            self._waiting = True
        else:
            self._start_workers()

    def _requested(self, request: Request) -> None:
        if request.meta.get(ARTICLE_META):
            self._start_workers()

    def _start_workers(self) -> None:
        if self._started:
            return
        self._started = True
        if self._waiting and self.signals is not None:
            self.signals.disconnect(self._requested, signal=signals.request_reached_downloader)
            self._waiting = False
        self.pool.start()
        if self.pool.workers:
            logger.info("Extracting in %d worker processes", self.pool.workers)
            if self.signals is not None:
                self.signals.send_catch_log(workers_started, pool=self.pool)

    def close_spider(self) -> None:
        self.pool.close()
        if self.pool.failed is not None:  # logged when it happened
            self.stats.set_value(EXTRACT_WORKERS_FAILED.name, 1)

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        body: bytes = adapter.get("html") or b""
        if not self.keep_html:
            adapter["html"] = None  # raw HTML travels no further
        url = adapter["url"]
        if self._waiting:  # a page whose request was not marked (another spider's)
            self._start_workers()
        try:
            outcome = await self.pool.run(body, url, adapter.get("content_type"), self.options)
        except WorkerFailed as exc:
            drop = ExtractionTimeout if exc.timed_out else WorkerCrashed
            reason = drop.__name__
            self.stats.inc_value(EXTRACT_DROPPED.of(reason))
            logger.warning("Extraction failed: %s <%s>", exc, url)
            raise drop(f"{reason}: {exc} <{url}>") from None
        if isinstance(outcome, Rejected):
            self.stats.inc_value(EXTRACT_DROPPED.of(outcome.reason))
            raise DROP_REASONS[outcome.reason](f"{outcome.reason}: {outcome.message} <{url}>")
        self.stats.inc_value(EXTRACT_ARTICLES.name)
        apply_extraction(adapter, outcome.extraction)
        adapter["precomputed"] = outcome.precomputed
        return item
