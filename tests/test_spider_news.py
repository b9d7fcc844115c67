"""The ``news`` spider's callbacks, offline, with responses built in the test."""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.exceptions import UsageError
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawler.items import ArticleItem
from crawler.spiders.news import NewsSpider
from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import run_crawl
from tests.hostile_site import redirect, serve

if TYPE_CHECKING:
    from pathlib import Path

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>First</title><link>/news/1.html</link>
<pubDate>Tue, 15 Aug 2023 16:39:00 +0300</pubDate></item>
<item><title>Second</title><link>https://news.test/news/2.html</link></item>
</channel></rss>"""
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.test/a.html</loc><lastmod>2024-05-01T10:00:00+02:00</lastmod></url>
<url><loc>https://news.test/b.html</loc></url></urlset>"""
INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://news.test/sitemap-1.xml.gz</loc></sitemap></sitemapindex>"""


def _spider(**arguments: Any) -> NewsSpider:
    crawler = get_crawler(NewsSpider)
    crawler._apply_settings()
    spider = NewsSpider.from_crawler(crawler, **arguments)
    crawler.spider = spider
    return spider


@pytest.fixture
def spider() -> NewsSpider:
    return _spider(urls="https://news.test/a.html")


def _xml(url: str, body: bytes, **meta: Any) -> XmlResponse:
    return XmlResponse(url, body=body, request=Request(url, meta=meta))


async def _start(spider: NewsSpider) -> list[Request]:
    return [request async for request in spider.start()]


