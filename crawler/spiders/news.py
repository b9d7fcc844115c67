"""The ``news`` spider: finds article pages and fetches them.

Inputs: article URLs, feeds and sitemaps given directly; sites given by their home page; and
named sources from a TOML file (``crawler/sources.py``). From a home page it finds the site's
sitemaps (robots.txt ``Sitemap:`` lines, else the usual paths), its advertised feeds, and
articles and sections by following links, with pagination, to a limited depth.

It discovers and fetches; every transformation happens in the item pipelines. Which listed
articles are not fetched at all because the dataset has them is decided by the incremental
middleware (``crawler/incremental.py``).

Its arguments, their help and their check are in ``crawler/spiders/arguments.py``, the
callbacks that read listings (feeds, sitemaps, robots.txt, home and section pages) in
``crawler/spiders/listings.py``: both mixins of :class:`NewsSpider`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import UsageError
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.address_guard import guard_of
from crawler.fetch_errors import fetch_error_reason
from crawler.items import ArticleItem
from crawler.sitemaps import SITEMAP_MAX_SIZE
from crawler.sources import site_slots, slot_of
from crawler.spiders.arguments import SpiderArguments
from crawler.spiders.listings import PROBE_META, ListingCallbacks
from pipelines.setting import SettingError, flag, optional_duration
from pipelines.signals import (
    ARTICLE_META,
    article_skipped,
    fetch_failed,
    request_done,
)
from pipelines.stats import (
    DISCOVERY_LISTING_ARTICLES,
    DISCOVERY_PROBE_MISSING,
    FETCH_ERROR,
    FETCH_ERROR_REDIRECT_LOOP,
    FETCH_HTTP_ERROR,
    FETCH_PAGES,
    FETCH_REDIRECT_DUPLICATES,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.sources import Source

DISCOVERY_MAX_AGE = optional_duration(
    "DISCOVERY_MAX_AGE",
    "feed and sitemap entries dated earlier than this are not fetched; a source's `max_age` wins",
    unset="empty (no limit)",
)
DISCOVERY_REFETCH_START = flag(
    "DISCOVERY_REFETCH_START",
    True,
    "fetch the start listings (feeds, sitemaps, home pages) on every run, past the request "
    "filter; the Redis add-on turns it off, as each worker runs `start()` and the shared "
    "filter of a run lets one of them fetch each",
)
SETTINGS = (DISCOVERY_MAX_AGE, DISCOVERY_REFETCH_START)


_LISTING_KINDS = {"parse_feed": "feed", "parse_sitemap": "sitemap", "parse_listing": "page"}
"""The kind of listing each callback reads (what a failed request was for)."""
ROBOTS_MISSING = [400, 401, 403, 404, 410]
"""robots.txt answers that mean the site has none to give (its sitemaps are then looked for at
the usual paths; RFC 9309 2.3.1.3 reads them as "no rules")."""


class NewsSpider(SpiderArguments, ListingCallbacks, scrapy.Spider):
    """Crawl news articles into the dataset; its arguments are :data:`ARGUMENTS`."""

    name = "news"

    def __init__(
        self,
        urls: str | None = None,
        feeds: str | None = None,
        sitemaps: str | None = None,
        sites: str | None = None,
        sources: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = self.check_arguments(
            urls=urls, feeds=feeds, sitemaps=sitemaps, sites=sites, sources=sources, **kwargs
        )
        self.sources = {source.name: source for source in self.plan.sources}
        self.named_sources = frozenset(source.name for source in self.plan.sources if source.named)
        """Names of the sources of ``-a sources=``: the ``source_name`` of their pages."""
        self.site_slots = site_slots(self.plan.sources)
        """Download slot settings of the sources that set a delay or concurrency, by domain."""
        self.listing_pages: set[bytes] = set()
        """Request fingerprints of the pages asked for as listings (home, sections: a few per
        source), which an article request of the same URL must not be filtered out by."""
        self.max_age: timedelta | None = None
        self.sitemap_max_size = SITEMAP_MAX_SIZE
        """Largest sitemap read (``download_maxsize`` of sitemap requests); 0: no limit."""
        self.refetch_start_listings = True
        """Start listings bypass the request filter (``DISCOVERY_REFETCH_START``, read in
        :meth:`start`)."""

    @property
    def given_urls(self) -> list[str]:
        """Every URL the crawl was given (and its sources' domains, over HTTP and HTTPS): the
        origins the address guard trusts (``crawler/address_guard.py``)."""
        found = [*self.plan.article_urls, *self.plan.feed_urls, *self.plan.sitemap_urls]
        for source in self.plan.sources:
            found += [*filter(None, [source.home]), *source.feeds, *source.sitemaps]
            found += [f"{scheme}://{domain}/" for domain in source.allowed_domains
                      for scheme in ("http", "https")]  # fmt: skip
        return found

    @property
    def article_urls(self) -> list[str]:
        return self.plan.article_urls

    @property
    def feed_urls(self) -> list[str]:
        return self.plan.feed_urls

    @property
    def sitemap_urls(self) -> list[str]:
        return self.plan.sitemap_urls

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        try:
            spider.max_age = DISCOVERY_MAX_AGE.read(crawler.settings)
        except SettingError as exc:
            raise UsageError(str(exc), print_help=False) from None
        max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        # The sitemap protocol allows 50 MB per sitemap, more than an article page needs.
        spider.sitemap_max_size = max(max_size, SITEMAP_MAX_SIZE) if max_size else 0
        crawler.signals.connect(spider.on_request_dropped, signal=signals.request_dropped)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # Read here, not in from_crawler: Scrapy applies the add-ons (the Redis one turns it
        # off: several workers run start() each, and the shared request filter of a run lets
        # one of them fetch each start listing) after it makes the spider.
        self.refetch_start_listings = DISCOVERY_REFETCH_START.read(self.settings)
        self._apply_politeness()
        for url in self.plan.sitemap_urls:
            yield self._listing(url, self.parse_sitemap)
        for url in self.plan.feed_urls:
            yield self._listing(url, self.parse_feed)
        for source in self.plan.sources:
            for request in self._source_requests(source):
                yield request
        for url in self.plan.article_urls:
            yield self.article_request(url, discovered_via="url")

    def _source_requests(self, source: Source) -> Iterator[scrapy.Request]:
        for url in source.sitemaps:
            yield self._listing(url, self.parse_sitemap, source=source.name)
        for url in source.feeds:
            yield self._listing(url, self.parse_feed, source=source.name)
        if source.home:
            yield self._listing(source.home, self.parse_listing, source=source.name, depth=0)
            if not source.sitemaps:
                yield self._listing(
                    urljoin(source.home, "/robots.txt"), self.parse_robots, source=source.name
                )

    def _apply_politeness(self) -> None:
        """Per-source delay and concurrency, as download slot settings of the source's sites.

        Scrapy reads ``DOWNLOAD_SLOTS`` into the downloader's ``per_slot_settings`` when the
        crawl starts, before the spider knows its sources file; the sources' entries are added
        there, before the first request, one slot per allowed domain, and the spider's requests
        to any host of the domain (``www.``, ``amp.``, ``edition.`` ...) name that slot
        (``download_slot``): Scrapy's slots are per host, so a subdomain was fetched at the
        crawl's default pace, and ``www.`` beside the bare domain at twice the source's.
        """
        if not self.site_slots:
            return
        engine = self.crawler.engine
        for domain, slot in self.site_slots.items():
            engine.downloader.per_slot_settings[domain] = slot

    def _slot_meta(self, url: str, meta: dict[str, Any]) -> dict[str, Any]:
        """``meta`` with the ``download_slot`` of the source's site ``url`` is on, if any."""
        if self.site_slots and (slot := slot_of(url, self.site_slots)) is not None:
            meta["download_slot"] = slot
        return meta

    # --- requests ---------------------------------------------------------------------------

    def _listing(
        self,
        url: str,
        callback: Any,
        *,
        source: str | None = None,
        depth: int | None = None,
        start: bool = True,
        probe: bool = False,
    ) -> scrapy.Request:
        """A request for a listing (feed, sitemap, robots.txt, home or section page).

        Start listings are fetched on every run (they are how new articles are found; the HTTP
        cache makes that cheap); listings found by following links are fetched once a run.
        """
        cb_kwargs: dict[str, Any] = {"source": source}
        if depth is not None:
            cb_kwargs["depth"] = depth
        meta: dict[str, Any] = {PROBE_META: True} if probe else {}
        if callback == self.parse_sitemap:
            meta["download_maxsize"] = self.sitemap_max_size
        if callback == self.parse_robots:
            meta["handle_httpstatus_list"] = ROBOTS_MISSING
        request = scrapy.Request(
            url,
            callback=callback,
            errback=self.on_error,
            dont_filter=start and self.refetch_start_listings,
            cb_kwargs=cb_kwargs,
            meta=self._slot_meta(url, meta),
        )
        if callback == self.parse_listing:
            self.listing_pages.add(self._fingerprint(request))
        return request

    def _fingerprint(self, request: scrapy.Request) -> bytes:
        return self.crawler.request_fingerprinter.fingerprint(request)

    def article_request(
        self,
        url: str,
        *,
        discovered_via: str,
        source: str | None = None,
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
            meta=self._slot_meta(url, {ARTICLE_META: True, "dont_cache": True}),
            cb_kwargs={
                "discovered_via": discovered_via,
                "source": source,
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
        discovered_via: str = "url",
        source: str | None = None,
        listed_title: str | None = None,
        listed_published_at: datetime | None = None,
        listed_modified_at: datetime | None = None,
        refetch: bool = False,
    ) -> Iterator[ArticleItem]:
        """An article candidate; the extract stage decides whether it is one. A page asked for
        without ``discovered_via`` (``scrapy parse -c parse_article URL``) was given directly."""
        self.crawler.stats.inc_value(FETCH_PAGES.name)
        yield ArticleItem(
            url=response.url,
            fetched_at=datetime.now(UTC),
            html=response.body,
            content_type=_header(response, b"Content-Type"),
            discovered_via=discovered_via,
            source_name=source if source in self.named_sources else None,
            source_language=known.language if (known := self.sources.get(source or "")) else None,
            listed_title=listed_title,
            listed_published_at=listed_published_at,
            listed_modified_at=listed_modified_at,
            refetch=refetch,
        )

    def _fetch_failed(self, request: scrapy.Request, kind: str) -> None:
        callback = getattr(request.callback, "__name__", "")
        self.crawler.signals.send_catch_log(
            signal=fetch_failed,
            request=request,
            kind=kind,
            listing=_LISTING_KINDS.get(callback),
        )

    def on_error(self, failure: Failure) -> None:
        """One log line and one counter per failed request, never a traceback."""
        request = failure.request  # type: ignore[attr-defined]
        self.crawler.signals.send_catch_log(signal=request_done, request=request)
        stats = self.crawler.stats
        if isinstance(failure.value, HttpError):
            status = failure.value.response.status
            if request.meta.get(PROBE_META):
                stats.inc_value(DISCOVERY_PROBE_MISSING.name)
                self.logger.debug("No sitemap at %s (HTTP %d)", request.url, status)
                return
            stats.inc_value(FETCH_HTTP_ERROR.of(status))
            if getattr(request.callback, "__name__", "") != "parse_robots" or not (
                status >= 500 or status == 429
            ):  # else the robots.txt middleware counted it for the source (robots_http_...)
                self._fetch_failed(request, f"http_{status}")
            retries = request.meta.get("retry_times", 0)
            retried = f" (retried {retries} times)" if retries else ""
            self.logger.warning("HTTP %d, skipped: %s%s", status, request.url, retried)
            return
        reason, description = fetch_error_reason(failure.value)
        stats.inc_value(FETCH_ERROR.of(reason))
        self._fetch_failed(request, reason)
        # the URL that was asked for, and where its redirects led
        chain = request.meta.get("redirect_urls") or []
        redirected = f" (redirected to {request.url})" if chain else ""
        retries = request.meta.get("retry_times", 0)
        self.logger.warning(
            "Fetch failed (%s: %s%s): %s%s",
            reason,
            description,
            f"; retried {retries} times" if retries else "",
            chain[0] if chain else request.url,
            redirected,
        )

    def on_request_dropped(self, request: scrapy.Request) -> None:
        """A redirect back to a URL of its own chain (a redirect loop) is dropped by the
        duplicate filter without a word: count and log it like a failed fetch. So is an
        article's redirect to a page asked for already in this crawl (two links to one page):
        counted, and skipped as known in the run's figures (it was neither fetched nor lost)."""
        chain = request.meta.get("redirect_urls") or []
        if not chain and request.meta.get(ARTICLE_META) and self._shadowed(request):
            return
        if request.url.partition("#")[0] not in {url.partition("#")[0] for url in chain}:
            guard = guard_of(self.crawler) if chain else None
            reason = guard.refusal_of(request) if guard is not None else None
            if reason is not None and request.meta.get(ARTICLE_META):
                # a redirect the guard refused before (every article of a site sent to one
                # page on another domain): failed as the first, not skipped as known
                self.crawler.stats.inc_value(FETCH_ERROR.of(reason))
                self._fetch_failed(request, reason)
                self.logger.info(
                    "Fetch failed (%s, as before: %s): %s", reason, request.url, chain[0]
                )
                return
            if chain and request.meta.get(ARTICLE_META):
                self.crawler.stats.inc_value(FETCH_REDIRECT_DUPLICATES.name)
                self.logger.info(
                    "Redirected to a page already asked for in this crawl: %s -> %s",
                    chain[0],
                    request.url,
                )
                self.crawler.signals.send_catch_log(
                    article_skipped, request=request.replace(url=chain[0]), reason="known"
                )
            return
        self.crawler.stats.inc_value(FETCH_ERROR_REDIRECT_LOOP.name)
        self._fetch_failed(request, "redirect_loop")
        self.logger.warning(
            "Fetch failed (redirect_loop: redirected back to %s after %d redirects): %s",
            request.url,
            len(chain),
            chain[0],
        )

    def _shadowed(self, request: scrapy.Request) -> bool:
        """Ask again for an article filtered out as a duplicate of a page asked for as a
        listing (a home page's link that does not look like an article is followed as a
        section; the sitemap then lists it as an article, and it was lost without a word, the
        run's figures not adding up); ``True`` when it is asked again."""
        fingerprint = self._fingerprint(request)
        if fingerprint not in self.listing_pages:
            return False
        self.listing_pages.discard(fingerprint)  # once: the article's own request is filtered
        self.crawler.stats.inc_value(DISCOVERY_LISTING_ARTICLES.name)
        self.logger.debug("Asked for again as an article: %s", request.url)
        engine = self.crawler.engine
        assert engine is not None
        from twisted.internet import reactor  # noqa: PLC0415 - the one the crawl installed

        # not from within the scheduler's own enqueue, which sent the signal
        later: Any = reactor
        later.callLater(0, engine.crawl, request.replace(dont_filter=True))
        return True


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
