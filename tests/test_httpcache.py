"""The HTTP cache of listings (:mod:`crawler.httpcache`): every cached feed, sitemap and
robots.txt asked for again on each run, whatever its caching headers say, and never served in
place of a failed request."""

from __future__ import annotations

import ast
import gzip
import os
import threading
import time
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Request, Spider
from scrapy.extensions.httpcache import FilesystemCacheStorage
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.httpcache import (
    TRASH,
    AtomicFilesystemCacheStorage,
    HttpCacheMiddleware,
    RevalidatingPolicy,
)
from dataset.layout import owner_tag, state_dir
from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import serve
from tests.newssite import Article
from tests.test_crawl_command import holding

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

FEED_URL = "https://news.example/feed.xml"
FRESH_FOR_A_DAY = {
    "Cache-Control": "max-age=86400",
    "Date": formatdate(usegmt=True),
    "ETag": '"v1"',
    "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
}


def test_a_cached_response_is_always_asked_for_again_with_its_validators() -> None:
    policy = RevalidatingPolicy(Settings())
    cached = Response(FEED_URL, headers=FRESH_FOR_A_DAY, body=b"<rss/>")
    request = Request(FEED_URL)
    # RFC 2616's policy serves it for a day without asking the server
    assert not policy.is_cached_response_fresh(cached, request)
    assert request.headers[b"If-None-Match"] == b'"v1"'
    assert request.headers[b"If-Modified-Since"] == b"Mon, 01 Jan 2024 00:00:00 GMT"


def test_only_not_modified_makes_the_cached_response_valid() -> None:
    policy = RevalidatingPolicy(Settings())
    cached = Response(FEED_URL, headers=FRESH_FOR_A_DAY, body=b"<rss/>")
    request = Request(FEED_URL)
    assert policy.is_cached_response_valid(cached, Response(FEED_URL, status=304), request)
    # RFC 2616's policy answers a server error with the cached copy
    for status in (200, 500, 503):
        answer = Response(FEED_URL, status=status)
        assert not policy.is_cached_response_valid(cached, answer, request)


def test_a_failed_request_is_not_answered_from_the_cache() -> None:
    crawler = get_crawler(settings_dict={"HTTPCACHE_ENABLED": True})
    middleware = HttpCacheMiddleware.from_crawler(crawler)
    request = Request(FEED_URL, meta={"cached_response": HtmlResponse(FEED_URL, body=b"x")})
    assert middleware.process_exception(request, ConnectionRefusedError()) is None
    assert "cached_response" not in request.meta


def _feed(base_url: str, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>{p}</title><link>{base_url}{p}</link></item>" for p in paths)
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>{base_url}/</link><description>d</description>{items}</channel></rss>"
    ).encode()


def test_a_feed_sent_as_fresh_for_a_day_is_read_again_on_the_next_run(tmp_path: Path) -> None:
    # a feed with Cache-Control: max-age=86400 was served from the cache the next run: the
    # articles it listed meanwhile were not fetched (lost once it rolled over); and with its
    # site down, the run exited 0 from the cached copy
    pages = load_site().pages[:2]
    with serve() as server:
        for page in pages:
            server.routes[page.path] = Route(200, {"Content-Type": "text/html"}, page.body())

        def publish(listed: list[str]) -> None:
            headers = {"Content-Type": "application/rss+xml", "Cache-Control": "max-age=86400"}
            server.routes["/feed.xml"] = Route(200, headers, _feed(server.base_url, listed))

        feed = f"feeds={server.url('/feed.xml')}"
        publish([pages[0].path])
        assert run_crawl(tmp_path, "-a", feed).returncode == 0
        publish([page.path for page in pages])
        second = run_crawl(tmp_path, "-a", feed)
        assert second.returncode == 0, second.log[-3000:]
        assert server.requested.count("/feed.xml") == 2
        assert pages[1].path in server.requested
        assert len(dataset_rows(tmp_path)) == 2
    third = run_crawl(tmp_path, "-a", feed)  # the site is down
    assert third.returncode == 1
    assert "httpcache/errorrecovery" not in third.stats


DAY = 86_400.0


def _entry(cache: Path, name: str, *, age_days: float) -> Path:
    """A cache folder of spider ``news``, last used ``age_days`` ago."""
    entry = cache / "news" / name.lstrip(".")[:2] / name
    entry.mkdir(parents=True)
    (entry / "pickled_meta").write_bytes(b"meta")
    used = time.time() - age_days * DAY
    os.utime(entry, (used, used))
    return entry


