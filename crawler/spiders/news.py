"""The ``news`` spider: finds article pages and fetches them.

Inputs: article URLs, feeds and sitemaps given directly; sites given by their home page; and
named sources from a TOML file (``crawler/sources.py``). From a home page it finds the site's
sitemaps (robots.txt ``Sitemap:`` lines, else the usual paths), its advertised feeds, and
articles and sections by following links, with pagination, to a limited depth.

It discovers and fetches; every transformation happens in the item pipelines. Which listed
articles are not fetched at all because the dataset has them is decided by the incremental
middleware (``crawler/incremental.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import UsageError
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.address_guard import guard_of
from crawler.feeds import feed_links, parse_feed
from crawler.fetch_errors import fetch_error_reason
from crawler.inputs import InputError, read_url_list
from crawler.items import ArticleItem
from crawler.links import (
    extract_links,
    is_listing_url,
    looks_like_article,
    next_page_links,
    parse_page,
)
from crawler.sitemaps import (
    SITEMAP_MAX_SIZE,
    SitemapTooLarge,
    default_sitemap_urls,
    lastmod_datetime,
    news_published_datetime,
    parse_sitemap,
    sitemap_body,
    sitemaps_from_robots,
)
from crawler.sources import (
    Source,
    SourcesError,
    is_recent,
    load_sources,
    site_slots,
    slot_of,
)
from extraction.dates import to_utc
from extraction.urls import url_problem
from pipelines.setting import SettingError, flag, optional_duration
from pipelines.signals import (
    ARTICLE_META,
    article_skipped,
    fetch_failed,
    left_out,
    listing_read,
    request_done,
)
from pipelines.stats import (
    DISCOVERY_DEPTH_LIMITED,
    DISCOVERY_FEED_ENTRIES,
    DISCOVERY_FEED_INVALID,
    DISCOVERY_FEED_MALFORMED,
    DISCOVERY_FEEDS,
    DISCOVERY_LINKED_ARTICLES,
    DISCOVERY_LISTING_ARTICLES,
    DISCOVERY_LISTING_PAGES,
    DISCOVERY_NOT_ALLOWED,
    DISCOVERY_PROBE_MISSING,
    DISCOVERY_ROBOTS_MISSING,
    DISCOVERY_ROBOTS_SITEMAPS,
    DISCOVERY_SITEMAP_INDEXES,
    DISCOVERY_SITEMAP_INVALID,
    DISCOVERY_SITEMAP_LOOPS,
    DISCOVERY_SITEMAP_MALFORMED,
    DISCOVERY_SITEMAP_URLS,
    DISCOVERY_SITEMAPS,
    DISCOVERY_TOO_OLD,
    DISCOVERY_UNUSABLE_URLS,
    FETCH_ERROR,
    FETCH_ERROR_REDIRECT_LOOP,
    FETCH_HTTP_ERROR,
    FETCH_PAGES,
    FETCH_REDIRECT_DUPLICATES,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator, Sequence

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.sitemaps import ParsedSitemap

PROBE_META = "probe"
"""``Request.meta`` key of guessed URLs (the usual sitemap paths): a 404 there is normal."""
SITEMAP_CHAIN_META = "sitemap_chain"
"""``Request.meta`` key of a sitemap's request: the URLs of the sitemap indexes that led to it
(an index that lists itself, or one above it, is a loop)."""


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
_REFUSAL_TEXTS = {
    "not_allowed": "not allowed by the source's rules",
    "too_old": "older than the maximum age",
}


@dataclass(frozen=True)
class CrawlPlan:
    """What one crawl starts from."""

    article_urls: list[str] = field(default_factory=list)
    feed_urls: list[str] = field(default_factory=list)
    sitemap_urls: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


# Arguments Scrapy and Scrapyd pass to every spider, besides the spider's own.
PASSED_THROUGH_ARGUMENTS = frozenset({"_job", "_version", "setting", "settings"})


class NewsSpider(scrapy.Spider):
    """Crawl news articles into the dataset; its arguments are :data:`ARGUMENTS`."""

    ARGUMENTS: ClassVar[dict[str, str]] = {
        "urls": "article pages, fetched directly",
        "feeds": "RSS 2.0, RSS 1.0, Atom or JSON Feed feeds whose entries are articles",
        "sitemaps": "XML sitemaps, Google News sitemaps or sitemap indexes (.xml.gz too), "
        "or text sitemaps (one URL a line)",
        "sites": "home pages of news sites: their sitemaps, feeds and section pages are read",
        "sources": "a TOML file of named sources, each with its own rules (see sources.toml)",
    }
    """The spider's arguments (``-a NAME=VALUE``), one line each. Every URL list is
    comma-separated, or ``@file`` with one URL per line."""

    @classmethod
    def arguments_help(cls) -> str:
        """What ``scrapy crawl news -a help=1`` prints: the arguments, one line each."""
        lines = [f"scrapy crawl {cls.name} -a NAME=VALUE [-a NAME=VALUE ...]; the arguments:"]
        lines += [f"  -a {name}=...  {meaning}" for name, meaning in cls.ARGUMENTS.items()]
        lines.append("  (a URL list is comma-separated, or @file with one URL per line)")
        return "\n".join(lines) + "\n"

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
    def check_arguments(
        cls,
        urls: str | None = None,
        feeds: str | None = None,
        sitemaps: str | None = None,
        sites: str | None = None,
        sources: str | None = None,
        **others: Any,
    ) -> CrawlPlan:
        """The crawl's inputs; ``UsageError`` (one line, no help) for bad arguments."""
        unknown = sorted(set(others) - PASSED_THROUGH_ARGUMENTS)
        if unknown:
            raise UsageError(
                f"unknown spider argument {', '.join(unknown)}: this spider takes "
                f"{', '.join(cls.ARGUMENTS)} (-a help=1 says what each is)",
                print_help=False,
            )
        try:
            named = load_sources(_path_argument(sources)) if sources else []
            plan = CrawlPlan(
                article_urls=read_url_list(urls, argument="-a urls"),
                feed_urls=read_url_list(feeds, argument="-a feeds"),
                sitemap_urls=read_url_list(sitemaps, argument="-a sitemaps"),
                sources=[
                    *named,
                    *(Source.from_site(url) for url in read_url_list(sites, argument="-a sites")),
                ],
            )
        except (InputError, SourcesError, OSError) as exc:
            raise UsageError(str(exc), print_help=False) from None
        names = [source.name for source in plan.sources]
        if len(set(names)) != len(names):
            raise UsageError(f"a source is given twice: {sorted(names)}", print_help=False)
        if not (plan.article_urls or plan.feed_urls or plan.sitemap_urls or plan.sources):
            raise UsageError(
                "nothing to crawl: give -a urls=, -a feeds=, -a sitemaps=, -a sites= and/or "
                "-a sources= (-a help=1 says what each is)",
                print_help=False,
            )
        return plan

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

    def _entry_source(self, url: str, source: str | None) -> str | None:
        """The source a listed article belongs to: the listing's, when its rules allow it;
        else another configured source whose rules allow it (two sources of one site, such as
        its French and English editions, share the sitemaps its robots.txt names, and each
        listing is read once a run, for the first source that asks); else the listing's, which
        leaves it out."""
        known = self.sources.get(source) if source else None
        if known is None or known.allows(url):
            return source
        for name, other in self.sources.items():
            if name != source and other.allows(url):
                return name
        return source

    def _refusal(self, url: str, source: str | None, listed: datetime | None) -> str | None:
        """Why a listed article is not to be fetched (``not_allowed``: off its source's site,
        or not allowed by its patterns; ``too_old``: older than the maximum age), counted; or
        ``None`` when it is."""
        stats = self.crawler.stats
        assert stats is not None
        known = self.sources.get(source) if source else None
        if known is not None and not known.allows(url):
            stats.inc_value(DISCOVERY_NOT_ALLOWED.name)
            return "not_allowed"
        # the source's max_age wins (one of 0 is none); else DISCOVERY_MAX_AGE
        max_age = (known.max_age if known is not None else None) or self.max_age
        if not is_recent(to_utc(listed), max_age, now=datetime.now(UTC)):
            stats.inc_value(DISCOVERY_TOO_OLD.name)
            return "too_old"
        return None

    def _left_out(self, response: Response, kind: str, listed: int, refused: Refused) -> None:
        """One line for the entries of a feed or sitemap left out by the sources' rules: a
        warning when a feed's every entry was, by the source's patterns (a pattern that
        matches none of them), else an INFO line (a listing keeps old entries; a site's
        sitemaps list its videos and tags too; two sources share a site's sitemaps)."""
        if not refused.counts:
            return
        self.crawler.signals.send_catch_log(
            signal=left_out, request=response.request, counts=dict(refused.counts)
        )
        count = sum(refused.counts.values())
        reasons = ", ".join(f"{_REFUSAL_TEXTS[why]}: {n}" for why, n in refused.counts.items())
        typo = kind == "feed" and refused.counts.get("not_allowed") == listed
        self.logger.log(
            logging.WARNING if typo else logging.INFO,
            "%s %s: %d of its %d entries left out (%s; the first: %s)",
            kind.capitalize(),
            response.url,
            count,
            listed,
            reasons,
            refused.first[:200],
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

    def _unusable_urls(self, response: Response, kind: str, skipped: Sequence[str]) -> None:
        """One warning for the entries of a feed or sitemap left out because their URL cannot
        be fetched (``mailto:``, a malformed host or port), counted one by one."""
        if not skipped:
            return
        self.crawler.stats.inc_value(DISCOVERY_UNUSABLE_URLS.name, len(skipped))
        first = skipped[0]
        self.logger.warning(
            "%s %s: %d entries left out, their URL cannot be fetched (the first: %s)",
            kind.capitalize(),
            response.url,
            len(skipped),
            f"{first[:200]!r}, {url_problem(first) or 'not an absolute URL'}"
            if first
            else "an entry with no URL",
        )

    def parse_feed(self, response: Response, source: str | None = None) -> Iterator[scrapy.Request]:
        """Requests for the entries of an RSS or Atom feed."""
        stats = self.crawler.stats
        feed = parse_feed(response.body, response.url)
        if not feed.is_feed:
            stats.inc_value(DISCOVERY_FEED_INVALID.name)
            self.logger.warning("Not a feed, ignored: %s", response.url)
            self._listing_read(response, "feed", 0, "invalid")
            return
        self._listing_read(response, "feed", len(feed.entries), "malformed" if feed.error else None)
        if feed.error:
            stats.inc_value(DISCOVERY_FEED_MALFORMED.name)
            self.logger.warning(
                "Malformed feed %s (%s); using the %d entries read before the error",
                response.url,
                feed.error,
                len(feed.entries),
            )
        self._unusable_urls(response, "feed", feed.skipped)
        stats.inc_value(DISCOVERY_FEEDS.name)
        stats.inc_value(DISCOVERY_FEED_ENTRIES.name, len(feed.entries))
        self.logger.info("Feed %s lists %d articles", response.url, len(feed.entries))
        listed = ((entry.url, entry.title, entry.published_at, None) for entry in feed.entries)
        yield from self._listed_articles(response, "feed", source, listed, len(feed.entries))

    def parse_sitemap(
        self, response: Response, source: str | None = None
    ) -> Iterator[scrapy.Request]:
        """Requests for the URLs of a sitemap, or for the sitemaps of a sitemap index."""
        stats = self.crawler.stats
        max_size = response.meta.get("download_maxsize") or self.settings.getint("DOWNLOAD_MAXSIZE")
        try:
            xml = sitemap_body(response.body, max_size=max_size)
        except (SitemapTooLarge, OSError) as exc:
            stats.inc_value(DISCOVERY_SITEMAP_INVALID.name)
            self.logger.warning("Unreadable sitemap %s: %s", response.url, exc)
            self._listing_read(response, "sitemap", 0, "unreadable")
            return
        sitemap = parse_sitemap(xml, response.url)
        if sitemap.kind is None:
            if response.meta.get(PROBE_META):
                return  # a guessed sitemap path that holds something else
            stats.inc_value(DISCOVERY_SITEMAP_INVALID.name)
            self.logger.warning("Not a sitemap, ignored: %s", response.url)
            self._listing_read(response, "sitemap", 0, "invalid")
            return
        urls = len(sitemap.entries) if sitemap.kind != "sitemapindex" else 0
        self._listing_read(response, "sitemap", urls, "malformed" if sitemap.error else None)
        if sitemap.error:
            stats.inc_value(DISCOVERY_SITEMAP_MALFORMED.name)
            self.logger.warning(
                "Malformed sitemap %s (%s); using the %d URLs read",
                response.url,
                sitemap.error,
                len(sitemap.entries),
            )
        self._unusable_urls(response, "sitemap", sitemap.skipped)
        stats.inc_value(DISCOVERY_SITEMAPS.name)
        self.logger.info(
            "Sitemap %s (%s) lists %d URLs", response.url, sitemap.kind, len(sitemap.entries)
        )
        if sitemap.kind == "sitemapindex":
            stats.inc_value(DISCOVERY_SITEMAP_INDEXES.name)
            yield from self._sitemap_index(response, sitemap, source)
            return
        stats.inc_value(DISCOVERY_SITEMAP_URLS.name, len(sitemap.entries))
        listed = (
            (entry.url, entry.news_title, news_published_datetime(entry), lastmod_datetime(entry))
            for entry in sitemap.entries
        )
        yield from self._listed_articles(response, "sitemap", source, listed, len(sitemap.entries))

    def _listed_articles(
        self,
        response: Response,
        kind: str,
        source: str | None,
        entries: Iterable[tuple[str, str | None, datetime | None, datetime | None]],
        count: int,
    ) -> Iterator[scrapy.Request]:
        """Requests for the ``count`` entries of a feed or sitemap (URL, title, publication
        and modification time), each for the source whose rules allow it, but for those the
        rules leave out (one line for them all: :meth:`_left_out`)."""
        refused = Refused()
        for url, title, published, modified in entries:
            owner = self._entry_source(url, source)
            why = self._refusal(url, owner, published or modified)
            if why is not None:
                refused.add(why, url)
                continue
            yield self.article_request(
                url,
                discovered_via=kind,
                source=owner,
                listed_title=title,
                listed_published_at=published,
                listed_modified_at=modified,
            )
        self._left_out(response, kind, count, refused)

    def _sitemap_index(
        self, response: Response, index: ParsedSitemap, source: str | None
    ) -> Iterator[scrapy.Request]:
        """Requests for the sitemaps of a sitemap index, but for those that lead back to it
        (the index itself, or an index that led to it): one warning and
        ``news/discovery/sitemap_loops`` for them."""
        chain = (
            *response.meta.get(SITEMAP_CHAIN_META, ()),
            *response.meta.get("redirect_urls", ()),
            response.url,
        )
        loops = [entry.url for entry in index.entries if entry.url in chain]
        if loops:
            self.crawler.stats.inc_value(DISCOVERY_SITEMAP_LOOPS.name, len(loops))
            self.logger.warning(
                "Sitemap index %s lists itself or an index above it (%s; %d entries): not read "
                "again",
                response.url,
                ", ".join(dict.fromkeys(loops[:3])),
                len(loops),
            )
        for entry in index.entries:
            if entry.url not in chain:
                request = self._listing(entry.url, self.parse_sitemap, source=source, start=False)
                request.meta[SITEMAP_CHAIN_META] = chain
                yield request

    def parse_robots(
        self, response: Response, source: str | None = None
    ) -> Iterator[scrapy.Request]:
        """The sitemaps a site's robots.txt names; the usual paths when it names none, or has
        none (answered 4xx: a site without robots.txt was never looked at for a sitemap, and
        its missing robots.txt counted as a failed fetch)."""
        if response.status >= 400:
            self.crawler.stats.inc_value(DISCOVERY_ROBOTS_MISSING.name)
            self.logger.info("No robots.txt at %s (HTTP %d)", response.url, response.status)
        named = sitemaps_from_robots(response.body, response.url) if response.status < 400 else []
        self.crawler.stats.inc_value(DISCOVERY_ROBOTS_SITEMAPS.name, len(named))
        for url in named:
            yield self._listing(url, self.parse_sitemap, source=source, start=False)
        if not named:
            for url in default_sitemap_urls(response.url):
                yield self._listing(url, self.parse_sitemap, source=source, start=False, probe=True)

    def parse_listing(
        self, response: Response, source: str | None = None, depth: int = 0
    ) -> Iterator[scrapy.Request]:
        """Articles, sections and next pages linked from a home or section page (never stored
        as an article itself)."""
        known = self.sources.get(source) if source else None
        if known is None or not isinstance(response, TextResponse):
            return
        stats = self.crawler.stats
        stats.inc_value(DISCOVERY_LISTING_PAGES.name)
        page = parse_page(response.text)  # parsed once for the three link searches
        if page is None:
            self._listing_read(response, "page", 0, "unreadable")
            return
        self._listing_read(response, "page", 0, None)
        if depth == 0 and not known.feeds:
            # a feed the site advertises may live on another host (feeds.example-cdn.com), as
            # the sitemaps its robots.txt names may; its entries still pass the source's rules
            for url in feed_links(page, response.url):
                if not known.is_denied(url):
                    yield self._listing(url, self.parse_feed, source=source, start=False)
        listings: list[str] = []  # its sections and next pages
        for url in extract_links(page, response.url):
            if not known.may_follow(url):
                continue
            # a source's allow patterns say what its articles are; the URL's shape guesses
            # for a source without (a source's /story/ links were never asked for)
            if known.allows(url) and (known.allow or looks_like_article(url)):
                stats.inc_value(DISCOVERY_LINKED_ARTICLES.name)
                yield self.article_request(url, discovered_via="link", source=source)
            elif depth == 0 or is_listing_url(url):
                listings.append(url)
        listings.extend(url for url in next_page_links(page, response.url) if known.may_follow(url))
        if not known.follow_links or not listings:
            return
        if depth < known.max_depth:
            for url in listings:
                yield self._listing(
                    url, self.parse_listing, source=source, depth=depth + 1, start=False
                )
            return
        # what max_depth leaves unread is said, so a listing cut short is not silent
        stats.inc_value(DISCOVERY_DEPTH_LIMITED.name, len(listings))
        self.crawler.signals.send_catch_log(
            signal=left_out, request=response.request, counts={"depth_limited": len(listings)}
        )
        self.logger.debug(
            "%d listing links of %s not followed: the page is at its source's max_depth (depth %d)",
            len(listings),
            response.url,
            depth,
        )

    def _listing_read(
        self, response: Response, kind: str, entries: int, problem: str | None
    ) -> None:
        self.crawler.signals.send_catch_log(
            signal=listing_read,
            request=response.request,
            kind=kind,
            entries=entries,
            problem=problem,
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


@dataclass
class Refused:
    """The entries of one listing left out, counted by reason, and the first of them."""

    counts: dict[str, int] = field(default_factory=dict)
    first: str = ""

    def add(self, why: str, url: str) -> None:
        self.counts[why] = self.counts.get(why, 0) + 1
        self.first = self.first or url


def _path_argument(value: str) -> Path:
    return Path(value.removeprefix("@")).expanduser()


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
