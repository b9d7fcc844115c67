"""Per-source accounting: what each crawl did for each source, kept as the run history.

An extension listening to the crawl's signals (Scrapy's, and those of ``pipelines/signals.py``
that the spider and the incremental middleware send) counts, for each source (the configured
source's name, else the site's host): feeds, sitemaps and listing pages read, and the article
entries they list; article pages discovered, skipped as known or as no article, fetched,
stored and dropped by reason; failed requests by kind; bytes received; the newest
publication time stored. When the spider closes, one row per source goes to the run history
(``OUTPUT_DIR/runs/``, :mod:`dataset.run_history`), which analysts load like the dataset and
the health rules read.
"""

from __future__ import annotations

import logging
import posixpath
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import pyarrow as pa
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.incremental import RECHECK_META
from crawler.links import site_host
from crawler.report import CLOCK_SKEW
from crawler.url_digests import DigestSet, url_digest
from dataset.health import Finding, HealthRules, judge_run
from dataset.layout import owner_tag
from dataset.run_history import (
    INDEX_FILE,
    RunIndex,
    RunInfo,
    SourceRun,
    merged_files,
    newest_run_files,
    newest_start,
    per_run,
    read_run_files,
    remove_stale_tmp_files,
    to_table,
    write_runs,
)
from dataset.schema import DEFAULT_COMPRESSION
from pipelines.locations import OUTPUT_DIR, dataset_location, state_dir_setting
from pipelines.parquet import PARQUET_COMPRESSION, PARQUET_COMPRESSION_LEVEL
from pipelines.setting import duration_setting, flag, integer, number
from pipelines.signals import (
    ARTICLE_META,
    article_skipped,
    articles_committed,
    fetch_failed,
    left_out,
    listing_read,
)
from pipelines.state import state_stores
from pipelines.stats import (
    SOURCE_HEALTH_INDEX_ERROR,
    SOURCE_HEALTH_READ_ERROR,
    SOURCE_HEALTH_UNHEALTHY,
    SOURCE_HEALTH_UNHEALTHY_SOURCES,
    SOURCE_HISTORY_CLOCK_BEHIND,
    SOURCE_HISTORY_WRITE_ERROR,
)

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

    from dataset.state.base import StateStores
    from dataset.storage import DatasetLocation

logger = logging.getLogger(__name__)

