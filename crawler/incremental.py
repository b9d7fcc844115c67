"""Incremental crawls: article requests for pages the dataset already holds are never sent.

A spider middleware, between the spider and the scheduler: every article request (marked
``meta["article"]``) is looked up in the crawl state of ``OUTPUT_DIR`` by its normalized URL.
A stored article is not requested again, unless its listing (sitemap ``lastmod``, feed date)
says it changed after the stored version was fetched: then it is fetched again
(``cb_kwargs["refetch"] = True``) and stored as a new version.

A page dropped as no article (``NotAnArticle``, ``ListingPage``, ``NotHtml``) is remembered
with its reason, and not requested again before ``INCREMENTAL_NOT_ARTICLE_RECHECK`` has passed
(or its listing says it changed since); so is a link that redirected to a stored article
(``Redirect``), and a page dropped as a copy of a stored article (``Copy``: the same canonical
URL and text at a second path, the same or nearly the same text at another URL, a site that
moved its articles to new URLs; a canonical URL with another text is no copy, and is stored).
An error page or a wall (``ErrorPage``: a soft 404, a consent or bot wall) is not: the article
may be there on the next run, which asks for it again. A stored page fetched again because its
listing said it changed, and found the same (``Unchanged``) or gone (``Gone``, 404 or 410), is
remembered as checked: it is fetched again only when its listing gives a later date than the
one it was checked against.

A time the state holds that lies ahead of this machine's clock (by more than
:data:`~crawler.report.CLOCK_SKEW`) was written with a clock set ahead: the page was stored or
dropped then, but when is unknown, only that it was before now. Taken as it is, it hid every
revision its listing dated before it, and kept a dropped page from its re-check, until that
date came. Such a time counts as unknown: the stored page is fetched again when its listing
dates it (once: found the same, it is remembered as checked as of now), the dropped page is
due for its re-check; one warning a crawl, ``news/incremental/clock_ahead`` counts them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from crawler.report import CLOCK_SKEW
from crawler.url_digests import DigestSet, url_digest
from extraction.dates import to_utc
from extraction.urls import normalize_url
from pipelines.dedupe import DuplicateArticle
from pipelines.extract import NotAnArticle, NotHtml
from pipelines.normalize import NORMALIZE_TRACKING_PARAMS
from pipelines.setting import duration_setting, flag, format_duration
from pipelines.signals import ARTICLE_META, article_skipped, fetch_failed
from pipelines.state import state_stores
from pipelines.stats import (
    INCREMENTAL_CLOCK_AHEAD,
    INCREMENTAL_KNOWN_ARTICLES,
    INCREMENTAL_KNOWN_SKIPPED,
    INCREMENTAL_REFETCHED,
    INCREMENTAL_REJECTED_PAGES,
    INCREMENTAL_REJECTED_REMEMBERED,
    INCREMENTAL_REJECTED_SKIPPED,
    INCREMENTAL_STATE_UNAVAILABLE,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from dataset.state.base import CrawlStateStore, Rejection, StateStores

logger = logging.getLogger(__name__)

RECHECK_META = "news_recheck"
"""``Request.meta`` key that marks a request for a page dropped as no article by an earlier
run (its value: the reason), asked for again to re-check it."""

INCREMENTAL_ENABLED = flag(
    "INCREMENTAL_ENABLED",
    True,
    "article requests for pages already in the dataset are not sent (a page whose sitemap or "
    "feed date is newer than the stored copy is fetched again, as a new version)",
)


INCREMENTAL_NOT_ARTICLE_RECHECK = duration_setting(
    "INCREMENTAL_NOT_ARTICLE_RECHECK",
    timedelta(days=7),
    "a page dropped as no article (`NotAnArticle`, `ListingPage`, `NotHtml`), or as a copy "
    "of a stored article at a URL the dataset lacks (`Copy`, `Redirect`), is not requested "
    "again as an article for this long (unless its listing says it changed); `0` asks for it "
    "on every run (an `ErrorPage`, an error page or a wall, is asked for again by the next run)",
)
SETTINGS = (INCREMENTAL_ENABLED, INCREMENTAL_NOT_ARTICLE_RECHECK)
REMEMBERED_DROPS = (NotAnArticle, NotHtml)
"""Drops that stay true of a page until it changes (``ListingPage`` is a ``NotAnArticle``);
an empty page, an error page or a wall (``ErrorPage``: a soft 404 served minutes before the
article is), a timeout or a crashed worker may not, and is asked for again."""
UNCHANGED = "Unchanged"
"""Remembered for a stored page fetched again as changed and found the same as stored."""
REDIRECT = "Redirect"
"""Remembered for a link that redirected to a stored article."""
COPY = "Copy"
"""Remembered for a page dropped as a copy of a stored article (``DuplicateArticle``, the kept
row committed), and for the links that redirected to it."""
GONE = "Gone"
"""Remembered for a stored page fetched again as changed and answered 404 or 410."""
COPY_REASONS = frozenset({REDIRECT, COPY})
"""What a page at a URL the dataset lacks can be found to be besides no article: a copy of a
stored article, under another URL or behind a redirect."""
CHECKED = frozenset({UNCHANGED, GONE})
"""What a stored page fetched again as changed can be found to be: not fetched again until its
listing gives a later date."""


class IncrementalMiddleware(BaseSpiderMiddleware):
    """Drops article requests for stored pages; lets changed ones through as refetches (off,
    every listed article is fetched again, and the dedupe stage still keeps the dataset free of
    duplicates)."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        stores: StateStores,
        tracking_params: tuple[str, ...],
        recheck: timedelta = INCREMENTAL_NOT_ARTICLE_RECHECK.default,
    ):
        super().__init__(crawler)
        self.stores = stores
        self.tracking_params = tracking_params
        self.recheck = recheck
        self.state: CrawlStateStore | None = None
        self.skipped = DigestSet()
        """A 64-bit digest of each stored article's URL skipped in this crawl: a page listed
        by a feed and a sitemap is one article skipped twice."""
        self.skipped_rejected = DigestSet()
        """The same, for pages skipped as dropped earlier as no article."""
        self.warned_ahead = False
        """Whether the crawl warned of a time ahead of the clock in the state."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not INCREMENTAL_ENABLED.read(settings):
            raise NotConfigured("INCREMENTAL_ENABLED is off")
        tracking_params = NORMALIZE_TRACKING_PARAMS.read(settings)
        middleware = cls(
            crawler,
            stores=state_stores(crawler),
            tracking_params=tracking_params,
            recheck=INCREMENTAL_NOT_ARTICLE_RECHECK.read(settings),
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(middleware.fetch_failed, signal=fetch_failed)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        self.state = self.stores.crawl_state()

    def spider_closed(self) -> None:
        if self.state is not None:
            self.state.close()
            self.state = None

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if not request.meta.get(ARTICLE_META) or self.state is None:
            return request
        url = normalize_url(request.url, self.tracking_params)
        stats = self.crawler.stats
        assert stats is not None
        try:
            if not self.state.has_url(url):
                return self._unless_rejected(request, url)
            stored = self.state.stored_at(url)
        except self.stores.errors as exc:  # Redis mode, server gone: the dedupe stage decides
            self._unavailable(request, exc)
            return request
        listed = self._listed_at(request)
        if (
            listed is not None
            and stored is not None
            and (listed > stored or self._ahead(stored, "stored", request))
            and not self._checked_since(request, url, listed)
        ):
            stats.inc_value(INCREMENTAL_REFETCHED.name)
            logger.info("Listed as changed since %s, fetching again: %s", stored, request.url)
            request.cb_kwargs["refetch"] = True
            return request
        stats.inc_value(INCREMENTAL_KNOWN_SKIPPED.name)
        self.crawler.signals.send_catch_log(article_skipped, request=request, reason="known")
        if self.skipped.add(url_digest(url)):
            stats.inc_value(INCREMENTAL_KNOWN_ARTICLES.name)
        return None

    @staticmethod
    def _listed_at(request: Request) -> datetime | None:
        """When the request's listing (sitemap, feed) says the page last changed. A day
        without a time (``<lastmod>2024-05-01</lastmod>``, W3C Datetime's coarsest form) is
        read as its end: as its midnight, a page edited later on the day it was stored was
        never fetched again, the day's date staying the same."""
        listed = request.cb_kwargs.get("listed_modified_at") or request.cb_kwargs.get(
            "listed_published_at"
        )
        if listed is not None and listed.tzinfo is None and listed.time() == time():
            listed += timedelta(days=1) - timedelta(microseconds=1)
        return to_utc(listed)

    def _checked_since(self, request: Request, url: str, listed: datetime) -> bool:
        """Whether the stored page was fetched again and found unchanged after its listing's
        date (a page whose listing date moves while its text does not, or lies ahead)."""
        assert self.state is not None
        try:
            checked = self.state.rejected(url)
        except self.stores.errors as exc:
            self._unavailable(request, exc)
            return False
        return checked is not None and checked.reason in CHECKED and checked.at >= listed

    def _checked_as_of(self, request: Request | None, now: datetime) -> datetime:
        """When a stored page fetched again as changed counts as checked: now, or its
        listing's date when that lies ahead (it is fetched again only for a later one)."""
        listed = self._listed_at(request) if request is not None else None
        return max(now, listed or now)

    def _ahead(self, at: datetime, what: str, request: Request) -> bool:
        """Whether ``at``, a time the state holds for the request's page, lies ahead of this
        machine's clock by more than :data:`~crawler.report.CLOCK_SKEW`: written with a clock
        set ahead, it counts as unknown (counted; the first one of the crawl is a warning)."""
        now = datetime.now(UTC)
        if at <= now + CLOCK_SKEW:
            return False
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(INCREMENTAL_CLOCK_AHEAD.name)
        if not self.warned_ahead:
            self.warned_ahead = True
            logger.warning(
                "The crawl state says %s was %s at %s, %s ahead of the clock (%s UTC): a clock"
                " set ahead wrote it; such times count as unknown (a stored page is fetched"
                " again when its listing dates it, a dropped one is re-checked); this warning"
                " is given once, news/incremental/clock_ahead counts them",
                request.url,
                what,
                at.isoformat(timespec="seconds"),
                format_duration(timedelta(minutes=round((at - now).total_seconds() / 60))),
                now.strftime("%Y-%m-%d %H:%M:%S"),
            )
        return True

    def _unavailable(self, request: Request, exc: Exception) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(INCREMENTAL_STATE_UNAVAILABLE.name)
        logger.debug("Cannot look %s up in the shared state: %s", request.url, exc)

    def _unless_rejected(self, request: Request, url: str) -> Request | None:
        """The request, unless its page was dropped as no article less than the re-check
        interval ago (and its listing does not say it changed since); a page dropped so
        earlier and asked for again is marked as a re-check (``meta[RECHECK_META]``), which
        the source's health figures set apart."""
        if self.state is None:
            return request
        try:
            rejection: Rejection | None = self.state.rejected(url)
        except self.stores.errors as exc:
            self._unavailable(request, exc)
            return request
        if rejection is None:
            return request
        listed = self._listed_at(request)
        if (
            datetime.now(UTC) - rejection.at >= self.recheck
            or (listed is not None and listed > rejection.at)
            or self._ahead(rejection.at, f"dropped as {rejection.reason}", request)
        ):
            request.meta[RECHECK_META] = rejection.reason
            return request
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(INCREMENTAL_REJECTED_SKIPPED.name)
        self.crawler.signals.send_catch_log(article_skipped, request=request, reason="rejected")
        if self.skipped_rejected.add(url_digest(url)):
            stats.inc_value(INCREMENTAL_REJECTED_PAGES.of(rejection.reason))
            logger.debug(
                "Dropped as %s on %s, not asked for again before %s: %s",
                rejection.reason,
                rejection.at.isoformat(timespec="seconds"),
                (rejection.at + self.recheck).isoformat(timespec="seconds"),
                request.url,
            )
        return None

    def item_dropped(self, item: Any, response: Response | None, exception: Exception) -> None:
        """Remember an article page dropped as no article, under its URL and the URLs that
        redirected to it; and a page dropped as a copy of a stored article, when fetching it
        again would find the same (:meth:`_copy_of_stored`)."""
        if response is None or not response.meta.get(ARTICLE_META) or self.state is None:
            return
        now = datetime.now(UTC)
        try:
            if isinstance(exception, REMEMBERED_DROPS):
                if not self.recheck:
                    return
                urls = [response.url, *response.meta.get("redirect_urls", ())]
                remembered: tuple[list[str], str, datetime] | None = (
                    urls,
                    type(exception).__name__,
                    now,
                )
            elif isinstance(exception, DuplicateArticle):
                remembered = self._copy_of_stored(item, response, exception, now)
            else:
                return
            if remembered is None:
                return
            urls, reason, at = remembered
            self.state.remember_rejected(
                [normalize_url(url, self.tracking_params) for url in urls], reason, at
            )
        except self.stores.errors as exc:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value(INCREMENTAL_STATE_UNAVAILABLE.name)
            logger.warning("Cannot remember why %s was dropped: %s", response.url, exc)
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(INCREMENTAL_REJECTED_REMEMBERED.of(reason))

    def _copy_of_stored(
        self, item: Any, response: Response, exception: DuplicateArticle, now: datetime
    ) -> tuple[list[str], str, datetime] | None:
        """What to remember of a page dropped as a copy of an article the dataset holds
        (committed, not only accepted in this crawl: were the kept row's file lost, the copy
        must be fetched again to be stored): a stored page fetched again as changed and found
        the same (``Unchanged``, as of its listing's date when that lies ahead), the links that
        redirected to a stored article (``Redirect``), or a page at a URL the dataset lacks
        holding a stored article (``Copy``, under that URL and the links that redirected to
        it). Each would otherwise be fetched, and dropped, on every run."""
        assert self.state is not None
        adapter = ItemAdapter(item)
        redirects = list(response.meta.get("redirect_urls", ()))
        if adapter.get("refetch"):
            content_hash = adapter.get("content_hash")
            if not content_hash or not self.state.has_content(content_hash):
                return None
            return [response.url, *redirects], UNCHANGED, self._checked_as_of(response.request, now)
        if not self.recheck:
            return None
        if self.state.has_url(normalize_url(response.url, self.tracking_params)):
            return (redirects, REDIRECT, now) if redirects else None
        if not self._kept_is_stored(exception):
            return None  # kept in this crawl only: known as stored once its file is committed
        return [response.url, *redirects], COPY, now

    def _kept_is_stored(self, exception: DuplicateArticle) -> bool:
        """Whether the row a copy was dropped for is committed in the dataset: the state
        holds the URL it matched (a copy of its URL or canonical URL) or the kept text's
        content hash (the same text, or nearly: the near match's row)."""
        assert self.state is not None
        if exception.kind == "url":  # the key as the dedupe stage looked it up
            return self.state.has_url(exception.kept)
        return self.state.has_content(exception.kept)

    def fetch_failed(self, request: Request, kind: str, listing: str | None) -> None:
        """A stored page fetched again as changed, and gone (404, 410): remembered as checked
        (``Gone``, as of its listing's date when that lies ahead), or it would be asked for on
        every run while its listing keeps it."""
        if not request.cb_kwargs.get("refetch") or kind not in ("http_404", "http_410"):
            return
        if self.state is None:
            return
        reason = GONE
        url = normalize_url(request.url, self.tracking_params)
        try:
            self.state.remember_rejected(
                [url], reason, self._checked_as_of(request, datetime.now(UTC))
            )
        except self.stores.errors as exc:
            self._unavailable(request, exc)
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(INCREMENTAL_REJECTED_REMEMBERED.of(reason))

    def get_processed_item(self, item: Any, response: Response | None) -> Any:
        return item
