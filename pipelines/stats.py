"""Every stat the project counts, declared once: its name, its kind and what it means.

The project's stats are named ``news/<stage>/<event>``; a family of them, one stat per reason,
status or rule, is declared by a pattern (``news/fetch/error/<reason>``). A component counts
with the declaration (``stats.inc_value(FETCH_PAGES.name)``, ``FETCH_ERROR.of(reason)`` for a
family) and whatever reads the stats (the run summary, the progress line, ``scrapy summary``,
the exit status, the benchmarks) reads them the same way, so that a renamed stat cannot be
read as 0. Scrapy's own stats the project reads by name are declared here too, at the end.

``docs/stats.md``'s tables are made from these declarations (``python -m pipelines.stats``,
``make docs``); ``tests/test_stats.py`` fails on a ``news/`` stat the code counts or reads
without a declaration, on a declaration nothing counts, and on a stat counted otherwise than
its kind says. Like ``pipelines/setting.py``, it imports nothing: whatever counts or reads a
stat (``crawler/``, ``pipelines/``, ``bench/``) sits above it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Kind(StrEnum):
    """How a stat is kept: which method of Scrapy's stats collector sets it."""

    COUNTER = "counter"
    """Counted up (``inc_value``): summed over the crawl."""
    GAUGE = "gauge"
    """Set (``set_value``): the last value set."""
    MAX = "max"
    """The largest value seen (``max_value``)."""
    MIN = "min"
    """The smallest value seen (``min_value``)."""

    @property
    def method(self) -> str:
        """The stats collector's method that keeps a stat of this kind."""
        return _METHODS[self]


_METHODS = MappingProxyType(
    {
        Kind.COUNTER: "inc_value",
        Kind.GAUGE: "set_value",
        Kind.MAX: "max_value",
        Kind.MIN: "min_value",
    }
)