SOURCE_HISTORY_ENABLED = flag(
    "SOURCE_HISTORY_ENABLED",
    True,
    "count what each run did for each source and keep it in `OUTPUT_DIR/runs/` (one row per "
    "source per run; see docs/dataset.md)",
)
SOURCE_HEALTH_ENABLED = flag(
    "SOURCE_HEALTH_ENABLED",
    True,
    "judge each source's run against its own history (docs/operations.md): one WARNING line "
    "per unhealthy source at the end of the run",
)
SOURCE_HEALTH_EXIT_STATUS = flag(
    "SOURCE_HEALTH_EXIT_STATUS",
    True,
    "a run that found a source unhealthy exits with status 4 (off: 0)",
)
_DEFAULT_RULES = HealthRules()
SOURCE_HEALTH_MIN_RUNS = integer(
    "SOURCE_HEALTH_MIN_RUNS",
    _DEFAULT_RULES.min_runs,
    "earlier runs of a source before it is judged against them (a new source alarms only as "
    "`failing`)",
    minimum=1,
)
SOURCE_HEALTH_WINDOW = integer(
    "SOURCE_HEALTH_WINDOW",
    _DEFAULT_RULES.window,
    "earlier runs a source's run is compared with",
    minimum=1,
)
SOURCE_HEALTH_MIN_REQUESTS = integer(
    "SOURCE_HEALTH_MIN_REQUESTS",
    _DEFAULT_RULES.min_requests,
    "article requests (or fetched pages) from which the `blocked` and `extraction` shares "
    "count, and `failing` for a source whose article requests all failed",
    minimum=1,
)
SOURCE_HEALTH_ERROR_SHARE = number(
    "SOURCE_HEALTH_ERROR_SHARE",
    _DEFAULT_RULES.error_share,
    "`blocked`: this share of the article requests failed (under half of it before)",
    minimum=0,
    maximum=1,
    above=True,
)
SOURCE_HEALTH_DROP_SHARE = number(
    "SOURCE_HEALTH_DROP_SHARE",
    _DEFAULT_RULES.drop_share,
    "`extraction`: this share of the fetched pages was no article (under half of it before)",
    minimum=0,
    maximum=1,
    above=True,
)
SOURCE_HEALTH_TEXT_FALL = number(
    "SOURCE_HEALTH_TEXT_FALL",
    _DEFAULT_RULES.text_fall,
    "`extraction`: the articles stored hold on average less text than this share of the usual",
    minimum=0,
    maximum=1,
)
SOURCE_HEALTH_LISTED_FALL = number(
    "SOURCE_HEALTH_LISTED_FALL",
    _DEFAULT_RULES.listed_fall,
    "`listing`: the feeds and sitemaps list fewer entries than this share of the usual",
    minimum=0,
    maximum=1,
)
SOURCE_HEALTH_QUIET_AFTER = duration_setting(
    "SOURCE_HEALTH_QUIET_AFTER",
    _DEFAULT_RULES.quiet_after,
    "`quiet`: no new article stored for this long where the source used to yield; `0` turns "
    "the rule off",
)
SOURCE_HEALTH_STALE_AFTER = duration_setting(
    "SOURCE_HEALTH_STALE_AFTER",
    _DEFAULT_RULES.stale_after,
    "`stale`: articles stored, but the newest publication date has not advanced for this long "
    "where it used to; `0` turns the rule off",
)
SETTINGS = (
    SOURCE_HISTORY_ENABLED,
    SOURCE_HEALTH_ENABLED,
    SOURCE_HEALTH_EXIT_STATUS,
    SOURCE_HEALTH_MIN_RUNS,
    SOURCE_HEALTH_WINDOW,
    SOURCE_HEALTH_MIN_REQUESTS,
    SOURCE_HEALTH_ERROR_SHARE,
    SOURCE_HEALTH_DROP_SHARE,
    SOURCE_HEALTH_TEXT_FALL,
    SOURCE_HEALTH_LISTED_FALL,
    SOURCE_HEALTH_QUIET_AFTER,
    SOURCE_HEALTH_STALE_AFTER,
)


def health_rules(settings: BaseSettings) -> HealthRules | None:
    """The health rules the settings ask for; ``None`` when the judging is off."""
    if not SOURCE_HEALTH_ENABLED.read(settings):
        return None
    return HealthRules(
        min_runs=SOURCE_HEALTH_MIN_RUNS.read(settings),
        window=SOURCE_HEALTH_WINDOW.read(settings),
        min_requests=SOURCE_HEALTH_MIN_REQUESTS.read(settings),
        error_share=SOURCE_HEALTH_ERROR_SHARE.read(settings),
        drop_share=SOURCE_HEALTH_DROP_SHARE.read(settings),
        text_fall=SOURCE_HEALTH_TEXT_FALL.read(settings),
        listed_fall=SOURCE_HEALTH_LISTED_FALL.read(settings),
        quiet_after=SOURCE_HEALTH_QUIET_AFTER.read(settings),
        stale_after=SOURCE_HEALTH_STALE_AFTER.read(settings),
    )


_WORKER_FILES = 4
"""History files read per run wanted: room for the files of a few crawl processes (Redis
mode)."""
HISTORY_MOST_FILES = 200
"""The most run-history files read to judge a run (a second or two), however long the
history."""