def _pruning_middleware(cache: Path, state: Path) -> tuple[Crawler, Spider, HttpCacheMiddleware]:
    """The cache middleware of a crawl of spider ``news`` with the cache at ``cache`` (which
    it prunes as the spider opens, holding the run lock of ``state``)."""
    settings = {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(cache),
        "HTTPCACHE_STORAGE": "crawler.httpcache.AtomicFilesystemCacheStorage",
        "STATE_DIR": str(state),
    }
    crawler = get_crawler(Spider, settings_dict=settings)
    return crawler, Spider.from_crawler(crawler, "news"), HttpCacheMiddleware.from_crawler(crawler)


def test_entries_unused_for_longer_than_the_setting_are_taken_out_then_deleted(
    tmp_path: Path,
) -> None:
    # every listing URL ever fetched (a sitemap a day, each new tag page) stayed for ever
    cache = tmp_path / "httpcache"
    storage = AtomicFilesystemCacheStorage(Settings({"HTTPCACHE_DIR": str(cache)}))
    used = _entry(cache, "aa11", age_days=1)
    unused = _entry(cache, "bb22", age_days=40)
    left = _entry(cache, ".cc33.4242-0a0b0c0d.tmp", age_days=40)  # a killed crawl's scratch
    writing = _entry(cache, ".dd44.4343-0a0b0c0d.tmp", age_days=0)
    assert storage.prune("news", time.time() - 35 * DAY) == (1, 1)
    assert [path.is_dir() for path in (used, writing, unused, left)] == [True, True, False, False]
    assert len(list((cache / TRASH).iterdir())) == 2  # taken out whole, at once
    stop = threading.Event()
    stop.set()
    assert storage.empty_trash(stop) == 0  # the crawl ended: the next one deletes the rest
    assert storage.empty_trash() == 2
    assert not list((cache / TRASH).iterdir())
    assert storage.prune("elsewhere", time.time()) == (0, 0)  # a spider with no cache yet


def _sitemaps(server: Any, day: int) -> None:
    """The sitemap index naming the day's sitemap, listing the day's article."""
    article = Article(day, "x")
    server.routes[article.path] = Route(200, {"Content-Type": "text/html"}, article.html())
    xml = {"Content-Type": "application/xml", "ETag": f'"{day}"'}
    namespace = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
    sitemap = f"/sitemap-{day}.xml"
    urls = f"<url><loc>{server.url(article.path)}</loc></url>"
    server.routes[sitemap] = Route(200, xml, f"<urlset {namespace}>{urls}</urlset>".encode())
    sitemaps = f"<sitemap><loc>{server.url(sitemap)}</loc></sitemap>"
    index = f"<sitemapindex {namespace}>{sitemaps}</sitemapindex>"
    server.routes["/sitemap_index.xml"] = Route(200, xml, index.encode())


def _cached(out: Path) -> dict[str, float]:
    """Each cached URL (its path) and its entry's age in days."""
    found = {}
    for meta in (state_dir(out) / "httpcache" / "news").glob("*/*/meta"):
        url = ast.literal_eval(gzip.decompress(meta.read_bytes()).decode())["url"]  # Scrapy's
        found["/" + url.split("/", 3)[3]] = (time.time() - meta.parent.stat().st_mtime) / DAY
    return found


def _age(out: Path, days: float) -> None:
    """Make every cache entry ``days`` older, as if the runs were that far apart."""
    for entry in (state_dir(out) / "httpcache" / "news").glob("*/*"):
        used = entry.stat().st_mtime - days * DAY
        os.utime(entry, (used, used))


