"""The extract stage (:mod:`pipelines.extract`): settings to page options and pool, the item
filled from the extraction, drops with their reasons, and crawls with and without workers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from extraction.extractor import REASONS
from extraction.pool import PagePool, WorkerFailed
from extraction.worker import PageOptions, Precomputed
from pipelines.extract import (
    DROP_REASONS,
    EmptyPage,
    ErrorPage,
    ExtractionTimeout,
    ExtractPipeline,
    ListingPage,
    NotAnArticle,
    NotHtml,
    WorkerCrashed,
)
from pipelines.setting import SettingError
from pipelines.signals import ARTICLE_META
from tests.test_extractor import FETCHED_AT, SEED_BODY, SEED_URL

if TYPE_CHECKING:
    from extraction.worker import Extracted, Rejected


def _pipeline(**settings: Any) -> tuple[ExtractPipeline, Any]:
    crawler = get_crawler(settings_dict=settings)
    crawler._apply_settings()
    return build_from_crawler(ExtractPipeline, crawler), crawler


def test_pipeline_fills_the_item_and_clears_the_html() -> None:
    pipeline, crawler = _pipeline()
    item = ArticleItem(
        url=SEED_URL, fetched_at=FETCHED_AT, html=SEED_BODY, content_type="text/html",
        listed_title="ignored: the page has a title",
    )  # fmt: skip
    adapter = ItemAdapter(asyncio.run(pipeline.process_item(item)))
    assert adapter["html"] is None
    assert adapter["title"].startswith("Russia to Expand")
    assert adapter["declared_language"] == "en"
    assert adapter["canonical_url"].startswith("https://en.sputniknews.africa/20230815/")
    assert crawler.stats.get_value("news/extract/articles") == 1


def test_pipeline_hands_on_the_work_done_on_the_text() -> None:
    pipeline, _ = _pipeline()
    item = ArticleItem(url=SEED_URL, fetched_at=FETCHED_AT, html=SEED_BODY)
    adapter = ItemAdapter(asyncio.run(pipeline.process_item(item)))
    precomputed = adapter["precomputed"]
    assert isinstance(precomputed, Precomputed)
    assert precomputed.for_text(adapter["text"])
    assert precomputed.detection is not None
    assert precomputed.detection.language == "en"
    assert precomputed.normalized is not None
    assert precomputed.signature is not None


def test_pipeline_keeps_the_html_for_the_archive() -> None:
    pipeline, _ = _pipeline(HTML_ARCHIVE_ENABLED=True)
    item = ArticleItem(url=SEED_URL, fetched_at=FETCHED_AT, html=SEED_BODY)
    assert ItemAdapter(asyncio.run(pipeline.process_item(item)))["html"] == SEED_BODY


def test_pipeline_uses_listing_hints_as_fallbacks() -> None:
    pipeline, _ = _pipeline()
    page = (
        "<html><body><article>"
        + "".join(
            f"<p>Paragraph {n} of the article tells part {n} of a story worth telling.</p>"
            for n in range(8)
        )
        + "</article></body></html>"
    )
    listed = datetime(2024, 5, 1, 12, tzinfo=UTC)
    item = ArticleItem(
        url="http://demo.test/a", fetched_at=FETCHED_AT, html=page.encode(),
        listed_title="Title from the feed", listed_published_at=listed,
    )  # fmt: skip
    adapter = ItemAdapter(asyncio.run(pipeline.process_item(item)))
    assert adapter["title"] == "Title from the feed"
    assert adapter["published_at"] == listed


def test_pipeline_drops_with_reason_and_counts() -> None:
    pipeline, crawler = _pipeline()
    item = ArticleItem(url="http://demo.test/a.pdf", fetched_at=FETCHED_AT, html=b"%PDF",
                       content_type="application/pdf")  # fmt: skip
    with pytest.raises(NotHtml, match=r"a\.pdf"):
        asyncio.run(pipeline.process_item(item))
    assert crawler.stats.get_value("news/extract/dropped/NotHtml") == 1


SOFT_404 = (
    b"<html><head><title>Page not found</title></head><body><h1>Page not found</h1>"
    b"<p>Sorry, the page you are looking for does not exist or may have been moved. Please "
    b"check the address, or use the search box above to find it.</p></body></html>"
)


@pytest.mark.parametrize(
    ("html", "drop"),
    [
        (b"", EmptyPage),
        (b"<html><body><p>Too short.</p></body></html>", NotAnArticle),
        (
            "<html><body><ul>{}</ul></body></html>".format(
                "".join(
                    f'<li><a href="/news/{n}">Headline number {n} about something that '
                    "happened today</a></li>"
                    for n in range(30)
                )
            ).encode(),
            ListingPage,
        ),
        (
            SOFT_404,
            ErrorPage,
        ),
    ],
)
def test_pipeline_drops_each_reason_with_its_drop(html: bytes, drop: type[DropItem]) -> None:
    pipeline, crawler = _pipeline()
    item = ArticleItem(url="http://demo.test/", fetched_at=FETCHED_AT, html=html)
    with pytest.raises(DropItem) as raised:
        asyncio.run(pipeline.process_item(item))
    assert type(raised.value) is drop
    assert str(raised.value).startswith(f"{drop.__name__}: ")
    assert crawler.stats.get_value(f"news/extract/dropped/{drop.__name__}") == 1


def test_every_reason_has_its_drop() -> None:
    assert set(DROP_REASONS) == set(REASONS)
    assert all(drop.__name__ == reason for reason, drop in DROP_REASONS.items())
    # a listing is no article: what counts articles dropped counts listings too
    assert issubclass(ListingPage, NotAnArticle)
    # an error page or a wall is not remembered as no article (crawler.incremental)
    assert not issubclass(ErrorPage, NotAnArticle)


@pytest.mark.parametrize(("timed_out", "drop"), [(True, ExtractionTimeout), (False, WorkerCrashed)])
def test_a_failed_worker_drops_its_page(timed_out: bool, drop: type[DropItem]) -> None:
    def fail(
        body: bytes, url: str, content_type: str | None, options: PageOptions
    ) -> Extracted | Rejected:
        raise WorkerFailed("it went wrong", timed_out=timed_out)

    crawler = get_crawler()
    assert crawler.stats is not None
    pipeline = ExtractPipeline(crawler.stats, pool=PagePool(0, function=fail))
    item = ArticleItem(url="http://demo.test/slow", fetched_at=FETCHED_AT, html=SEED_BODY)
    with pytest.raises(drop, match=r"it went wrong <http://demo\.test/slow>"):
        asyncio.run(pipeline.process_item(item))
    assert crawler.stats.get_value(f"news/extract/dropped/{drop.__name__}") == 1


def test_workers_that_could_not_start_are_counted() -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    pool = PagePool(0)
    pipeline = ExtractPipeline(crawler.stats, pool=pool)
    pipeline.close_spider()
    assert crawler.stats.get_value("news/extract/workers_failed") is None
    pool.failed = "EOFError: unexpected EOF"
    pipeline.close_spider()
    assert crawler.stats.get_value("news/extract/workers_failed") == 1


def test_pipeline_reads_settings() -> None:
    pipeline, _ = _pipeline(
        EXTRACT_MIN_TEXT_CHARS=50,
        EXTRACT_COMMENTS=False,
        EXTRACT_SECOND_OPINION=False,
        EXTRACT_WORKERS=3,
        EXTRACT_TIMEOUT=5,
        EXTRACT_WORKER_MAX_TASKS=7,
        EXTRACT_MAX_PENDING=4,
        LANGUAGE_SEED=2,
        LANGUAGE_SAMPLE_CHARS=300,
    )
    assert pipeline.options == PageOptions(
        min_text_chars=50,
        comments=False,
        second_opinion=False,
        language_seed=2,
        language_sample_chars=300,
    )
    assert (pipeline.pool.workers, pipeline.pool.timeout) == (3, 5.0)
    assert (pipeline.pool.max_tasks, pipeline.pool.max_pending) == (7, 4)
    assert not pipeline.keep_html


@pytest.mark.parametrize(
    ("settings", "language", "signature"),
    [
        ({}, True, True),
        ({"LANGUAGE_ENABLED": False}, False, True),
        ({"DEDUPE_NEAR_ENABLED": False}, True, False),
        ({"DEDUPE_ENABLED": False}, True, False),
    ],
)
def test_the_workers_do_the_work_of_the_stages_that_run(
    settings: dict[str, Any], language: bool, signature: bool
) -> None:
    pipeline, _ = _pipeline(**settings)
    assert (pipeline.options.language, pipeline.options.signature) == (language, signature)


class _CountedPool(PagePool):
    """A pool of two workers that counts its starts and extracts here."""

    def __init__(self) -> None:
        super().__init__(0)
        self.workers = 2
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self._started.set_result(None)


def test_the_workers_start_when_the_first_article_is_fetched() -> None:
    crawler = get_crawler(settings_dict={"EXTRACT_WORKERS": 2})
    crawler._apply_settings()
    pool = _CountedPool()
    pipeline = ExtractPipeline(crawler.stats, pool=pool, signals=crawler.signals)
    pipeline.open_spider()
    assert pool.starts == 0  # a run that finds nothing new starts no worker
    sent = {"signal": signals.request_reached_downloader, "spider": None}
    crawler.signals.send_catch_log(request=Request("https://x.test/feed.xml"), **sent)
    assert pool.starts == 0  # a listing
    article = Request("https://x.test/a.html", meta={ARTICLE_META: True})
    for _ in range(2):
        crawler.signals.send_catch_log(request=article, **sent)
    assert pool.starts == 1
    # a page whose request was not marked starts them too
    other = ExtractPipeline(crawler.stats, pool=_CountedPool(), signals=crawler.signals)
    other.open_spider()
    item = ArticleItem(
        url=SEED_URL, fetched_at=FETCHED_AT, html=SEED_BODY, content_type="text/html"
    )
    asyncio.run(other.process_item(item))
    assert isinstance(other.pool, _CountedPool)
    assert other.pool.starts == 1
    # a stage never opened (a test's, an analyst's) extracts here, starting no process that
    # nothing would stop
    unopened = ExtractPipeline(crawler.stats, pool=_CountedPool(), signals=crawler.signals)
    page = ArticleItem(
        url=SEED_URL, fetched_at=FETCHED_AT, html=SEED_BODY, content_type="text/html"
    )
    asyncio.run(unopened.process_item(page))
    assert isinstance(unopened.pool, _CountedPool)
    assert unopened.pool.starts == 0
    pipeline.close_spider()
    other.close_spider()


def test_pipeline_refuses_bad_settings() -> None:
    with pytest.raises(SettingError, match="EXTRACT_MIN_TEXT_CHARS=0: must be >= 1"):
        _pipeline(EXTRACT_MIN_TEXT_CHARS=0)
    with pytest.raises(NotConfigured, match="EXTRACT_ENABLED"):
        _pipeline(EXTRACT_ENABLED=False)


def test_inline_and_pooled_crawls_store_the_same_rows(
    tmp_path_factory: pytest.TempPathFactory, site_url: str
) -> None:
    from tests.conftest import dataset_rows, run_crawl  # noqa: PLC0415

    found = {}
    for workers in (0, 2):
        out = tmp_path_factory.mktemp(f"workers{workers}")
        result = run_crawl(
            out, "-a", f"feeds={site_url}/feed.xml", settings=(f"EXTRACT_WORKERS={workers}",)
        )
        assert result.returncode == 0, result.log[-3000:]
        assert ("Extracting in 2 worker processes" in result.log) == (workers == 2)
        stats = result.stats
        # the worker's language detection and signature served the later stages
        assert stats["news/language/reused"] == stats["news/extract/articles"]
        rows = dataset_rows(out)
        assert stats.get("news/dedupe/signature_reused", 0) >= len(rows) - 2
        found[workers] = sorted(
            (row["id"], row["title"], row["text"], row["language"], row["published_at"])
            for row in rows
        )
    assert len(found[0]) >= 15
    assert found[0] == found[2]
    # nothing new on the next run: no worker started (they were, at once, before)
    again = run_crawl(out, "-a", f"feeds={site_url}/feed.xml")
    assert again.returncode == 0, again.log[-3000:]
    assert again.stats["news/incremental/known_skipped"] == len(found[2])
    assert "Extracting in" not in again.log