def _duration(length: timedelta) -> str:
    """A length of time to the minute, its two largest units: ``30d 2h``, ``2h 5m``, ``12m``."""
    minutes = int(length.total_seconds() // 60)
    units = [(minutes // 1440, "d"), (minutes // 60 % 24, "h"), (minutes % 60, "m")]
    shown = [f"{count}{unit}" for count, unit in units if count]
    return " ".join(shown[:2]) or "0m"


class _HistoryFiles:
    """The run-history files one judgement reads: each once, :data:`HISTORY_MOST_FILES` at
    most."""

    def __init__(self, location: DatasetLocation, *, skip: str) -> None:
        self.location = location
        self.tables: list[pa.Table] = []
        self.done = {skip}
        """The files read, and this run's own (its rows are taken as counted)."""

    def read(self, names: list[str]) -> None:
        """Read these files (names below ``runs/``); for one that is gone (merged into a new
        file by ``scrapy compact``), the files the compaction wrote in its partition."""
        gone: dict[str, None] = {}
        for name in names:
            if name in self.done:
                continue
            if len(self.done) > HISTORY_MOST_FILES:
                return
            self.done.add(name)
            try:
                self.tables.append(read_run_files(self.location, [name]))
            except FileNotFoundError:
                gone[posixpath.dirname(name)] = None
        for partition in gone:
            self.read([file.name for file in merged_files(self.location, partition)])


class SourceAccounting:
    """The extension: counts per source, writes the run history at the end."""

    def __init__(
        self, crawler: Crawler, location: DatasetLocation, stores: StateStores | None = None
    ) -> None:
        self.crawler = crawler
        self.location = location
        self.stores = stores
        """The crawl state's backend: a shared one names the run its processes share."""
        self.rules: HealthRules | None = None
        """The health rules, or ``None`` when sources are not judged."""
        self.index: RunIndex | None = None
        """Where each source's newest runs are (in ``STATE_DIR``), when sources are judged."""
        self._index_failed = False
        self.compression = DEFAULT_COMPRESSION
        """The run history's file is written as the dataset's (``PARQUET_COMPRESSION``)."""
        self.compression_level: int | None = None
        self.unhealthy: list[Finding] = []
        """What the health rules found at the end of the run."""
        self.judged = True
        """``False`` for a worker of a Redis run that left the judging to the run's last."""
        self.started = datetime.now(UTC)
        self.sources: dict[str, SourceRun] = {}
        self.left_out: dict[str, Counter[str]] = {}
        """Articles and links each source's listings left out, by reason (``too_old``,
        ``not_allowed``, ``depth_limited``): why a source found nothing, in the run summary
        (not in the run history)."""
        self._discovered = DigestSet()
        """A 64-bit digest of each article URL counted as discovered (listed twice, once)."""
        self._skipped = DigestSet()
        """A 64-bit digest of each article URL counted as skipped (listed twice, once)."""
        self._pending: dict[str, tuple[str, datetime | None, int]] = {}
        """Articles accepted and not yet committed: their URL, source, publication time and
        characters of text."""
        self._committed_first: set[str] = set()
        """URLs of rows committed before the item's ``item_scraped`` (the item that filled a
        file commits it before the signal is sent)."""
        self._site_sources: dict[str, str] = {}
        """The source each site's (``host:port``) requests counted for, for the requests
        that name none (``robots.txt``, fetched by Scrapy's middleware)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not SOURCE_HISTORY_ENABLED.read(settings):
            raise NotConfigured("SOURCE_HISTORY_ENABLED is off")
        if not OUTPUT_DIR.read(settings):
            raise NotConfigured("OUTPUT_DIR is empty: no dataset, no run history")
        extension = cls(crawler, dataset_location(settings), state_stores(crawler))
        extension.rules = health_rules(settings)
        extension.compression = PARQUET_COMPRESSION.read(settings)
        extension.compression_level = PARQUET_COMPRESSION_LEVEL.read(settings)
        if extension.rules is not None:
            extension.index = RunIndex(
                state_dir_setting(settings) / INDEX_FILE, keep=extension.rules.window + 1
            )
        for handler, signal in (
            (extension.spider_opened, signals.spider_opened),
            (extension.request_scheduled, signals.request_scheduled),
            (extension.article_skipped, article_skipped),
            (extension.response_received, signals.response_received),
            (extension.listing_read, listing_read),
            (extension.articles_left_out, left_out),
            (extension.fetch_failed, fetch_failed),
            (extension.item_scraped, signals.item_scraped),
            (extension.item_dropped, signals.item_dropped),
            (extension.articles_committed, articles_committed),
            (extension.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        for path in remove_stale_tmp_files(self.location):
            logger.warning("Removed the unfinished run-history file of a crashed crawl: %s", path)
        self._check_clock()

    def _check_clock(self) -> None:
        """One warning, and a stat, when this machine's clock is behind the newest run of the
        run history (by more than :data:`~crawler.report.CLOCK_SKEW`): a clock set ahead wrote
        it, or this one is behind. The crawl goes on (refused, every scheduled run would fail
        until that time came); the times it writes lie before that run's."""
        try:
            newest = newest_start(self.location)
        except (OSError, ValueError):  # the judgement at the end says so, when it reads it
            return
        if newest is None or newest - self.started <= CLOCK_SKEW:
            return
        behind = newest - self.started
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(SOURCE_HISTORY_CLOCK_BEHIND.name, int(behind.total_seconds()))
        logger.warning(
            "The clock (%s) is %s behind the newest run of the run history (started %s):"
            " a clock set ahead wrote it, or this machine's is behind; check the clock. The"
            " times this crawl writes lie before that run's",
            f"{self.started:%Y-%m-%d %H:%M:%S} UTC",
            _duration(behind),
            f"{newest:%Y-%m-%d %H:%M:%S} UTC",
        )

    @property
    def discovered(self) -> int:
        """Article pages discovered so far, every source's, each URL once."""
        return len(self._discovered)

    def source_of(self, request: Request) -> str:
        """The source a request counts for: its configured source's name; a request of the
        spider's that names none (an argument's URL, ``-a urls=``) counts for its site, even
        where a configured source names the site too; a request not of the spider's (a
        robots.txt) counts for the source its site's other requests named, else its site. A
        request redirected counts for the site it was first sent to: a site that sends every
        article to its consent or login page on another host (``consent.<site>``) is judged on
        what that page gave."""
        where = urlsplit(request.url).netloc
        if "source" in request.cb_kwargs:  # the spider's requests say, even when None
            name = request.cb_kwargs["source"]
            if not name:
                first = (request.meta.get("redirect_urls") or [request.url])[0]
                return site_host(first) or ""
            self._site_sources.setdefault(where, str(name))
            return str(name)
        return self._site_sources.get(where) or site_host(request.url) or ""

    def source(self, name: str) -> SourceRun:
        found = self.sources.get(name)
        if found is None:
            found = self.sources[name] = SourceRun(source=name)
        return found

    def _discover(self, request: Request, digest: int | None = None) -> SourceRun:
        """The request's source, its URL counted as discovered once (``digest``: its
        :func:`url_digest`, when the caller has it)."""
        run = self.source(self.source_of(request))
        if self._discovered.add(url_digest(request.url) if digest is None else digest):
            run.discovered += 1
        return run

    # --- signals --------------------------------------------------------------------------

    def request_scheduled(self, request: Request) -> None:
        if request.meta.get(ARTICLE_META) and not request.meta.get("redirect_urls"):
            self._discover(request)
        else:
            self.source_of(request)  # learns the source of the request's site

    def article_skipped(self, request: Request, reason: str) -> None:
        digest = url_digest(request.url)
        run = self._discover(request, digest)
        if not self._skipped.add(digest):
            return  # listed again (a feed and a sitemap): one page, skipped once
        if reason == "known":
            run.skipped_known += 1
        else:
            run.skipped_rejected += 1

    def response_received(self, response: Response, request: Request) -> None:
        run = self.source(self.source_of(request))
        run.bytes += len(response.body)
        if request.meta.get(ARTICLE_META) and 200 <= response.status < 300:
            if request.meta.get(RECHECK_META):
                run.rechecked += 1  # not a new page: kept out of the health shares
            else:
                run.fetched += 1

    def listing_read(self, request: Request, kind: str, entries: int, problem: str | None) -> None:
        run = self.source(self.source_of(request))
        run.listings += 1
        run.listed += entries if kind != "page" else 0
        if problem in ("invalid", "unreadable"):
            run.listing_errors += 1

    def articles_left_out(self, request: Request, counts: dict[str, int]) -> None:
        source = self.source(self.source_of(request)).source
        self.left_out.setdefault(source, Counter()).update(counts)

    def fetch_failed(self, request: Request, kind: str, listing: str | None) -> None:
        run = self.source(self.source_of(request))
        run.errors[kind] += 1
        if listing in ("feed", "sitemap"):
            run.listing_errors += 1
        if request.meta.get(ARTICLE_META):
            run.article_errors[kind] += 1

    def item_scraped(self, item: Any, response: Response) -> None:
        adapter = ItemAdapter(item)
        source = self.source_of(response.request) if response.request else ""
        url, published = str(adapter.get("url")), adapter.get("published_at")
        chars = len(adapter.get("text") or "")
        if url in self._committed_first:  # its file was committed before this signal came
            self._committed_first.discard(url)
            self._stored(source, published, chars)
        else:
            self._pending[url] = (source, published, chars)

    def item_dropped(self, item: Any, response: Response | None, exception: Exception) -> None:
        if response is None or response.request is None or response.meta.get(RECHECK_META):
            return
        self.source(self.source_of(response.request)).dropped[type(exception).__name__] += 1

    def articles_committed(self, file: str, keys: list[tuple[Any, ...]]) -> None:
        for url, *_ in keys:
            pending = self._pending.pop(url, None)
            if pending is None:
                self._committed_first.add(url)
            else:
                self._stored(*pending)

    def _stored(self, source: str, published: datetime | None, chars: int) -> None:
        run = self.source(source)
        run.stored += 1
        run.text_chars += chars
        run.saw_published(published)

    def _run_id(self) -> str:
        """The shared run's id in Redis mode, else this process's start and owner."""
        if self.stores is not None:
            try:
                shared = self.stores.run_id()
            except self.stores.errors as exc:
                logger.warning("Cannot read the shared run's id: %s", exc)
            else:
                if shared:
                    return shared
        return f"{self.started:%Y%m%dT%H%M%SZ}-{owner_tag()}"

    def spider_closed(self, spider: Spider, reason: str) -> None:
        shared = self.stores is not None and self.stores.shared
        if not self.sources and not shared:
            return
        info = RunInfo(
            run_id=self._run_id(),
            started_at=self.started,
            finished_at=datetime.now(UTC),
            finish_reason=reason,
        )
        name = ""
        if self.sources:
            try:
                name = write_runs(
                    self.location,
                    info,
                    self.sources.values(),
                    compression=self.compression,
                    compression_level=self.compression_level,
                )
            except OSError as exc:  # a full disk: the totals stay in the crawl report
                assert self.crawler.stats is not None
                self.crawler.stats.inc_value(SOURCE_HISTORY_WRITE_ERROR.name)
                logger.error("Cannot write the run history: %s", exc)
                return
            logger.info("Run history of %d sources written to runs/%s", len(self.sources), name)
        if self.rules is not None:
            run_files = self._run_files(name)
            if run_files is not None:
                self._judge(info, name, self.rules, run_files)
        if self.index is not None and name:
            try:
                self.index.add(name, self.sources)
            except (sqlite3.Error, OSError) as exc:
                self._index_problem(exc)

    def _run_files(self, own_file: str) -> tuple[str, ...] | None:
        """Whether this process judges the run (``None``: not), and the run history files of
        the run's other processes it then reads: it judges always, unless it is one worker of
        a Redis run whose other live workers have not all written their run history yet. Those
        judge the whole run, the last of them; this one would judge its own part of it (a
        worker that joined late and saw one request fail would find its source "failing")."""
        if self.stores is None or not self.stores.shared:
            return ()
        try:
            files = self.stores.judges_run(own_file)
        except self.stores.errors as exc:
            logger.warning(
                "Cannot tell whether the other workers wrote their run history (%s): the"
                " sources are judged on the run's rows written so far",
                exc,
            )
            return ()
        if files is None:
            self.judged = False
            logger.info(
                "The sources are judged by the last worker of the run to stop, once every"
                " worker's run history is written; not by this one"
            )
        return files

    def _index_problem(self, exc: Exception) -> None:
        """The run-history index cannot be used: one warning a run, and a stat."""
        assert self.crawler.stats is not None
        assert self.index is not None
        if not self._index_failed:
            self._index_failed = True
            self.crawler.stats.inc_value(SOURCE_HEALTH_INDEX_ERROR.name)
            logger.warning(
                "Cannot use the run-history index %s (%s): sources are judged on the newest"
                " runs of the history only; delete the file, and the next runs make it again",
                self.index.path,
                exc,
            )

    def _history(
        self, info: RunInfo, own_file: str, window: int, run_files: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The rows (:func:`per_run`) this run is judged on: its own, as this process counted
        them (not read back: the newest-named files of a history that a clock set ahead wrote
        into are not this run's), and those of its other processes (``run_files``, Redis
        mode), beside the rows of the history's newest files, back to ``window`` earlier runs
        of each of its sources as far as a bounded read finds them.

        The newest ``(window + 1) * 4`` files are read (partitions of later days than today
        skipped: a clock set ahead wrote them), then, for a source with fewer earlier runs in
        them (crawls of another sources file write into the same dataset), the files the
        :class:`RunIndex` names for it: :data:`HISTORY_MOST_FILES` in all, however long the
        history. A source that has no more runs (a new one) is judged on what that holds."""
        files = _HistoryFiles(self.location, skip=own_file)
        files.read(list(run_files))
        newest = newest_run_files(
            self.location, (window + 1) * _WORKER_FILES, until=datetime.now(UTC).date()
        )
        files.read([file.name for file in newest])
        lacking = self._lacking(files.tables, info.run_id, window)
        if lacking and self.index is not None:
            try:
                indexed = self.index.files_of(lacking)
            except (sqlite3.Error, OSError) as exc:
                self._index_problem(exc)
            else:
                files.read(indexed)
        return per_run(pa.concat_tables([to_table(info, self.sources.values()), *files.tables]))

    def _lacking(self, tables: list[pa.Table], run_id: str, window: int) -> list[str]:
        """This run's sources with fewer than ``window`` earlier runs in ``tables``."""
        earlier: dict[str, set[str]] = {name: set() for name in self.sources}
        for table in tables:  # the sources of the run's other processes (Redis mode)
            for source, run in zip(
                *(table.column(name).to_pylist() for name in ("source", "run_id")), strict=True
            ):
                if run == run_id:
                    earlier.setdefault(source, set())
        for table in tables:
            columns = (
                table.column(name).to_pylist() for name in ("source", "run_id", "started_at")
            )
            for source, run, started in zip(*columns, strict=True):
                if source in earlier and run != run_id and started <= self.started:
                    earlier[source].add(run)
        return [name for name, runs in earlier.items() if len(runs) < window]

    def _judge(
        self, info: RunInfo, own_file: str, rules: HealthRules, run_files: tuple[str, ...]
    ) -> None:
        """Judge this run's sources against their history: one WARNING line per rule broken.
        (In Redis mode the run's last worker to stop judges the rows of every worker: the
        files of the others are ``run_files``.)"""
        stats = self.crawler.stats
        assert stats is not None
        try:
            history = self._history(info, own_file, rules.window, run_files)
        except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid, a ValueError
            stats.inc_value(SOURCE_HEALTH_READ_ERROR.name)
            logger.error("Cannot read the run history to judge the sources: %s", exc)
            return
        self.unhealthy = judge_run(info.run_id, history, rules)
        for finding in self.unhealthy:
            stats.inc_value(SOURCE_HEALTH_UNHEALTHY.of(finding.rule))
            logger.warning("Unhealthy: %s", finding.line())
        stats.set_value(
            SOURCE_HEALTH_UNHEALTHY_SOURCES.name, len({f.source for f in self.unhealthy})
        )
