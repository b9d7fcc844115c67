"""Scrapy's HTTP cache, as a crawl of listings needs it: every cached response asked for again
(revalidated), never served in place of an answer, and entries that appear whole.

Scrapy's :class:`~scrapy.extensions.httpcache.RFC2616Policy` serves a cached response without
asking the server while its headers say it is fresh (``Cache-Control: max-age``, ``Expires``,
or 10% of its age since ``Last-Modified``), serves the cached copy when the server answers with
an error (5xx), and Scrapy's middleware serves it when the server cannot be reached: a feed that
listed new articles meanwhile was not read (its new entries lost once it rolled over), and a
site that was down looked up. Here a cached feed, sitemap or robots.txt is always asked for
again, with its ``ETag``/``Last-Modified`` (a ``304`` answer uses the cached body), and a
failure is a failure (:class:`RevalidatingPolicy`, :class:`HttpCacheMiddleware`).

Scrapy's :class:`~scrapy.extensions.httpcache.FilesystemCacheStorage` writes an entry's files
one after the other, its metadata before its body: a process that reads the entry meanwhile
finds it cached with an empty or half-written body. With several crawler processes sharing
one cache (Redis mode, or two crawls of one output directory) a robots.txt read that way
allows everything. Here an entry is written into a scratch folder and renamed into place.

Scrapy's storage keeps every entry for ever, and a news site mints listing URLs all the time (a
sitemap a day, new tag pages, pagination): the cache grew by them run after run, none asked for
again. Here an entry's folder is touched whenever it is used (stored, or read to be revalidated),
and a crawl starts by removing the entries no crawl used for ``HTTPCACHE_PRUNE_AFTER``, while it
holds the run lock (:meth:`HttpCacheMiddleware.spider_opened`), and the scratch folders that
killed crawls left (:func:`dataset.layout.left_behind`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Self

from scrapy import signals
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware as ScrapyHttpCacheMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy

from dataset.layout import left_behind, owner_tag
from dataset.run_lock import run_lock_held
from pipelines.locations import state_dir_setting
from pipelines.setting import duration_setting
from pipelines.stats import HTTPCACHE_PRUNED, HTTPCACHE_SCRATCH_REMOVED

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings, Settings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

HTTPCACHE_PRUNE_AFTER = duration_setting(
    "HTTPCACHE_PRUNE_AFTER",
    timedelta(days=35),
    "a cached listing no crawl has asked for this long (yesterday's sitemap, an old tag page, "
    "a page of pagination) is removed as a crawl starts; one asked for on every run stays, "
    "for any schedule up to monthly",
    positive=True,
)
SETTINGS = (HTTPCACHE_PRUNE_AFTER,)
TRASH = ".pruned"
"""The folder of ``HTTPCACHE_DIR`` where pruned entries wait to be deleted (no spider's name:
Scrapy keeps a spider's entries in a folder named after it)."""
SCRATCH_SUFFIXES = (".tmp", ".old")
"""An entry being written (``.<entry>.<token>.<host>-<pid>.tmp``), and one being replaced
(``.old``), beside the entries: :meth:`AtomicFilesystemCacheStorage.store_response`."""


class Pruned(NamedTuple):
    """What :meth:`AtomicFilesystemCacheStorage.prune` took out."""

    listings: int
    """Entries no crawl used within the interval."""
    scratch: int
    """Scratch folders that killed crawls left (:func:`dataset.layout.left_behind`)."""


class RevalidatingPolicy(RFC2616Policy):
    """``HTTPCACHE_POLICY``: RFC 2616's, except that a cached response is never fresh (it is
    asked for again, with its validators), and only a ``304`` answer makes it valid."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(
        self, cachedresponse: Response, response: Response, request: Request
    ) -> bool:
        return response.status == 304


class HttpCacheMiddleware(ScrapyHttpCacheMiddleware):
    """Scrapy's cache middleware, without its "error recovery": a request that fails (the
    server cannot be reached, a timeout) fails, where Scrapy's returned the cached copy; and
    whose storage is pruned as the crawl starts."""

    def __init__(
        self,
        settings: Settings,
        stats: StatsCollector,
        *,
        prune_after: timedelta = HTTPCACHE_PRUNE_AFTER.default,
        state_dir: Path | None = None,
    ) -> None:
        super().__init__(settings, stats)
        self.prune_after = prune_after
        self.state_dir = state_dir
        """The ``STATE_DIR`` whose run lock the pruning holds (``None``: never pruned)."""
        self._stop = threading.Event()
        self._emptying: threading.Thread | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        assert crawler.stats is not None
        middleware = cls(
            settings,
            crawler.stats,
            prune_after=HTTPCACHE_PRUNE_AFTER.read(settings),
            state_dir=state_dir_setting(settings),
        )
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        middleware.crawler = crawler
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        """Open the storage, and prune it: before the crawl's first request, none of its
        entries is being read or written by this crawl (every entry this crawl asks for is
        then touched, so the ones a crawl uses always stay). Counted in the crawl report."""
        super().spider_opened(spider)
        if not isinstance(self.storage, AtomicFilesystemCacheStorage) or self.state_dir is None:
            return  # another storage (Scrapy's DBM one) keeps its own entries
        started = time.monotonic()
        with run_lock_held(self.state_dir) as held:
            if not held:  # another crawl of this STATE_DIR runs: it may be reading them
                logger.debug("The HTTP cache is not pruned: another crawl holds the run lock")
                return
            removed, scratch = self.storage.prune(
                spider.name, time.time() - self.prune_after.total_seconds()
            )
        self._emptying = threading.Thread(
            target=self.storage.empty_trash,
            args=(self._stop,),
            name="httpcache-prune",
            daemon=True,
        )
        self._emptying.start()
        if removed:
            self.stats.inc_value(HTTPCACHE_PRUNED.name, removed)
            logger.info(
                "Pruned %d cached listings no crawl asked for in %.4g days"
                " (HTTPCACHE_PRUNE_AFTER) in %.2f s; their files are deleted meanwhile",
                removed,
                self.prune_after / timedelta(days=1),
                time.monotonic() - started,
            )
        if scratch:
            self.stats.inc_value(HTTPCACHE_SCRATCH_REMOVED.name, scratch)
            logger.info(
                "Removed %d scratch folders that killed crawls left in the HTTP cache %s",
                scratch,
                self.storage.cachedir,
            )

    def spider_closed(self, spider: Spider) -> None:
        """Stop deleting what was pruned (the next crawl deletes what is left), and close."""
        if self._emptying is not None:
            self._stop.set()
            self._emptying.join()
        super().spider_closed(spider)

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | Response | None:
        request.meta.pop("cached_response", None)
        return None


class AtomicFilesystemCacheStorage(FilesystemCacheStorage):
    """``HTTPCACHE_STORAGE``: Scrapy's filesystem storage, each entry published at once, its
    folder's modification time saying when it was last used (:meth:`prune`)."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self._writing_to: Path | None = None

    def _get_request_path(self, spider: Spider, request: Request) -> str:
        if self._writing_to is not None:
            return str(self._writing_to)
        return super()._get_request_path(spider, request)

    @staticmethod
    def _touch(entry: Path) -> None:
        """Mark an entry used now. The time is this process's clock, the one :meth:`prune`
        compares with (a file system's own, on NFS the server's, may differ)."""
        now = time.time()
        with contextlib.suppress(OSError):  # replaced meanwhile by another process: as new
            os.utime(entry, (now, now))

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        response = super().retrieve_response(spider, request)
        if response is not None:  # asked for again: it is revalidated, or replaced
            self._touch(Path(self._get_request_path(spider, request)))
        return response

    def prune(self, spider_name: str, unused_since: float) -> Pruned:
        """Take out the spider's entries unused since ``unused_since`` (a :func:`time.time`),
        and the scratch folders that killed processes left (those of this machine's dead
        processes, and any unchanged for an hour: :func:`dataset.layout.left_behind`; never
        one a live process writes): each is moved into the cache's :data:`TRASH` folder, for
        :meth:`empty_trash` to delete. Returns how many of each.

        One ``stat`` per entry, and one ``rename`` per entry taken out: the entries are those
        used within the pruning interval, so the cost is bounded by what the crawls ask for
        in it, not by how long they ran; deleting their files, the slow part (seconds per
        thousand entries on a busy disk), is left to a thread. Moved whole at once, an entry
        read meanwhile (by a Redis-mode worker of the same ``STATE_DIR``: it takes no run lock)
        is found gone, a miss, and its listing fetched whole; never served in part."""
        trash = Path(self.cachedir, TRASH)
        root = Path(self.cachedir, spider_name)
        try:
            prefixes = [entry.path for entry in os.scandir(root) if entry.is_dir()]
        except FileNotFoundError:
            return Pruned(0, 0)
        trash.mkdir(exist_ok=True)
        now = time.time()
        removed = {False: 0, True: 0}
        for prefix in prefixes:
            try:
                with os.scandir(prefix) as found:
                    taken = [
                        (entry.path, scratch)
                        for entry in found
                        if (
                            left_behind(Path(entry.path), now)
                            if (scratch := _scratch(entry))
                            else _older(entry, unused_since)
                        )
                    ]
            except FileNotFoundError:
                continue
            for path, scratch in taken:
                name = f"{Path(path).name}.{os.getpid()}-{secrets.token_hex(4)}"
                try:
                    Path(path).rename(trash / name)
                except OSError:  # removed or replaced meanwhile by another process
                    continue
                removed[scratch] += 1
        return Pruned(removed[False], removed[True])

    def empty_trash(self, stop: threading.Event | None = None) -> int:
        """Delete what :meth:`prune` took out (by this crawl, or by one that ended before it
        had deleted it all), until ``stop`` is set; returns how many entries."""
        try:
            with os.scandir(Path(self.cachedir, TRASH)) as found:
                taken_out = [entry.path for entry in found]
        except FileNotFoundError:
            return 0
        deleted = 0
        for path in taken_out:
            if stop is not None and stop.is_set():
                break
            shutil.rmtree(path, ignore_errors=True)
            deleted += 1
        return deleted

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        final = Path(self._get_request_path(spider, request))
        unique = f"{secrets.token_hex(4)}.{owner_tag()}"
        scratch = final.with_name(f".{final.name}.{unique}.tmp")
        self._writing_to = scratch
        try:
            super().store_response(spider, request, response)
        except OSError as exc:  # a full disk: the response is used, just not cached
            shutil.rmtree(scratch, ignore_errors=True)
            logger.warning("Cannot cache %s: %s", request.url, exc)
            return
        finally:
            self._writing_to = None
        old = final.with_name(f".{final.name}.{unique}.old")
        with contextlib.suppress(FileNotFoundError):
            final.rename(old)
        try:
            scratch.rename(final)
        except OSError:  # another process published this entry meanwhile: keep its entry
            shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        self._touch(final)


def _scratch(entry: os.DirEntry[str]) -> bool:
    """Whether a folder of the cache is an entry being written or replaced, not an entry."""
    return entry.name.startswith(".") and entry.name.endswith(SCRATCH_SUFFIXES)


def _older(entry: os.DirEntry[str], than: float) -> bool:
    """Whether a cache folder was last modified (used) before ``than``."""
    try:
        return entry.is_dir(follow_symlinks=False) and entry.stat().st_mtime < than
    except FileNotFoundError:
        return False
