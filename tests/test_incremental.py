"""Incremental crawls (:mod:`crawler.incremental`): a page the dataset holds is not fetched
again unless its listing says it changed, and what fetching it again would find anyway is
remembered, so that it is not fetched on every run."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.incremental import COPY, REMEMBERED_DROPS, IncrementalMiddleware
from dataset.layout import state_dir
from dataset.state.embedded import NEAR_STATE_FILE
from demo.site import Response as Route
from demo.site import load_site
from pipelines.dedupe import DedupePipeline, DuplicateArticle
from pipelines.extract import EmptyPage, ErrorPage, ListingPage, NotAnArticle, NotHtml
from pipelines.signals import ARTICLE_META
from tests.conftest import CrawlResult, dataset_rows, run_crawl
from tests.hostile_site import HostileServer, redirect, serve
from tests.newssite import Article
from tests.test_dedupe import COPY as NEAR_COPY
from tests.test_dedupe import STORY, article, commit

if TYPE_CHECKING:
    from pathlib import Path

    from crawler.items import ArticleItem


def _sitemap(server: HostileServer, entries: dict[str, str]) -> Route:
    urls = "".join(
        f"<url><loc>{server.base_url}{path}</loc><lastmod>{lastmod}</lastmod></url>"
        for path, lastmod in entries.items()
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )
    return Route(200, {"Content-Type": "application/xml"}, body.encode())


def _crawl(out: Path, server: HostileServer) -> CrawlResult:
    before = len(server.requested)
    result = run_crawl(out, "-a", f"sitemaps={server.url('/sitemap.xml')}")
    result.requested = server.requested[before:]
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_a_page_listed_as_changed_and_found_the_same_is_fetched_once(tmp_path: Path) -> None:
    # its sitemap's lastmod moved (or lies ahead) while its text did not: it was fetched on
    # every run, dropped as a duplicate each time
    page = load_site().pages[0]
    with serve() as server:
        server.routes["/a/1.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": "2024-05-02"})
        assert _crawl(tmp_path, server).stats["news/parquet/rows_written"] == 1
        ahead = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": ahead.isoformat()})
        checked = _crawl(tmp_path, server)
        assert checked.requested.count("/a/1.html") == 1
        assert checked.stats["news/incremental/rejected_remembered/Unchanged"] == 1
        again = _crawl(tmp_path, server)
        assert "/a/1.html" not in again.requested
        assert again.stats["news/incremental/known_skipped"] == 1
        # a later date than the one it was checked against: asked for again
        later = ahead + timedelta(days=1)
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": later.isoformat()})
        assert "/a/1.html" in _crawl(tmp_path, server).requested
    assert len(dataset_rows(tmp_path)) == 1


def test_a_link_that_redirects_to_a_stored_article_is_not_fetched_on_every_run(
    tmp_path: Path,
) -> None:
    page = load_site().pages[0]
    with serve() as server:
        server.routes["/a/1.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        server.routes["/go/1"] = redirect(server.url("/a/1.html"))
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": "2024-05-02"})
        _crawl(tmp_path, server)
        server.routes["/sitemap.xml"] = _sitemap(server, {"/go/1": "2024-05-02"})
        through = _crawl(tmp_path, server)
        assert "/go/1" in through.requested
        assert through.stats["news/incremental/rejected_remembered/Redirect"] == 1
        again = _crawl(tmp_path, server)
        assert "/go/1" not in again.requested
        assert again.stats["news/incremental/rejected_pages/Redirect"] == 1
    assert len(dataset_rows(tmp_path)) == 1


def test_a_stored_page_listed_as_changed_and_gone_is_not_asked_for_on_every_run(
    tmp_path: Path,
) -> None:
    page = load_site().pages[0]
    with serve() as server:
        server.routes["/a/1.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": "2024-05-02"})
        _crawl(tmp_path, server)
        del server.routes["/a/1.html"]  # removed from the site, still in its sitemap
        # a minute ahead: after the stored copy's fetch time, whatever the clock's second
        changed = (datetime.now(UTC) + timedelta(minutes=1)).replace(microsecond=0)
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": changed.isoformat()})
        gone = run_crawl(tmp_path, "-a", f"sitemaps={server.url('/sitemap.xml')}")
        assert gone.stats["news/incremental/rejected_remembered/Gone"] == 1
        before = len(server.requested)
        again = _crawl(tmp_path, server)
        assert "/a/1.html" not in server.requested[before:]
        assert again.stats["news/incremental/known_skipped"] == 1
    assert len(dataset_rows(tmp_path)) == 1


def _copies_log(out: Path) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(state_dir(out) / NEAR_STATE_FILE)) as db:
        return db.execute("SELECT url, kept_id, kind FROM copies").fetchall()


@pytest.mark.parametrize(
    "page",
    [
        # a page naming its canonical URL, at a second path (a section's and a topic's)
        load_site().pages[0].body(),
        # a page naming none: the same text at another URL
        Article(7, "x").html(),
    ],
    ids=["same canonical", "same text"],
)
def test_a_copy_of_a_stored_article_at_another_url_is_not_fetched_on_every_run(
    tmp_path: Path, page: bytes
) -> None:
    # it was fetched, extracted and dropped as a DuplicateArticle on every run, for ever
    with serve() as server:
        for path in ("/a/1.html", "/b/1.html"):
            server.routes[path] = Route(200, {"Content-Type": "text/html"}, page)
        server.routes["/sitemap.xml"] = _sitemap(server, {"/a/1.html": "2024-05-02"})
        _crawl(tmp_path, server)
        listed = {"/a/1.html": "2024-05-02", "/b/1.html": "2024-05-02"}
        server.routes["/sitemap.xml"] = _sitemap(server, listed)
        copy = _crawl(tmp_path, server)
        assert copy.requested.count("/b/1.html") == 1
        assert copy.stats["item_dropped_reasons_count/DuplicateArticle"] == 1
        assert copy.stats["news/incremental/rejected_remembered/Copy"] == 1
        for _ in range(2):
            again = _crawl(tmp_path, server)
            assert "/b/1.html" not in again.requested
            assert again.stats["news/incremental/rejected_pages/Copy"] == 1
            assert "item_dropped_reasons_count/DuplicateArticle" not in again.stats
        # its listing dates it later than it was found a copy: asked for again, as a re-check
        later = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
        server.routes["/sitemap.xml"] = _sitemap(server, {**listed, "/b/1.html": later.isoformat()})
        assert "/b/1.html" in _crawl(tmp_path, server).requested
    assert len(dataset_rows(tmp_path)) == 1
    # one row per copy in the copies log, however many runs dropped it (a URL copy: none)
    log = _copies_log(tmp_path)
    assert len(log) == len(set(log)) <= 1


def _naming(page: bytes, canonical: str) -> Route:
    """The page with a canonical link."""
    body = page.replace(b"</head>", f'<link rel="canonical" href="{canonical}"></head>'.encode())
    return Route(200, {"Content-Type": "text/html"}, body)


@pytest.mark.parametrize("runs", [1, 2], ids=["one crawl", "across runs"])
def test_another_article_under_a_stored_articles_canonical_is_stored(
    tmp_path: Path, runs: int
) -> None:
    # a CMS giving a second article the first one's canonical URL: the second was dropped as a
    # DuplicateArticle (news/dedupe/duplicate/url) and, once the first was committed,
    # remembered as a Copy and not fetched again for INCREMENTAL_NOT_ARTICLE_RECHECK
    first, second = Article(1, "x"), Article(2, "x")
    with serve() as server:
        canonical = server.url(first.path)
        server.routes[first.path] = _naming(first.html(), canonical)
        server.routes[second.path] = _naming(second.html(), canonical)
        # the first article's AMP page, its text with an update: the same article
        server.routes[f"/amp{first.path}"] = _naming(first.html(revision=1), canonical)
        paths = [first.path, second.path, f"/amp{first.path}"]
        if runs == 2:
            server.routes["/sitemap.xml"] = _sitemap(server, {first.path: "2024-05-02"})
            _crawl(tmp_path, server)
        server.routes["/sitemap.xml"] = _sitemap(server, dict.fromkeys(paths, "2024-05-02"))
        crawl = _crawl(tmp_path, server)
        assert crawl.stats["news/dedupe/canonical_conflict"] == 1
        assert crawl.stats["news/dedupe/duplicate/url"] == 1  # the AMP page
        conflicts = [line for line in crawl.log.splitlines() if "its text is not" in line]
        assert len(conflicts) == 1
        again = _crawl(tmp_path, server)
        assert second.path not in again.requested
        if runs == 2:  # the AMP page, a copy of the row committed by the first run
            assert again.stats["news/incremental/rejected_pages/Copy"] == 1
            assert f"Kept {server.url(second.path)}: its URL or canonical URL" in conflicts[0]
    rows = {row["url"]: row for row in dataset_rows(tmp_path)}
    # within a run, the first article or its AMP page is kept, whichever was extracted first
    assert len(rows) == 2
    assert rows[server.url(second.path)]["canonical_url"] == canonical  # what the page said


def test_a_site_that_moved_its_articles_is_not_fetched_again_on_every_run(
    tmp_path: Path,
) -> None:
    # new URLs, the old ones answering 301, the sitemap listing the new ones: no redirect
    # leads to them, and every stored article was fetched and dropped again on every run
    articles = [Article(number, "x") for number in range(3)]
    with serve() as server:
        for item in articles:
            server.routes[item.path] = Route(200, {"Content-Type": "text/html"}, item.html())
        server.routes["/sitemap.xml"] = _sitemap(
            server, dict.fromkeys((a.path for a in articles), "2024-05-02")
        )
        assert _crawl(tmp_path, server).stats["news/parquet/rows_written"] == len(articles)
        moved = {f"/news/{item.slug}": item for item in articles}
        for path, item in moved.items():
            server.routes[path] = Route(200, {"Content-Type": "text/html"}, item.html())
            server.routes[item.path] = redirect(server.url(path), 301)
        server.routes["/sitemap.xml"] = _sitemap(server, dict.fromkeys(moved, "2024-05-02"))
        first = _crawl(tmp_path, server)
        assert sorted(p for p in first.requested if p.startswith("/news/")) == sorted(moved)
        assert first.stats["news/incremental/rejected_remembered/Copy"] == len(articles)
        again = _crawl(tmp_path, server)
        assert not [p for p in again.requested if p.startswith("/news/")]
        assert again.stats["news/incremental/rejected_pages/Copy"] == len(articles)
    assert len(dataset_rows(tmp_path)) == len(articles)


KEPT = "https://n.test/story"


@pytest.mark.parametrize(
    "copy",
    [
        article("https://n.test/topic/story", NEAR_COPY + " Another line.", canonical_url=KEPT),
        article("https://n.test/other", STORY),
        article("https://n.test/wire", NEAR_COPY),
    ],
    ids=["url", "content", "near"],
)
@pytest.mark.parametrize("committed", [True, False], ids=["committed", "in this crawl"])
def test_a_copy_is_remembered_once_the_row_it_copies_is_committed(
    tmp_path: Path, copy: ArticleItem, committed: bool
) -> None:
    # a copy of a row accepted in this crawl only is fetched again by the next one: were the
    # row's file lost, the copy is the article to store
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    dedupe = build_from_crawler(DedupePipeline, crawler)
    dedupe.open_spider()
    middleware = build_from_crawler(IncrementalMiddleware, crawler)
    middleware.spider_opened()
    try:
        kept = dedupe.process_item(article(KEPT, STORY))
        if committed:
            commit(crawler, "f/part-1.parquet", kept)
        request = Request(copy.url, meta={ARTICLE_META: True})
        with pytest.raises(DuplicateArticle) as dropped:
            dedupe.process_item(copy)
        response = HtmlResponse(copy.url, body=b"<html></html>", request=request)
        middleware.item_dropped(copy, response, dropped.value)
        assert middleware.state is not None
        rejection = middleware.state.rejected(copy.url)
        assert (rejection.reason if rejection else None) == (COPY if committed else None)
        listed_again = Request(copy.url, meta={ARTICLE_META: True})
        skipped = middleware.get_processed_request(listed_again, None) is None
        assert skipped == committed
    finally:
        middleware.spider_closed()
        dedupe.close_state()


def test_a_listed_day_without_a_time_is_read_as_its_end() -> None:
    # <lastmod>2024-05-01</lastmod> read as its midnight: a page edited later on the day it
    # was stored was never fetched again (0 of 6), the day's date staying the same
    import scrapy  # noqa: PLC0415

    from crawler.incremental import IncrementalMiddleware  # noqa: PLC0415

    def listed(value: datetime) -> datetime | None:
        request = scrapy.Request("https://n.test/a", cb_kwargs={"listed_modified_at": value})
        return IncrementalMiddleware._listed_at(request)

    end = datetime(2024, 5, 1, 23, 59, 59, 999_999, tzinfo=UTC)
    assert listed(datetime(2024, 5, 1)) == end
    assert listed(datetime(2024, 5, 1, 10, 30)) == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    midnight_utc = datetime(2024, 5, 1, tzinfo=UTC)  # a time was given: as it says
    assert listed(midnight_utc) == midnight_utc


def test_an_error_page_is_not_remembered_as_no_article() -> None:
    # a soft 404 minutes before the CDN serves the article: remembered, it hid the article
    # for INCREMENTAL_NOT_ARTICLE_RECHECK (tests/test_error_pages.py crawls it)
    for remembered in (NotAnArticle, ListingPage, NotHtml):
        assert issubclass(remembered, REMEMBERED_DROPS)
    for asked_again in (ErrorPage, EmptyPage):
        assert not issubclass(asked_again, REMEMBERED_DROPS)


def test_times_a_clock_set_ahead_wrote_count_as_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # crawls made with the clock 30 days ahead, then crawls on the right clock: a stored page
    # whose listing dated a revision since was not fetched again, and a page dropped as no
    # article not re-checked, until that date came (thirteenth fault hunt, F2)
    from crawler import incremental  # noqa: PLC0415

    real_now = datetime.now(UTC)
    ahead = timedelta(days=30)

    class ClockAhead(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> ClockAhead:
            return cls.fromtimestamp((datetime.now(UTC) + ahead).timestamp(), tz)

    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    middleware = build_from_crawler(IncrementalMiddleware, crawler)
    middleware.spider_opened()
    stored, dropped, plain = "https://n.test/a", "https://n.test/section", "https://n.test/b"
    try:
        state = middleware.state
        assert state is not None
        # the clock ahead: two pages stored, one dropped as no article
        state.record_file(
            "f/part-1.parquet", [(url, None, url, real_now + ahead) for url in (stored, plain)]
        )
        with monkeypatch.context() as clock:
            clock.setattr(incremental, "datetime", ClockAhead)
            request = Request(dropped, meta={ARTICLE_META: True})
            response = HtmlResponse(dropped, body=b"<html></html>", request=request)
            middleware.item_dropped({}, response, ListingPage("a list of links"))
        # the clock right again
        revised = (real_now - timedelta(days=1)).replace(microsecond=0)
        listed = Request(
            stored, meta={ARTICLE_META: True}, cb_kwargs={"listed_modified_at": revised}
        )
        unlisted = Request(plain, meta={ARTICLE_META: True})  # no date: nothing says it changed
        section = Request(dropped, meta={ARTICLE_META: True})
        with caplog.at_level("WARNING", logger="crawler.incremental"):
            refetched = middleware.get_processed_request(listed, None)
            skipped = middleware.get_processed_request(unlisted, None)
            rechecked = middleware.get_processed_request(section, None)
        assert refetched is listed
        assert listed.cb_kwargs["refetch"] is True
        assert skipped is None
        assert rechecked is section
        assert section.meta["news_recheck"] == "ListingPage"
        assert crawler.stats.get_value("news/incremental/clock_ahead") == 2
        (line,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert line.startswith(f"The crawl state says {stored} was stored at ")
        assert ", 30d ahead of the clock (" in line
        # fetched again and found the same: remembered as checked now, not fetched again
        response = HtmlResponse(stored, body=b"<html></html>", request=listed)
        same = {"refetch": True, "content_hash": stored}
        middleware.item_dropped(same, response, DuplicateArticle("same", kind="url", kept=stored))
        again = Request(
            stored, meta={ARTICLE_META: True}, cb_kwargs={"listed_modified_at": revised}
        )
        assert middleware.get_processed_request(again, None) is None
        # a time within the skew allowed (5 minutes, as between the machines of a Redis run)
        near = "https://n.test/c"
        state.record_file("f/part-2.parquet", [(near, None, near, real_now + timedelta(minutes=3))])
        close = Request(near, meta={ARTICLE_META: True}, cb_kwargs={"listed_modified_at": revised})
        assert middleware.get_processed_request(close, None) is None
        assert crawler.stats.get_value("news/incremental/clock_ahead") == 3  # "again", not it
    finally:
        middleware.spider_closed()