def test_arguments_as_lists_and_files(tmp_path: Path) -> None:
    listing = tmp_path / "feeds.txt"
    listing.write_text("# my feeds\nhttps://news.test/rss.xml\n\nhttps://news.test/atom.xml\n")
    spider = _spider(
        urls="https://news.test/a.html, https://news.test/b.html",
        feeds=f"@{listing}",
        sitemaps="https://news.test/sitemap.xml",
    )
    assert spider.article_urls == ["https://news.test/a.html", "https://news.test/b.html"]
    assert spider.feed_urls == ["https://news.test/rss.xml", "https://news.test/atom.xml"]
    assert spider.sitemap_urls == ["https://news.test/sitemap.xml"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "nothing to crawl"),
        ({"urls": "file:///etc/passwd"}, "unsupported scheme"),
        ({"feeds": "not a url"}, "-a feeds"),
        ({"sitemaps": "@/no/such/file.txt"}, "cannot read URL file"),
        (
            {"urls": "https://news.test/a", "url": "https://news.test/b"},
            "unknown spider argument url",
        ),
    ],
)
def test_bad_arguments_are_usage_errors(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        NewsSpider.check_arguments(**arguments)
    with pytest.raises(UsageError, match=message):
        _spider(**arguments)


def test_scrapyd_job_argument_is_accepted() -> None:
    plan = NewsSpider.check_arguments(urls="https://news.test/a", _job="abc123")
    assert plan.article_urls == ["https://news.test/a"]


@pytest.mark.parametrize(("setting", "refetched"), [(None, True), ("True", True), ("False", False)])
def test_start_listings_pass_the_request_filter_as_the_setting_says(
    setting: str | None, refetched: bool
) -> None:
    """``DISCOVERY_REFETCH_START`` (off in Redis mode, where the shared filter of a run lets one
    worker fetch each start listing) decides whether start listings pass the request filter."""
    crawler = get_crawler(
        NewsSpider, settings_dict={} if setting is None else {"DISCOVERY_REFETCH_START": setting}
    )
    crawler._apply_settings()
    spider = NewsSpider.from_crawler(crawler, feeds="https://news.test/rss.xml")
    crawler.spider = spider
    (listing,) = asyncio.run(_start(spider))
    assert listing.dont_filter is refetched


def test_start_requests_every_input() -> None:
    spider = _spider(
        urls="https://news.test/a.html",
        feeds="https://news.test/rss.xml",
        sitemaps="https://news.test/sitemap.xml",
    )
    requests = asyncio.run(_start(spider))
    by_url = {request.url: request for request in requests}
    assert set(by_url) == {
        "https://news.test/a.html",
        "https://news.test/rss.xml",
        "https://news.test/sitemap.xml",
    }
    assert by_url["https://news.test/a.html"].callback == spider.parse_article
    assert by_url["https://news.test/a.html"].cb_kwargs["discovered_via"] == "url"
    assert by_url["https://news.test/rss.xml"].callback == spider.parse_feed
    assert by_url["https://news.test/sitemap.xml"].callback == spider.parse_sitemap
    # listings are always fetched again, articles are deduplicated by the scheduler
    assert by_url["https://news.test/rss.xml"].dont_filter
    assert not by_url["https://news.test/a.html"].dont_filter
    assert all(request.errback == spider.on_error for request in requests)


def test_parse_article_yields_the_raw_page(spider: NewsSpider) -> None:
    response = HtmlResponse(
        "https://news.test/a.html",
        body=b"<html><body>x</body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    listed = datetime(2024, 1, 2, tzinfo=UTC)
    (item,) = spider.parse_article(
        response, discovered_via="feed", listed_title="T", listed_published_at=listed
    )
    assert isinstance(item, ArticleItem)
    assert item.url == "https://news.test/a.html"
    assert item.html == b"<html><body>x</body></html>"
    assert item.content_type == "text/html; charset=utf-8"
    assert item.discovered_via == "feed"
    assert item.listed_title == "T"
    assert item.listed_published_at == listed
    assert item.fetched_at.tzinfo is not None
    assert spider.crawler.stats.get_value("news/fetch/pages") == 1


def test_parse_article_passes_binary_responses_on(spider: NewsSpider) -> None:
    response = Response(
        "https://news.test/a.pdf", body=b"%PDF", headers={"Content-Type": "application/pdf"}
    )
    (item,) = spider.parse_article(response, discovered_via="url")
    assert item.content_type == "application/pdf"  # the extract stage drops it


def test_parse_feed(spider: NewsSpider) -> None:
    response = XmlResponse("https://news.test/rss.xml", body=RSS)
    requests = list(spider.parse_feed(response))
    assert [r.url for r in requests] == [
        "https://news.test/news/1.html",
        "https://news.test/news/2.html",
    ]
    first = requests[0].cb_kwargs
    assert first["discovered_via"] == "feed"
    assert first["listed_title"] == "First"
    assert first["listed_published_at"] == datetime(2023, 8, 15, 13, 39, tzinfo=UTC)
    assert spider.crawler.stats.get_value("news/discovery/feed_entries") == 2


def test_parse_feed_refuses_html(spider: NewsSpider, caplog: pytest.LogCaptureFixture) -> None:
    response = HtmlResponse("https://news.test/page.html", body=b"<html><body>hi</body></html>")
    assert list(spider.parse_feed(response)) == []
    assert spider.crawler.stats.get_value("news/discovery/feed_invalid") == 1
    assert "Not a feed, ignored: https://news.test/page.html" in caplog.text


def test_parse_feed_keeps_entries_of_a_truncated_feed(
    spider: NewsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    response = XmlResponse(
        "https://news.test/rss.xml", body=RSS[: RSS.index(b"<item><title>Second")]
    )
    requests = list(spider.parse_feed(response))
    assert [r.url for r in requests] == ["https://news.test/news/1.html"]
    assert spider.crawler.stats.get_value("news/discovery/feed_malformed") == 1
    assert "Malformed feed" in caplog.text


def test_parse_sitemap_urlset(spider: NewsSpider) -> None:
    requests = list(spider.parse_sitemap(_xml("https://news.test/s.xml", URLSET)))
    assert [r.url for r in requests] == ["https://news.test/a.html", "https://news.test/b.html"]
    assert requests[0].callback == spider.parse_article
    assert requests[0].cb_kwargs["discovered_via"] == "sitemap"
    assert requests[0].cb_kwargs["listed_modified_at"] == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert requests[1].cb_kwargs["listed_modified_at"] is None
    assert all(request.meta["article"] for request in requests)


def test_parse_sitemap_index_follows_gzipped_sitemaps(spider: NewsSpider) -> None:
    (follow,) = spider.parse_sitemap(_xml("https://news.test/sitemap.xml", INDEX))
    assert follow.url == "https://news.test/sitemap-1.xml.gz"
    assert follow.callback == spider.parse_sitemap
    gzipped = Response(follow.url, body=gzip.compress(URLSET), request=follow)
    assert len(list(spider.parse_sitemap(gzipped))) == 2


def test_parse_sitemap_refuses_a_gzip_bomb(
    spider: NewsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    bomb = gzip.compress(b"<" * 2_000_000)
    url = "https://news.test/bomb.xml.gz"
    response = Response(url, body=bomb, request=Request(url, meta={"download_maxsize": 100_000}))
    assert list(spider.parse_sitemap(response)) == []
    assert spider.crawler.stats.get_value("news/discovery/sitemap_invalid") == 1
    assert "Unreadable sitemap" in caplog.text


def test_parse_sitemap_refuses_garbage(spider: NewsSpider) -> None:
    url = "https://news.test/s.xml"
    response = TextResponse(url, body=b"<<<garbage", encoding="utf-8", request=Request(url))
    assert list(spider.parse_sitemap(response)) == []
    assert spider.crawler.stats.get_value("news/discovery/sitemap_invalid") == 1


def _failure(exception: Exception, url: str) -> Failure:
    try:
        raise exception
    except type(exception):
        failure = Failure()
    failure.request = Request(url)  # type: ignore[attr-defined]
    return failure


@pytest.mark.parametrize(
    ("exception", "stat", "line"),
    [
        (
            HttpError(Response("https://news.test/x", status=404), "404"),
            "news/fetch/http_error/404",
            "HTTP 404, skipped: https://news.test/x",
        ),
        (DNSLookupError("no such host"), "news/fetch/error/dns", "Fetch failed (dns"),
        (TimeoutError("took too long"), "news/fetch/error/timeout", "Fetch failed (timeout"),
        (ValueError("odd"), "news/fetch/error/ValueError", "Fetch failed (ValueError"),
    ],
)
def test_errors_are_counted_and_logged_in_one_line(
    spider: NewsSpider,
    caplog: pytest.LogCaptureFixture,
    exception: Exception,
    stat: str,
    line: str,
) -> None:
    spider.on_error(_failure(exception, "https://news.test/x"))
    assert spider.crawler.stats.get_value(stat) == 1
    assert line in caplog.text
    assert "Traceback" not in caplog.text


SOURCES_TOML = """
[[source]]
name = "planet"
home = "https://planet.test/"
feeds = ["https://planet.test/rss.xml"]
allow = ['^https://planet\\.test/news/']
max_age = "2d"
download_delay = 3.0
concurrency = 1
language = "fr"
"""


def _planet(tmp_path: Path, **settings: Any) -> NewsSpider:
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES_TOML, encoding="utf-8")
    crawler = get_crawler(NewsSpider, settings_dict=settings)
    spider = NewsSpider.from_crawler(crawler, sources=str(path))
    crawler.spider = spider
    return spider


def test_an_article_carries_its_sources_language(tmp_path: Path) -> None:
    # the `language` of a sources file was checked, then never read
    spider = _planet(tmp_path)
    response = HtmlResponse("https://planet.test/news/a.html", body=b"<html></html>")
    (item,) = spider.parse_article(response, discovered_via="feed", source="planet")
    assert item.source_language == "fr"
    (other,) = spider.parse_article(response, discovered_via="url")
    assert other.source_language is None


def _rss(*entries: tuple[str, datetime]) -> bytes:
    items = "".join(
        f"<item><title>t</title><link>{url}</link><pubDate>{when:%a, %d %b %Y %H:%M:%S +0000}"
        "</pubDate></item>"
        for url, when in entries
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()


def test_source_rules_and_maximum_age_filter_feed_entries(tmp_path: Path) -> None:
    spider = _planet(tmp_path)
    now = datetime.now(UTC)
    body = _rss(
        ("https://planet.test/news/fresh", now - timedelta(hours=3)),
        ("https://planet.test/news/stale", now - timedelta(days=5)),
        ("https://planet.test/shop/offer", now),
        ("https://elsewhere.test/news/x", now),
    )
    url = "https://planet.test/rss.xml"
    requests = list(spider.parse_feed(XmlResponse(url, body=body, request=Request(url)), "planet"))
    assert [r.url for r in requests] == ["https://planet.test/news/fresh"]
    assert requests[0].cb_kwargs["source"] == "planet"
    assert spider.crawler.stats.get_value("news/discovery/too_old") == 1
    assert spider.crawler.stats.get_value("news/discovery/not_allowed") == 2


def test_a_named_sources_pages_carry_its_name(tmp_path: Path) -> None:
    spider = _planet(tmp_path)
    response = HtmlResponse("https://planet.test/news/a", body=b"<html></html>")
    (item,) = spider.parse_article(response, discovered_via="feed", source="planet")
    assert item.source_name == "planet"  # the publishing host (source) is set later


def test_pages_of_an_ad_hoc_site_carry_no_source_name() -> None:
    spider = _spider(sites="https://www.news.test/")
    (request,) = [r for r in asyncio.run(_start(spider)) if r.url == "https://www.news.test/"]
    assert request.cb_kwargs["source"] == "news.test"  # its rules still apply to its links
    response = HtmlResponse("https://www.news.test/a", body=b"<html></html>")
    (item,) = spider.parse_article(response, discovered_via="link", source="news.test")
    assert item.source_name is None


def test_global_maximum_age_setting(tmp_path: Path) -> None:
    spider = _spider(feeds="https://news.test/rss.xml")
    spider.max_age = timedelta(days=1)
    now = datetime.now(UTC)
    body = _rss(("https://news.test/a", now), ("https://news.test/b", now - timedelta(days=3)))
    url = "https://news.test/rss.xml"
    requests = list(spider.parse_feed(XmlResponse(url, body=body, request=Request(url))))
    assert [r.url for r in requests] == ["https://news.test/a"]


def test_a_sources_maximum_age_wins_over_the_setting(tmp_path: Path) -> None:
    # the spider's own copy of the rule ran, and Source.is_recent, tested, did not
    spider = _planet(tmp_path)  # max_age = "2d"
    spider.max_age = timedelta(days=1)
    now = datetime.now(UTC)
    body = _rss(
        ("https://planet.test/news/a", now - timedelta(hours=36)),
        ("https://planet.test/news/b", now - timedelta(days=3)),
    )
    url = "https://planet.test/rss.xml"
    requests = list(spider.parse_feed(XmlResponse(url, body=body, request=Request(url)), "planet"))
    assert [r.url for r in requests] == ["https://planet.test/news/a"]
    # an entry of no configured source: the setting's
    requests = list(spider.parse_feed(XmlResponse(url, body=body, request=Request(url))))
    assert requests == []


def test_bad_maximum_age_setting_is_a_usage_error() -> None:
    crawler = get_crawler(NewsSpider, settings_dict={"DISCOVERY_MAX_AGE": "soon"})
    with pytest.raises(UsageError, match="DISCOVERY_MAX_AGE"):
        NewsSpider.from_crawler(crawler, urls="https://news.test/a")


def test_sources_start_with_their_feeds_home_and_robots(tmp_path: Path) -> None:
    spider = _planet(tmp_path)
    spider.crawler.engine = SimpleNamespace(downloader=SimpleNamespace(per_slot_settings={}))
    requests = asyncio.run(_start(spider))
    assert {r.url for r in requests} == {
        "https://planet.test/rss.xml",
        "https://planet.test/",
        "https://planet.test/robots.txt",
    }
    # the source's politeness applies to its hosts' download slots
    slots = spider.crawler.engine.downloader.per_slot_settings
    assert slots == {"planet.test": {"delay": 3.0, "concurrency": 1}}
    # every request to a host of the site goes through the site's one slot
    assert {r.meta["download_slot"] for r in requests} == {"planet.test"}
    article = spider.article_request("https://amp.planet.test/a", discovered_via="feed")
    assert article.meta["download_slot"] == "planet.test"
    elsewhere = spider.article_request("https://other.test/a", discovered_via="feed")
    assert "download_slot" not in elsewhere.meta


def test_a_bad_sources_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[[source]]\nname = "x"\nhome = "https://x.test/"\nfeed = []\n')
    with pytest.raises(UsageError, match="unknown key 'feed'"):
        _spider(sources=str(path))
    with pytest.raises(UsageError, match="sources"):
        _spider(sources=str(tmp_path / "missing.toml"))


def test_robots_sitemaps_are_followed(spider: NewsSpider) -> None:
    body = b"User-agent: *\nDisallow: /private/\nSitemap: https://news.test/news-sitemap.xml\n"
    url = "https://news.test/robots.txt"
    requests = list(spider.parse_robots(TextResponse(url, body=body, encoding="utf-8"), "site"))
    assert [r.url for r in requests] == ["https://news.test/news-sitemap.xml"]
    assert requests[0].callback == spider.parse_sitemap
    assert not requests[0].meta.get("probe")


def test_without_robots_sitemaps_the_usual_paths_are_tried(
    spider: NewsSpider, caplog: pytest.LogCaptureFixture
) -> None:
    url = "https://news.test/robots.txt"
    response = TextResponse(url, body=b"User-agent: *\nDisallow:\n", encoding="utf-8")
    requests = list(spider.parse_robots(response, "site"))
    assert [r.url for r in requests] == [
        "https://news.test/sitemap.xml",
        "https://news.test/sitemap_index.xml",
        "https://news.test/news-sitemap.xml",
    ]
    assert all(r.meta["probe"] for r in requests)
    # a guessed path that is missing is normal: counted, not warned about
    missing = _failure(HttpError(Response(requests[0].url, status=404), "404"), requests[0].url)
    missing.request = requests[0]  # type: ignore[attr-defined]
    spider.on_error(missing)
    assert spider.crawler.stats.get_value("news/discovery/probe_missing") == 1
    assert "WARNING" not in caplog.text


def test_two_links_redirecting_to_one_page_add_up_in_the_run_figures(tmp_path: Path) -> None:
    # the second redirect was dropped by the request filter without a word: "2 articles
    # found", one fetched, none skipped or failed
    page = load_site().pages[0]
    with serve() as server:
        server.routes["/a/1.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        server.routes["/r1"] = redirect(server.url("/a/1.html"))
        server.routes["/r2"] = redirect(server.url("/a/1.html"))
        urls = f"urls={server.url('/r1')},{server.url('/r2')}"
        result = run_crawl(tmp_path, "-a", urls, settings=("CONCURRENT_REQUESTS=1",))
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["news/fetch/redirect_duplicates"] == 1
    assert "Redirected to a page already asked for in this crawl" in result.log
    assert "2 articles found, 1 skipped as known, 1 fetched, 1 stored" in result.log


TWO_EDITIONS_TOML = """
[[source]]
name = "lm"
home = "https://lm.test/"
deny = ['/en/']

[[source]]
name = "lm-en"
home = "https://lm.test/en/"
allow = ['/en/']
"""

TWO_EDITIONS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://lm.test/fr/2024/a.html</loc></url>
<url><loc>https://lm.test/en/2024/b.html</loc></url>
<url><loc>https://other.test/2024/c.html</loc></url>
</urlset>"""


def test_a_sitemap_two_sources_share_gives_each_its_articles(tmp_path: Path) -> None:
    # two sources of one site (its French and English editions) share the sitemap its
    # robots.txt names, read once a run for the first source that asks: the other source's
    # articles were left out as "not allowed", silently, run after run
    path = tmp_path / "sources.toml"
    path.write_text(TWO_EDITIONS_TOML, encoding="utf-8")
    crawler = get_crawler(NewsSpider)
    spider = NewsSpider.from_crawler(crawler, sources=str(path))
    crawler.spider = spider
    response = _xml("https://lm.test/sitemap.xml", TWO_EDITIONS_SITEMAP)
    requests = list(spider.parse_sitemap(response, source="lm"))
    assert [(r.url, r.cb_kwargs["source"]) for r in requests] == [
        ("https://lm.test/fr/2024/a.html", "lm"),
        ("https://lm.test/en/2024/b.html", "lm-en"),
    ]
    assert crawler.stats.get_value("news/discovery/not_allowed") == 1  # other.test


def test_two_sources_of_one_site_get_the_more_polite_delay(tmp_path: Path) -> None:
    # the last source's delay and concurrency won for both
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[source]]\nname = "alpha"\nhome = "https://one.test/a/"\ndownload_delay = 3.0\n'
        'concurrency = 1\n[[source]]\nname = "beta"\nhome = "https://one.test/b/"\n'
        "download_delay = 0.0\nconcurrency = 4\n",
        encoding="utf-8",
    )
    crawler = get_crawler(NewsSpider)
    spider = NewsSpider.from_crawler(crawler, sources=str(path))
    downloader = SimpleNamespace(per_slot_settings={})
    crawler.engine = SimpleNamespace(downloader=downloader)  # type: ignore[assignment]
    spider._apply_politeness()
    assert downloader.per_slot_settings["one.test"] == {"delay": 3.0, "concurrency": 1}
