"""The ``news`` spider: fetches article pages given directly, from feeds and from sitemaps.

It discovers and fetches; every transformation happens in the item pipelines.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import UsageError
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from crawler.feeds import parse_feed
from crawler.incremental import ARTICLE_META
from crawler.inputs import InputError, read_url_list
from crawler.items import ArticleItem
from crawler.sitemaps import SitemapTooLarge, lastmod_datetime, parse_sitemap, sitemap_body

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure


class NewsSpider(scrapy.Spider):
    """Crawl news articles into the dataset.

    Arguments (each a comma-separated list, or ``@file`` with one URL per line):

    * ``urls``: article pages, fetched directly;
    * ``feeds``: RSS 2.0, RSS 1.0 or Atom feeds whose entries are articles;
    * ``sitemaps``: XML sitemaps or sitemap indexes (``.xml`` or ``.xml.gz``).
    """

    name = "news"

    def __init__(
        self,
        urls: str | None = None,
        feeds: str | None = None,
        sitemaps: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.article_urls, self.feed_urls, self.sitemap_urls = self.check_arguments(
            urls=urls, feeds=feeds, sitemaps=sitemaps
        )

    @classmethod
    def check_arguments(
        cls,
        urls: str | None = None,
        feeds: str | None = None,
        sitemaps: str | None = None,
        **_: Any,
    ) -> tuple[list[str], list[str], list[str]]:
        """The spider's URL lists; ``UsageError`` (one line, no help) for bad arguments."""
        try:
            lists = (
                read_url_list(urls, argument="-a urls"),
                read_url_list(feeds, argument="-a feeds"),
                read_url_list(sitemaps, argument="-a sitemaps"),
            )
        except InputError as exc:
            raise UsageError(str(exc), print_help=False) from None
        if not any(lists):
            raise UsageError(
                "nothing to crawl: give -a urls=..., -a feeds=... and/or -a sitemaps=...",
                print_help=False,
            )
        return lists

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.sitemap_urls:
            yield self._listing_request(url, self.parse_sitemap)
        for url in self.feed_urls:
            yield self._listing_request(url, self.parse_feed)
        for url in self.article_urls:
            yield self.article_request(url, discovered_via="url")

    # --- requests ---------------------------------------------------------------------------

    def _listing_request(self, url: str, callback: Any) -> scrapy.Request:
        # Feeds and sitemaps are always fetched again: they are how new articles are found.
        return scrapy.Request(url, callback=callback, errback=self.on_error, dont_filter=True)

    def article_request(
        self,
        url: str,
        *,
        discovered_via: str,
        listed_title: str | None = None,
        listed_published_at: datetime | None = None,
        listed_modified_at: datetime | None = None,
    ) -> scrapy.Request:
        """The request for one article page, carrying what the listing said about it.

        Marked as an article (``meta["article"]``): the incremental middleware drops it when
        the dataset holds the page already. Never cached (only listings are).
        """
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={ARTICLE_META: True, "dont_cache": True},
            cb_kwargs={
                "discovered_via": discovered_via,
                "listed_title": listed_title,
                "listed_published_at": listed_published_at,
                "listed_modified_at": listed_modified_at,
            },
        )

    # --- callbacks --------------------------------------------------------------------------

    def parse_article(
        self,
        response: Response,
        *,
        discovered_via: str,
        listed_title: str | None = None,
        listed_published_at: datetime | None = None,
        listed_modified_at: datetime | None = None,
        refetch: bool = False,
    ) -> Iterator[ArticleItem]:
        """An article candidate; the extract stage decides whether it is one."""
        self.crawler.stats.inc_value("news/fetch/pages")
        yield ArticleItem(
            url=response.url,
            fetched_at=datetime.now(UTC),
            html=response.body,
            content_type=_header(response, b"Content-Type"),
            discovered_via=discovered_via,
            listed_title=listed_title,
            listed_published_at=listed_published_at,
            listed_modified_at=listed_modified_at,
            refetch=refetch,
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Requests for the entries of an RSS or Atom feed."""
        stats = self.crawler.stats
        feed = parse_feed(response.body, response.url)
        if not feed.is_feed:
            stats.inc_value("news/discovery/feed_invalid")
            self.logger.warning("Not a feed, ignored: %s", response.url)
            return
        if feed.error:
            stats.inc_value("news/discovery/feed_malformed")
            self.logger.warning(
                "Malformed feed %s (%s); using the %d entries read before the error",
                response.url,
                feed.error,
                len(feed.entries),
            )
        stats.inc_value("news/discovery/feeds")
        stats.inc_value("news/discovery/feed_entries", len(feed.entries))
        self.logger.info("Feed %s lists %d articles", response.url, len(feed.entries))
        for entry in feed.entries:
            yield self.article_request(
                entry.url,
                discovered_via="feed",
                listed_title=entry.title,
                listed_published_at=entry.published_at,
            )

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Requests for the URLs of a sitemap, or for the sitemaps of a sitemap index."""
        stats = self.crawler.stats
        max_size = response.meta.get("download_maxsize") or self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            xml = sitemap_body(response.body, max_size=max_size)
        except (SitemapTooLarge, OSError) as exc:
            stats.inc_value("news/discovery/sitemap_invalid")
            self.logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            return
        sitemap = parse_sitemap(xml, response.url)
        if sitemap.kind is None:
            stats.inc_value("news/discovery/sitemap_invalid")
            self.logger.warning("Not a sitemap, ignored: %s", response.url)
            return
        stats.inc_value("news/discovery/sitemaps")
        self.logger.info(
            "Sitemap %s (%s) lists %d URLs", response.url, sitemap.kind, len(sitemap.entries)
        )
        if sitemap.kind == "sitemapindex":
            for entry in sitemap.entries:
                yield self._listing_request(entry.url, self.parse_sitemap)
            return
        stats.inc_value("news/discovery/sitemap_urls", len(sitemap.entries))
        for entry in sitemap.entries:
            yield self.article_request(
                entry.url, discovered_via="sitemap", listed_modified_at=lastmod_datetime(entry)
            )

    def on_error(self, failure: Failure) -> None:
        """One log line and one counter per failed request, never a traceback."""
        request = failure.request  # type: ignore[attr-defined]
        stats = self.crawler.stats
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            stats.inc_value(f"news/fetch/http_error/{status}")
            self.logger.warning("HTTP %d, skipped: %s", status, request.url)
            return
        if failure.check(DNSLookupError):
            reason = "dns"
        elif failure.check(TimeoutError, TCPTimedOutError):
            reason = "timeout"
        else:
            reason = type(failure.value).__name__
        stats.inc_value(f"news/fetch/error/{reason}")
        self.logger.warning("Fetch failed (%s: %s): %s", reason, failure.value, request.url)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
