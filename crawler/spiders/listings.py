"""The ``news`` spider's callbacks that read listings: feeds, sitemaps and sitemap indexes,
robots.txt, and home or section pages, into requests for the articles (and further listings)
they name, but for the entries the sources' rules leave out.

:class:`ListingCallbacks` is a mixin of :class:`crawler.spiders.news.NewsSpider`, which makes
the requests (``_listing``, ``article_request``): the callbacks stay methods of the spider, as
Scrapy finds a request's callback by its name on the spider (disk queues, the Redis mode).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from scrapy.http import TextResponse

from crawler.feeds import feed_links, parse_feed
from crawler.links import (
    extract_links,
    is_listing_url,
    looks_like_article,
    next_page_links,
    parse_page,
)
from crawler.sitemaps import (
    SitemapTooLarge,
    default_sitemap_urls,
    lastmod_datetime,
    news_published_datetime,
    parse_sitemap,
    sitemap_body,
    sitemaps_from_robots,
)
from crawler.sources import is_recent
from extraction.dates import to_utc
from extraction.urls import url_problem
from pipelines.signals import left_out, listing_read
from pipelines.stats import (
    DISCOVERY_DEPTH_LIMITED,
    DISCOVERY_FEED_ENTRIES,
    DISCOVERY_FEED_INVALID,
    DISCOVERY_FEED_MALFORMED,
    DISCOVERY_FEEDS,
    DISCOVERY_LINKED_ARTICLES,
    DISCOVERY_LISTING_PAGES,
    DISCOVERY_NOT_ALLOWED,
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
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from datetime import timedelta

    import scrapy
    from scrapy.http import Response

    from crawler.sitemaps import ParsedSitemap
    from crawler.sources import Source

    _Spider = scrapy.Spider
else:
    _Spider = object  # a mixin: the spider (crawler, logger, settings) is NewsSpider's base

PROBE_META = "probe"
"""``Request.meta`` key of guessed URLs (the usual sitemap paths): a 404 there is normal."""
SITEMAP_CHAIN_META = "sitemap_chain"
"""``Request.meta`` key of a sitemap's request: the URLs of the sitemap indexes that led to it
(an index that lists itself, or one above it, is a loop)."""
_REFUSAL_TEXTS = {
    "not_allowed": "not allowed by the source's rules",
    "too_old": "older than the maximum age",
}


class ListingCallbacks(_Spider):
    """The callbacks of :class:`~crawler.spiders.news.NewsSpider` that read listings, and the
    helpers only they use; what they take from the spider is declared here."""

    sources: dict[str, Source]
    max_age: timedelta | None
    _listing: Callable[..., scrapy.Request]
    article_request: Callable[..., scrapy.Request]

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


@dataclass
class Refused:
    """The entries of one listing left out, counted by reason, and the first of them."""

    counts: dict[str, int] = field(default_factory=dict)
    first: str = ""

    def add(self, why: str, url: str) -> None:
        self.counts[why] = self.counts.get(why, 0) + 1
        self.first = self.first or url
