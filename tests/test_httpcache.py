"""The HTTP cache of listings (:mod:`crawler.httpcache`): every cached feed, sitemap and
robots.txt asked for again on each run, whatever its caching headers say, and never served in
place of a failed request."""

from __future__ import annotations

from email.utils import formatdate
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.httpcache import HttpCacheMiddleware, RevalidatingPolicy
from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import serve

if TYPE_CHECKING:
    from pathlib import Path

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