def test_a_crawl_prunes_the_listings_no_run_asked_for_lately(tmp_path: Path) -> None:
    # a sitemap a day: each stayed cached for ever, though no later run asked for it
    prune = ("HTTPCACHE_PRUNE_AFTER=3d",)
    with serve() as server:
        index = f"sitemaps={server.url('/sitemap_index.xml')}"
        _sitemaps(server, 1)
        assert run_crawl(tmp_path, "-a", index, settings=prune).returncode == 0
        assert set(_cached(tmp_path)) == {"/sitemap_index.xml", "/sitemap-1.xml"}
        _age(tmp_path, 2)
        _sitemaps(server, 2)  # two days later, the index names another sitemap
        second = run_crawl(tmp_path, "-a", index, settings=prune)
        assert "news/httpcache/pruned" not in second.stats  # nothing unused for 3 days yet
        cached = _cached(tmp_path)
        assert cached["/sitemap_index.xml"] < 1  # asked for again: used now
        assert cached["/sitemap-1.xml"] > 2
        _age(tmp_path, 2)
        _sitemaps(server, 3)
        third = run_crawl(tmp_path, "-a", index, settings=prune)
    assert third.returncode == 0, third.log[-3000:]
    assert third.stats["news/httpcache/pruned"] == 1
    assert "Pruned 1 cached listings no crawl asked for in 3 days" in third.log
    # the index, used by every run, and the sitemap the last run read stay
    assert set(_cached(tmp_path)) == {"/sitemap_index.xml", "/sitemap-2.xml", "/sitemap-3.xml"}
    assert not list((state_dir(tmp_path) / "httpcache" / TRASH).iterdir())  # deleted meanwhile


def test_nothing_is_pruned_while_another_crawl_holds_the_run_lock(tmp_path: Path) -> None:
    # it may be reading the entries; it prunes them itself
    cache = tmp_path / "httpcache"
    unused = _entry(cache, "bb22", age_days=40)
    crawler, spider, middleware = _pruning_middleware(cache, tmp_path / "state")
    with holding(tmp_path / "state", 30):
        middleware.spider_opened(spider)
        middleware.spider_closed(spider)
    assert unused.is_dir()
    middleware.spider_opened(spider)  # the lock free again: taken for the pruning
    middleware.spider_closed(spider)
    assert not unused.exists()
    assert crawler.stats.get_value("news/httpcache/pruned") == 1


def test_the_scratch_folders_killed_crawls_left_are_removed_as_a_crawl_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a crawl killed (-9) while it stored a response left its scratch folder beside the
    # entries, named with its pid only: it stayed until HTTPCACHE_PRUNE_AFTER (35 days)
    cache = tmp_path / "httpcache"
    here = owner_tag().rsplit("-", 1)[0]
    dead = 2**30  # above any pid_max: no such process
    left = [
        _entry(cache, f".aa11.0a0b0c0d.{here}-{dead}.tmp", age_days=0),
        _entry(cache, f".aa11.0a0b0c0e.{here}-{dead}.old", age_days=0),  # being replaced
        _entry(cache, ".bb22.0a0b0c0d.pod-7-1.tmp", age_days=2 / 24),  # a container before
        _entry(cache, ".cc33.4242-0a0b0c0d.tmp", age_days=2 / 24),  # an older version's
    ]
    kept = [
        _entry(cache, f".dd44.0a0b0c0d.{here}-{os.getppid()}.tmp", age_days=0),  # alive
        _entry(cache, ".ee55.0a0b0c0d.pod-8-1.tmp", age_days=0),  # another machine, writing
        _entry(cache, ".ff66.4343-0a0b0c0d.tmp", age_days=0),
        _entry(cache, "gg77", age_days=1),  # an entry
    ]
    crawler, spider, middleware = _pruning_middleware(cache, tmp_path / "state")
    with caplog.at_level("INFO", logger="crawler.httpcache"):
        middleware.spider_opened(spider)
        middleware.spider_closed(spider)
    assert [path.exists() for path in left] == [False] * 4
    assert [path.exists() for path in kept] == [True] * 4
    assert crawler.stats.get_value("news/httpcache/scratch_removed") == 4
    assert crawler.stats.get_value("news/httpcache/pruned") is None
    lines = [r.getMessage() for r in caplog.records if r.name == "crawler.httpcache"]
    assert lines == [f"Removed 4 scratch folders that killed crawls left in the HTTP cache {cache}"]
    # what a store writes now is named with its host and pid
    storage = middleware.storage
    request = Request("https://news.example/feed.xml")
    names: list[str] = []
    real_store = FilesystemCacheStorage.store_response

    def store(self: Any, spider: Spider, request: Request, response: Response) -> None:
        names.append(Path(self._get_request_path(spider, request)).name)
        real_store(self, spider, request, response)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FilesystemCacheStorage, "store_response", store)
        storage.store_response(spider, request, HtmlResponse(request.url, body=b"<rss/>"))
    (name,) = names
    assert name.endswith(f".{owner_tag()}.tmp")