_PLACEHOLDER = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Stat:
    """One stat, or one family of stats (a name with a ``<placeholder>``)."""

    name: str
    """The stat's name, or its pattern: ``news/fetch/error/<reason>``."""
    kind: Kind
    meaning: str
    """What it counts, as the stats reference says it."""

    @property
    def family(self) -> bool:
        """Whether it is a family: one stat per value of its placeholder."""
        return _PLACEHOLDER.search(self.name) is not None

    @property
    def prefix(self) -> str:
        """What every name of the family starts with (the whole name of a single stat)."""
        return self.name.split("<", 1)[0]

    def of(self, value: object) -> str:
        """The name of the family's stat for ``value`` (a reason, a status, a rule), written as
        an f-string writes it."""
        if not self.family:
            raise ValueError(f"{self.name} is one stat, not a family")
        return _PLACEHOLDER.sub(lambda _: format(value), self.name, count=1)

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this stat, or one of its family."""
        return re.fullmatch(_PLACEHOLDER.sub("[^/]+", re.escape(self.name)), name) is not None


# -- the project's stats, by stage ------------------------------------------------------------

FETCH_PAGES = Stat(
    "news/fetch/pages",
    Kind.COUNTER,
    "article candidates fetched",
)

FETCH_HTTP_ERROR = Stat(
    "news/fetch/http_error/<status>",
    Kind.COUNTER,
    "responses with a non-2xx status (after retries)",
)

FETCH_REDIRECT_DUPLICATES = Stat(
    "news/fetch/redirect_duplicates",
    Kind.COUNTER,
    "article requests redirected to a page already asked for in this crawl (two links to "
    "one page): skipped as known in the run's figures",
)

FETCH_RETRY_AFTER_WAITED = Stat(
    "news/fetch/retry_after/waited",
    Kind.COUNTER,
    "`429` or `503` answers whose `Retry-After` (at most `RETRY_AFTER_MAX`) was waited "
    "for: the site's requests were spaced by it",
)

FETCH_RETRY_AFTER_GIVEN_UP = Stat(
    "news/fetch/retry_after/given_up",
    Kind.COUNTER,
    "`429` or `503` answers asking to come back later than `RETRY_AFTER_MAX`: not retried"
    " in this run, and the site's other requests of the run fail at once "
    "(`news/fetch/error/retry_after`)",
)

FETCH_CLOCK_BEHIND = Stat(
    "news/fetch/clock_behind",
    Kind.COUNTER,
    "answers whose `Date` lies more than an hour ahead of this machine's clock: the clock is "
    "behind, and publication times more than a day after it are ignored; one warning a crawl "
    "(`CLOCK_CHECK_ENABLED`)",
)

FETCH_CLOCK_AHEAD = Stat(
    "news/fetch/clock_ahead",
    Kind.COUNTER,
    "answers whose `Date` lies more than an hour behind this machine's clock: the clock is "
    "ahead, and `fetched_at` with it; one warning a crawl (`CLOCK_CHECK_ENABLED`)",
)

FETCH_ERROR = Stat(
    "news/fetch/error/<reason>",
    Kind.COUNTER,
    "requests that failed: `timeout`, `dns`, `too_large` (over `DOWNLOAD_MAXSIZE`), "
    "`too_large_decompressed` (a decompression bomb), `truncated` (the connection closed "
    "before the announced length), `too_many_redirects` (more than `REDIRECT_MAX_TIMES`), "
    "`robots_forbidden`, `connection_refused`, `connection_lost`, `tls` (the TLS handshake "
    "failed: a server that speaks no TLS on an `https://` URL, a protocol it refuses), "
    "`bad_response` (a status line or a header that cannot be read, such as `Content-Length: "
    "abc`), `unsupported_scheme`, `offsite_redirect`, `private_address` and `scheme` (refused"
    " by the address guard, `news/guard/refused/<reason>`; an article redirected to a URL it "
    "refused before is counted again, not skipped as known), `retry_after` (the site asked, "
    "with `Retry-After`, to be left alone for longer than `RETRY_AFTER_MAX`), `bad_redirect` "
    "(a redirect or meta refresh to a URL no request can be made for: `mailto:`, a port of "
    "99999), `undecodable` (a body that does not decompress as its `Content-Encoding` says), "
    "`ignored` (another ignored request), or the error's name",
)

FETCH_ERROR_REDIRECT_LOOP = Stat(
    "news/fetch/error/redirect_loop",
    Kind.COUNTER,
    "requests whose redirects led back to a URL of their own chain",
)

GUARD_REFUSED = Stat(
    "news/guard/refused/<reason>",
    Kind.COUNTER,
    "requests the address guard refused: `scheme` (not HTTP(S)), `private_address` (an "
    "internal address the crawl was not given) or `offsite_redirect` (a redirect away "
    "from the `allowed_domains` of the request's source)",
)

ROBOTS_ERROR = Stat(
    "news/robots/error/<reason>",
    Kind.COUNTER,
    "robots.txt files that could not be fetched (reasons as above, and "
    "`too_many_redirects`); the site is crawled as if it had none",
)

ROBOTS_HTTP_ERROR = Stat(
    "news/robots/error/http_<status>",
    Kind.COUNTER,
    "robots.txt files answered with a server error (`5xx`, or `429`) after the retries: "
    "as RFC 9309 asks, the site is not crawled in this run (everything disallowed); its source's "
    "run history counts it as `robots_http_<status>`, its health line says so",
)

ROBOTS_TRUNCATED = Stat(
    "news/robots/truncated",
    Kind.COUNTER,
    "robots.txt files larger than 500 KiB: only their first 500 KiB are downloaded and read",
)

ROBOTS_NOT_ROBOTS_TXT = Stat(
    "news/robots/not_robots_txt",
    Kind.COUNTER,
    "robots.txt URLs that returned an HTML page or binary data (only lines that are rules count)",
)

HTTPCACHE_PRUNED = Stat(
    "news/httpcache/pruned",
    Kind.COUNTER,
    "cached listings taken out of `STATE_DIR/httpcache` as the crawl started: no crawl had "
    "asked for them for `HTTPCACHE_PRUNE_AFTER`; one `INFO` line; their files are deleted "
    "while the crawl runs",
)

HTTPCACHE_SCRATCH_REMOVED = Stat(
    "news/httpcache/scratch_removed",
    Kind.COUNTER,
    "scratch folders of `STATE_DIR/httpcache` (an entry being stored or replaced) that killed "
    "crawls left, taken out with the pruning: their process of this host no longer runs, or "
    "they were unchanged for an hour; one `INFO` line",
)

DISCOVERY_FEEDS = Stat(
    "news/discovery/feeds",
    Kind.COUNTER,
    "feeds read",
)

DISCOVERY_ROBOTS_SITEMAPS = Stat(
    "news/discovery/robots_sitemaps",
    Kind.COUNTER,
    "sitemaps named by robots.txt files",
)

DISCOVERY_ROBOTS_MISSING = Stat(
    "news/discovery/robots_missing",
    Kind.COUNTER,
    "robots.txt files a site answered with 400, 401, 403, 404 or 410 (no rules: its "
    "sitemaps are looked for at the usual paths)",
)

DISCOVERY_PROBE_MISSING = Stat(
    "news/discovery/probe_missing",
    Kind.COUNTER,
    "usual sitemap paths tried and not found (a site whose robots.txt names none)",
)

DISCOVERY_LISTING_PAGES = Stat(
    "news/discovery/listing_pages",
    Kind.COUNTER,
    "home, section and tag pages read for links",
)

DISCOVERY_LINKED_ARTICLES = Stat(
    "news/discovery/linked_articles",
    Kind.COUNTER,
    "article links found on them",
)

DISCOVERY_DEPTH_LIMITED = Stat(
    "news/discovery/depth_limited",
    Kind.COUNTER,
    "section and next-page links of listing pages not followed: the page is `max_depth` "
    "hops from its source's home (one debug line a page)",
)

DISCOVERY_LISTING_ARTICLES = Stat(
    "news/discovery/listing_articles",
    Kind.COUNTER,
    "articles listed by a feed or sitemap that a home or section page had linked to and "
    "the crawl had asked for as a listing: asked for again as articles (a duplicate "
    "request, filtered out, before)",
)

DISCOVERY_NOT_ALLOWED = Stat(
    "news/discovery/not_allowed",
    Kind.COUNTER,
    "listed URLs outside their source's domains or patterns",
)

DISCOVERY_TOO_OLD = Stat(
    "news/discovery/too_old",
    Kind.COUNTER,
    "listed articles older than the maximum age, not fetched",
)

DISCOVERY_FEED_ENTRIES = Stat(
    "news/discovery/feed_entries",
    Kind.COUNTER,
    "article links found in feeds",
)

DISCOVERY_FEED_INVALID = Stat(
    "news/discovery/feed_invalid",
    Kind.COUNTER,
    "feed URLs that did not return a feed",
)

DISCOVERY_FEED_MALFORMED = Stat(
    "news/discovery/feed_malformed",
    Kind.COUNTER,
    "feeds with XML errors (entries before the error are used)",
)

DISCOVERY_SITEMAPS = Stat(
    "news/discovery/sitemaps",
    Kind.COUNTER,
    "sitemaps and sitemap indexes read",
)

DISCOVERY_SITEMAP_INDEXES = Stat(
    "news/discovery/sitemap_indexes",
    Kind.COUNTER,
    "sitemap indexes read (among `news/discovery/sitemaps`; an index lists no article, so"
    " a crawl that read only indexes read no listing)",
)

DISCOVERY_SITEMAP_URLS = Stat(
    "news/discovery/sitemap_urls",
    Kind.COUNTER,
    "article URLs found in sitemaps",
)

DISCOVERY_SITEMAP_INVALID = Stat(
    "news/discovery/sitemap_invalid",
    Kind.COUNTER,
    "sitemap URLs that did not return a readable sitemap (also: too large once decompressed)",
)

DISCOVERY_SITEMAP_MALFORMED = Stat(
    "news/discovery/sitemap_malformed",
    Kind.COUNTER,
    "sitemaps read in part: truncated, with XML errors, or with entity references or a "
    "DTD (never resolved); the URLs read are used",
)

DISCOVERY_SITEMAP_LOOPS = Stat(
    "news/discovery/sitemap_loops",
    Kind.COUNTER,
    "sitemaps a sitemap index lists that lead back to it (itself, or an index that led to"
    " it): one warning, not read again",
)

DISCOVERY_UNUSABLE_URLS = Stat(
    "news/discovery/unusable_urls",
    Kind.COUNTER,
    "feed and sitemap entries left out because no request can be made for their URL "
    "(another scheme than http(s), such as `mailto:`; a malformed host or port; none at "
    "all: an item with no link, a `<url>` with no `<loc>`); one warning a listing names "
    "the first; the other entries are read",
)

INCREMENTAL_KNOWN_SKIPPED = Stat(
    "news/incremental/known_skipped",
    Kind.COUNTER,
    "article requests not sent: the page is stored already",
)

INCREMENTAL_KNOWN_ARTICLES = Stat(
    "news/incremental/known_articles",
    Kind.COUNTER,
    "stored articles whose requests were not sent (a page listed by a feed and a sitemap is one)",
)

INCREMENTAL_CLOCK_AHEAD = Stat(
    "news/incremental/clock_ahead",
    Kind.COUNTER,
    "article requests whose page the crawl state says was stored or dropped at a time ahead of "
    "the clock (by more than 5 minutes: a clock set ahead wrote it); the time counts as "
    "unknown: a stored page is fetched again when its listing dates it, a dropped one is "
    "re-checked; one warning a crawl",
)

INCREMENTAL_REFETCHED = Stat(
    "news/incremental/refetched",
    Kind.COUNTER,
    "stored pages fetched again: their listing says they changed since",
)

INCREMENTAL_REJECTED_SKIPPED = Stat(
    "news/incremental/rejected_skipped",
    Kind.COUNTER,
    "article requests not sent: the page was dropped as no article, or as a copy of a "
    "stored article (`Copy`; or it redirected to one, `Redirect`), less than "
    "`INCREMENTAL_NOT_ARTICLE_RECHECK` ago",
)

INCREMENTAL_REJECTED_PAGES = Stat(
    "news/incremental/rejected_pages/<reason>",
    Kind.COUNTER,
    "such pages, by the reason they were dropped for (a page listed twice is one)",
)

INCREMENTAL_REJECTED_REMEMBERED = Stat(
    "news/incremental/rejected_remembered/<reason>",
    Kind.COUNTER,
    "pages dropped in this crawl and remembered, by reason: as no article; `Redirect`, a "
    "link that redirected to a stored article; `Copy`, a page at a URL the dataset lacks "
    "holding a stored article (the same canonical URL, the same or nearly the same text; "
    "remembered once that article is committed: a copy of one stored by the same crawl is"
    " fetched once more by the next); `Unchanged`, a stored page fetched again as changed"
    " and found the same, and `Gone`, one that answered 404 or 410 (each fetched again "
    "only when its listing gives a later date)",
)

INCREMENTAL_STATE_UNAVAILABLE = Stat(
    "news/incremental/state_unavailable",
    Kind.COUNTER,
    "article requests sent without the stored-page check, and pages dropped as no article"
    " not remembered (the crawl state could not be reached or read)",
)

EXTRACT_ARTICLES = Stat(
    "news/extract/articles",
    Kind.COUNTER,
    "pages that gave an article",
)

EXTRACT_DROPPED = Stat(
    "news/extract/dropped/<reason>",
    Kind.COUNTER,
    "pages dropped by the extract stage, by reason",
)

EXTRACT_WORKERS_FAILED = Stat(
    "news/extract/workers_failed",
    Kind.GAUGE,
    "1 when the extraction workers could not start, or one that ended could not be "
    "replaced (their fork server died and could not be made again: a memory or process "
    "limit, a signal to the process group): logged as one error naming the cause; the "
    "pages were extracted in the crawl process from then on, and the crawl exits with "
    "status 1",
)

SITE_BOILERPLATE_LINES_REMOVED = Stat(
    "news/site_boilerplate/lines_removed",
    Kind.COUNTER,
    "paragraphs stripped as a site's boilerplate",
)

SITE_BOILERPLATE_PAGES_CLEANED = Stat(
    "news/site_boilerplate/pages_cleaned",
    Kind.COUNTER,
    "pages that lost at least one such paragraph",
)

SITE_BOILERPLATE_DROPPED = Stat(
    "news/site_boilerplate/dropped",
    Kind.COUNTER,
    "pages left with too little text once stripped",
)

SITE_BOILERPLATE_SAVE_ERROR = Stat(
    "news/site_boilerplate/save_error",
    Kind.COUNTER,
    "the learned site boilerplate could not be saved (disk full): logged; what was "
    "learned since the last save is lost",
)

SITE_BOILERPLATE_SITES_UNLOADED = Stat(
    "news/site_boilerplate/sites_unloaded",
    Kind.COUNTER,
    "site tables saved and unloaded from memory (`SITE_BOILERPLATE_MAX_SITES`)",
)

SITE_BOILERPLATE_STATE_UNAVAILABLE = Stat(
    "news/site_boilerplate/state_unavailable",
    Kind.COUNTER,
    "pages not cleaned of site boilerplate (the crawl state could not be reached or read)",
)

LANGUAGE_DETECTED = Stat(
    "news/language/detected",
    Kind.COUNTER,
    "languages from detection",
)

LANGUAGE_DECLARED = Stat(
    "news/language/declared",
    Kind.COUNTER,
    "languages taken from the page's declaration (detection unsure)",
)

LANGUAGE_UNKNOWN = Stat(
    "news/language/unknown",
    Kind.COUNTER,
    "no language detected or declared",
)

LANGUAGE_REUSED = Stat(
    "news/language/reused",
    Kind.COUNTER,
    "detections made by the extraction worker and reused (the text was unchanged since)",
)

NORMALIZE_IMPLAUSIBLE_PUBLISHED_AT = Stat(
    "news/normalize/implausible_published_at",
    Kind.COUNTER,
    "publication times ignored (before 1990 or after the fetch)",
)

DEDUPE_UNIQUE = Stat(
    "news/dedupe/unique",
    Kind.COUNTER,
    "articles accepted",
)

DEDUPE_FORGOTTEN = Stat(
    "news/dedupe/forgotten",
    Kind.COUNTER,
    "articles accepted and then dropped by a later stage: their keys are forgotten, so a "
    "later copy is not kept out by a row that was never written",
)

DEDUPE_SIGNATURE_REUSED = Stat(
    "news/dedupe/signature_reused",
    Kind.COUNTER,
    "near-duplicate signatures computed by the extraction worker and reused",
)

DEDUPE_DUPLICATE = Stat(
    "news/dedupe/duplicate/<kind>",
    Kind.COUNTER,
    "exact duplicates dropped: `url` or `content`",
)

DEDUPE_DUPLICATE_NEAR = Stat(
    "news/dedupe/duplicate/near",
    Kind.COUNTER,
    "near-duplicates found (dropped, or flagged with `DEDUPE_POLICY=flag`)",
)

DEDUPE_CANONICAL_CONFLICT = Stat(
    "news/dedupe/canonical_conflict",
    Kind.COUNTER,
    "articles kept whose URL or canonical URL is a stored (or accepted) row's while their text "
    "is neither that row's nor close to any stored text (a CMS giving two articles one "
    "canonical, a syndicated piece naming a wrong original, a live blog or a paginated story): "
    "stored as articles of their own, their `canonical_url` as the page gave it; one `INFO` "
    "line each",
)

DEDUPE_STATE_ERROR = Stat(
    "news/dedupe/state_error",
    Kind.COUNTER,
    "a committed file could not be recorded in the crawl state (disk full): logged; the "
    "next crawl records it from the dataset",
)

DEDUPE_FILES_RECOVERED = Stat(
    "news/dedupe/files_recovered",
    Kind.COUNTER,
    "data files found in the dataset that the state did not know (after a crash)",
)

DEDUPE_FILES_FORGOTTEN = Stat(
    "news/dedupe/files_forgotten",
    Kind.COUNTER,
    "data files the state listed that the dataset no longer holds (a compaction that "
    "ended before recording its new files, files deleted by hand): taken off the state's "
    "list, their rows' keys kept",
)

DEDUPE_UNREADABLE_FILES = Stat(
    "news/dedupe/unreadable_files",
    Kind.COUNTER,
    "data files of the dataset that cannot be read (cut short, empty, another table's "
    "file): each logged as one error naming it (the crawl fails, exit status 1, until it "
    "is moved out); not recorded in the state",
)

DEDUPE_STRAY_FILES = Stat(
    "news/dedupe/stray_files",
    Kind.COUNTER,
    "data files under `articles/` outside its `fetch_date=YYYY-MM-DD` folders (a "
    "partition copied beside itself, a folder made in one, a file dropped at the top): "
    "not the dataset's, never recorded; one warning a folder (readers that scan the "
    "folder read them all the same)",
)

DEDUPE_STATE_UNAVAILABLE = Stat(
    "news/dedupe/state_unavailable",
    Kind.COUNTER,
    "articles dropped (`StateUnavailable`) because the crawl state could not be reached "
    "or read (Redis gone; a failing SQLite file)",
)

PARQUET_ROWS_BUFFERED = Stat(
    "news/parquet/rows_buffered",
    Kind.COUNTER,
    "rows accepted by the writer",
)

PARQUET_ROW_GROUPS = Stat(
    "news/parquet/row_groups",
    Kind.COUNTER,
    "row groups written",
)

PARQUET_FILES = Stat(
    "news/parquet/files",
    Kind.COUNTER,
    "data files committed",
)

PARQUET_ROWS_WRITTEN = Stat(
    "news/parquet/rows_written",
    Kind.COUNTER,
    "rows in committed files",
)

PARQUET_INVALID_ROW = Stat(
    "news/parquet/invalid_row",
    Kind.COUNTER,
    "rows that did not fit the schema, or had no text (a page that was not extracted, or "
    "of which nothing was kept): never written",
)

PARQUET_WRITE_ERROR = Stat(
    "news/parquet/write_error",
    Kind.COUNTER,
    "the dataset could not be written (disk full, folder gone): logged as one error, the "
    "crawl stops (exit status 1), the file being written is deleted, committed files stay"
    " valid, and the state does not learn the lost rows (the next crawl fetches them "
    "again)",
)

PARQUET_ROWS_LOST = Stat(
    "news/parquet/rows_lost",
    Kind.COUNTER,
    "accepted articles not written because of a write error",
)

PARQUET_ROWS_DISCARDED = Stat(
    "news/parquet/rows_discarded",
    Kind.COUNTER,
    "Redis mode: accepted articles not committed because the other workers took this one "
    "for dead (they store them); the file being written is deleted",
)

EXPORT_FAILED = Stat(
    "news/export/failed",
    Kind.COUNTER,
    "`-o`/`-O` exports that could not be written (a full disk): each stopped at its first"
    " failed write, one error line, the crawl's exit status 1",
)

FRONTIER_DEAD_WORKERS = Stat(
    "news/frontier/dead_workers",
    Kind.COUNTER,
    "Redis mode: workers found dead (heartbeat expired) whose work this worker put back",
)

FRONTIER_REQUEUED = Stat(
    "news/frontier/requeued",
    Kind.COUNTER,
    "Redis mode: requests of dead workers put back into the queue",
)

FRONTIER_REQUEUED_ON_CLOSE = Stat(
    "news/frontier/requeued_on_close",
    Kind.COUNTER,
    "Redis mode: unfinished requests this worker put back when it stopped",
)

FRONTIER_REDIS_ERROR = Stat(
    "news/frontier/redis_error",
    Kind.COUNTER,
    "Redis mode: Redis could not be reached; the worker stops (finish reason `redis_error`)",
)

FRONTIER_DECLARED_DEAD = Stat(
    "news/frontier/declared_dead",
    Kind.COUNTER,
    "Redis mode: the other workers took this one for dead (it was paused for longer than "
    "`REDIS_WORKER_TIMEOUT`) and its work over; it stops without committing what it holds"
    " (finish reason `declared_dead`)",
)

SOURCE_HISTORY_CLOCK_BEHIND = Stat(
    "news/source_history/clock_behind",
    Kind.GAUGE,
    "seconds by which this machine's clock, at the crawl's start, was behind the newest "
    "run of the run history (more than 5 minutes): one warning (docs/operations.md, a "
    "clock set wrong); the crawl goes on",
)

SOURCE_HISTORY_WRITE_ERROR = Stat(
    "news/source_history/write_error",
    Kind.COUNTER,
    "the run history (`OUTPUT_DIR/runs/`) could not be written (a full disk): logged; "
    "this run's per-source figures are lost, its totals stay in the crawl report",
)

SOURCE_HEALTH_UNHEALTHY_SOURCES = Stat(
    "news/source_health/unhealthy_sources",
    Kind.GAUGE,
    "sources found unhealthy at the end of the run (docs/operations.md)",
)

SOURCE_HEALTH_UNHEALTHY = Stat(
    "news/source_health/unhealthy/<rule>",
    Kind.COUNTER,
    "the rules they broke, by rule",
)

SOURCE_HEALTH_READ_ERROR = Stat(
    "news/source_health/read_error",
    Kind.COUNTER,
    "the run history could not be read to judge the sources: logged as an error",
)

SOURCE_HEALTH_INDEX_ERROR = Stat(
    "news/source_health/index_error",
    Kind.COUNTER,
    "`STATE_DIR/run-history-index.sqlite3`, which names the files of each source's newest"
    " runs, could not be used (damaged, not writable): one warning; the sources were "
    "judged on the newest files of the run history alone",
)

REPORT_LEFTOVERS_REMOVED = Stat(
    "news/report/leftovers_removed",
    Kind.COUNTER,
    "crawl reports that killed crawls left unfinished in `STATE_DIR/crawls/` "
    "(`*.json.<host>-<pid>.tmp`), removed as the crawl started: their process of this host no "
    "longer runs, or they were unchanged for an hour; one `INFO` line",
)

REPORT_PRUNE_ERROR = Stat(
    "news/report/prune_error",
    Kind.COUNTER,
    "crawl reports beyond `REPORT_KEEP` in `STATE_DIR/crawls/` that could not be deleted "
    "(a read-only folder): one warning; they stay",
)


# -- Scrapy's own stats, those the project reads by name ----------------------------------------

FINISH_REASON = Stat(
    "finish_reason",
    Kind.GAUGE,
    "why the crawl ended (`finished`, `shutdown`, `redis_error`, ...): `scrapy crawl` takes "
    "any other for a failure",
)

ELAPSED_TIME = Stat(
    "elapsed_time_seconds",
    Kind.GAUGE,
    "the crawl's duration, in the run summary's first line",
)

ITEM_SCRAPED = Stat(
    "item_scraped_count",
    Kind.COUNTER,
    'items that passed every pipeline: the progress line\'s "stored"',
)

ITEM_DROPPED = Stat(
    "item_dropped_count",
    Kind.COUNTER,
    'items a pipeline dropped: the progress line\'s "dropped"',
)

ITEM_DROPPED_REASON = Stat(
    "item_dropped_reasons_count/<reason>",
    Kind.COUNTER,
    "items dropped, by the `DropItem` subclass raised (the drop reasons below): "
    '`scrapy summary`\'s "dropped"',
)

LOG_ERRORS = Stat(
    "log_count/ERROR",
    Kind.COUNTER,
    "error lines logged: a crawl that logged one exits with status 1",
)

DOWNLOADER_EXCEPTION = Stat(
    "downloader/exception_type_count/<type>",
    Kind.COUNTER,
    "downloads that raised, by the exception's class: among the requests that failed, for "
    "the exit status",
)


def _declared(scrapy: bool) -> tuple[Stat, ...]:
    return tuple(
        value
        for value in globals().values()
        if isinstance(value, Stat) and value.name.startswith("news/") is not scrapy
    )


STATS = _declared(scrapy=False)
"""The project's stats (``news/...``), in the order of the reference."""
SCRAPY_STATS = _declared(scrapy=True)
"""Scrapy's own stats the project reads by name."""


def declared(name: str) -> Stat | None:
    """The declaration of the stat ``name``: the single stat of that name, or else the family
    with the longest prefix that holds it (``news/robots/error/http_<status>`` before
    ``news/robots/error/<reason>``)."""
    found = [stat for stat in (*STATS, *SCRAPY_STATS) if stat.matches(name)]
    return min(found, key=lambda stat: (stat.family, -len(stat.prefix)), default=None)


def markdown_table(*, scrapy: bool = False) -> str:
    """A table of ``docs/stats.md``: the project's stats, or Scrapy's that it reads."""
    lines = ["| stat | kind | meaning |", "|---|---|---|"]
    lines += [
        f"| `{stat.name}` | {stat.kind} | {stat.meaning} |"
        for stat in (SCRAPY_STATS if scrapy else STATS)
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table(scrapy=sys.argv[1:] == ["--scrapy"]))
