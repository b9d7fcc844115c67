"""``scrapy crawl`` with checked arguments and settings, one crawl at a time per dataset, and an
exit status a scheduler can act on (the table of the README):

* ``0``: the crawl finished;
* ``1``: the crawl failed (it did not finish normally, an error was logged, or every request
  failed); the last line says why;
* ``2``: a usage or configuration error (a spider name, an argument, a setting, an output that
  cannot be written): one line, ``scrapy: error: ...``, before anything starts;
* ``3``: another crawl holds the dataset (``STATE_DIR``): one line naming it;
* ``4``: the crawl finished, but a source is unhealthy (``crawler/source_accounting.py``); the
  last line names each, with the rule it broke (``SOURCE_HEALTH_EXIT_STATUS=False``: 0).

Scrapy's own command exits 0 whenever the crawl started, whatever happened.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import signal
import sqlite3
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.misc import load_object

from crawler.commands import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_UNHEALTHY,
    checked_settings,
    stop,
    unwritable_file,
)
from crawler.graceful_stop import patient_stop
from crawler.progress import FETCH_ERRORS, CrawlProgress
from crawler.project_command import ProjectCommand
from crawler.run_summary import run_summary
from crawler.source_accounting import SOURCE_HEALTH_EXIT_STATUS, SourceAccounting
from dataset.layout import local_output_dir, remove_made, unwritable_folder
from dataset.leftovers import remove_leftovers
from dataset.run_lock import LockBusy, RunLock
from pipelines.locations import (
    OUTPUT_DIR,
    RUN_LOCK_WAIT,
    dataset_location,
    output_problem,
    state_dir_setting,
)
from pipelines.state import STATE_STORES, state_problem
from pipelines.stats import (
    DISCOVERY_FEED_INVALID,
    DISCOVERY_FEEDS,
    DISCOVERY_LISTING_PAGES,
    DISCOVERY_SITEMAP_INDEXES,
    DISCOVERY_SITEMAP_INVALID,
    DISCOVERY_SITEMAPS,
    DOWNLOADER_EXCEPTION,
    FETCH_PAGES,
    FINISH_REASON,
    LOG_ERRORS,
)

if TYPE_CHECKING:
    import argparse

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

HELP_ARGUMENT = "help"
"""``-a help=1``: print the spider's arguments instead of crawling."""


FETCHED = (
    FETCH_PAGES.name,
    DISCOVERY_FEEDS.name,
    DISCOVERY_SITEMAPS.name,
    DISCOVERY_LISTING_PAGES.name,
)
"""The stats of what a crawl fetched and could use: article candidates, listings read. Not
Scrapy's ``downloader/response_count``, which also counts robots.txt (a 404 too) and each
redirect: a crawl whose every article request failed after a redirect exited 0."""
FAILED = (*FETCH_ERRORS, DOWNLOADER_EXCEPTION.prefix)
"""The stats of requests that failed for good."""
UNUSABLE = (DISCOVERY_FEED_INVALID.name, DISCOVERY_SITEMAP_INVALID.name)
"""The stats of listings fetched that were no listing (an HTML page given as a feed, a
sitemap cut short): read, nothing found in them."""
INDEXES = DISCOVERY_SITEMAP_INDEXES.name
"""Sitemap indexes read: counted among the sitemaps, they list no article."""


def crawl_failed(stats: dict[str, Any]) -> str | None:
    """Why a crawl with these final stats failed, or ``None`` when it did not."""
    reason = stats.get(FINISH_REASON.name)
    if reason != "finished":
        return f"the crawl did not finish normally ({reason})"
    errors = stats.get(LOG_ERRORS.name, 0)
    if errors:
        return f"{errors} errors were logged"
    fetched = sum(stats.get(key, 0) for key in FETCHED) - stats.get(INDEXES, 0)
    failed = sum(value for key, value in stats.items() if key.startswith(FAILED))
    unusable = sum(stats.get(key, 0) for key in UNUSABLE)
    if failed and not fetched and not unusable:
        return "every request failed"
    if unusable and not fetched:
        # the crawl read nothing it was given (it exited 0, "0 articles found")
        return "no listing could be read (not a feed or sitemap, or cut short), nothing fetched"
    return None


def source_accounting(crawler: Crawler) -> SourceAccounting | None:
    """The crawler's source accounting (``None`` when ``SOURCE_HISTORY_ENABLED`` is off)."""
    return crawler.get_extension(SourceAccounting)


def stop_progress(crawler: Crawler) -> None:
    """End the live progress display, if one is shown, before anything else is printed (the
    spider's closing ends it; a forced shutdown closes no spider)."""
    try:
        progress = crawler.get_extension(CrawlProgress)
    except RuntimeError:  # the crawl never started: no extension was made
        return
    if progress is not None:
        progress.stop()


def unhealthy_sources(accounting: SourceAccounting | None) -> str:
    """The sources the crawl found unhealthy, each with the rules it broke (``beta
    (blocked), gamma (listing)``); empty when none."""
    found: dict[str, list[str]] = {}
    for finding in accounting.unhealthy if accounting is not None else []:
        found.setdefault(finding.source, []).append(finding.rule)
    return ", ".join(f"{source} ({', '.join(rules)})" for source, rules in sorted(found.items()))


NOT_APPENDABLE = {
    "parquet": (
        "Parquet cannot be appended to; use -O to replace it, or the dataset (OUTPUT_DIR) to add"
        " rows run after run"
    ),
    "json": (
        "a JSON array cannot be appended to (the file would hold two); use -O to replace it, or"
        " a JSON Lines file (.jsonl) to add rows run after run"
    ),
    "csv": (
        "appending to CSV repeats its header line in the middle; use -O to replace it, or a"
        " JSON Lines file (.jsonl) to add rows run after run"
    ),
    "xml": (
        "an XML document cannot be appended to (the file would hold two); use -O to replace it,"
        " or a JSON Lines file (.jsonl) to add rows run after run"
    ),
}
"""Export formats a second run's ``-o`` (append) would make unreadable, and what to do."""


def feed_problem(settings: BaseSettings) -> str | None:
    """Why a feed export of the command line cannot be written as asked: ``-o`` (append) on a
    file that exists in a format that cannot be appended to (:data:`NOT_APPENDABLE`: a second
    Parquet file after the first one's bytes, of which readers see one; a JSON array after a
    JSON array); a local file that cannot be opened for writing (a folder, a place where no
    file can be made) would fail at every item, with a traceback."""
    for uri, options in settings.getdict("FEEDS").items():
        path = str(uri)
        flag = "-O" if options.get("overwrite") else "-o"
        local = local_output_dir(path)
        if local is None or "%(" in path:  # an object store; placeholders: named at export
            continue
        if local.is_dir():
            return f"{flag} {path} is a folder; name a file"
        unappendable = NOT_APPENDABLE.get(str(options.get("format")))
        appended = unappendable is not None and flag == "-o" and local.is_file()
        if appended and local.stat().st_size > 0:
            return f"-o {path}: the file exists, and {unappendable}"
        problem = unwritable_file(local)
        if problem is not None:
            return f"{flag} {path}: cannot write it ({problem})"
    return None


UNAWAITED_OPEN = r"coroutine 'ensure_awaitable\.<locals>\.coro' was never awaited"
"""What Python warns of a stage's ``open_spider`` that Scrapy called and never awaited, as
another stage failed to open before the others ran (``ItemPipelineManager`` calls them all,
then gathers them): the stages ran; the warning is noise beside the line that says why."""


def start_failure(known: tuple[type[BaseException], ...], crawl: asyncio.Future[None]) -> None:
    """Log why the crawl could not start (a stage that could not open), in one line when the
    environment is the cause (a full disk as the crawl state is made: asyncio printed a "Task
    exception was never retrieved" traceback), with its traceback otherwise (a fault of the
    code, to report). Asking the task for its error keeps asyncio from printing it again."""
    if crawl.cancelled() or (exc := crawl.exception()) is None:
        return
    if isinstance(exc, known):
        logger.error("The crawl could not start: %s", exc)
    else:
        logger.error("The crawl could not start", exc_info=exc)


def job_dir_problem(settings: BaseSettings, made: list[Path]) -> str | None:
    """Why ``JOBDIR`` cannot hold the crawl's queue and state (under a file, not writable):
    Scrapy found out as the crawl opened, with a traceback, the run lock taken. The folders
    made are added to ``made``."""
    job_dir = settings.get("JOBDIR")
    # made, as Scrapy makes it
    problem = unwritable_folder(Path(job_dir), made) if job_dir else None
    return (
        f"JOBDIR={job_dir}: cannot make the folder or write in it: {problem}" if problem else None
    )


def _stop_gracefully(signum: int, frame: object) -> None:
    os.kill(os.getpid(), signal.SIGTERM)


def ignore_late_stops() -> None:
    """Ignore SIGTERM, SIGINT and SIGHUP from the end of the crawl on: it ran its course,
    everything it did is written, and its exit status says how it went. Python gives a signal
    its default action back as it finalizes (but for one it ignores), so a stop asked in those
    last tenths of a second killed a crawl that had finished: exit status 143 instead of 0."""
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)


class ErrorCount(logging.Handler):
    """Counts the errors logged while the crawl runs, to its very end: Scrapy's own count
    (``log_count/ERROR``) stops at its ``spider_closed``, before the receivers connected after
    it (the run history, the source health) and the engine's last steps, whose errors would
    otherwise leave the exit status 0."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class Command(ProjectCommand, ScrapyCrawlCommand):
    takes_arguments = True  # the spider's name
    stops_in_one_line = False  # a stop is graceful (crawler.graceful_stop)

    checked: BaseSettings
    """The settings as the add-ons leave them, all of them found usable (by
    :meth:`process_options`)."""
    lock: RunLock
    """The dataset's run lock, held from :meth:`process_options` to the end of :meth:`run`."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        """Everything is checked here, before Scrapy starts a crawler process (and logs): the
        spider name, the spider's arguments, every setting, the outputs."""
        super().process_options(args, opts)
        assert self.settings is not None
        loader = get_spider_loader(self.settings)
        spiders = ", ".join(sorted(loader.list())) or "none"
        if len(args) != 1:
            stop(f"give one spider name: scrapy crawl <spider> (this project's: {spiders})")
        try:
            spider_class = loader.load(args[0])
        except KeyError:
            stop(f"no spider named {args[0]!r}; this project's: {spiders}")
        if HELP_ARGUMENT in opts.spargs and hasattr(spider_class, "arguments_help"):
            print(spider_class.arguments_help(), end="")
            raise SystemExit(0)
        check = getattr(spider_class, "check_arguments", None)
        if check is not None:
            try:
                check(**opts.spargs)
            except UsageError as exc:
                stop(str(exc))
        settings = checked_settings(self.settings)
        # last the ones that write (a probe file, and the folders the crawl needs); a start
        # refused takes back the folders they made
        made: list[Path] = []
        problem = (
            feed_problem(settings)
            or job_dir_problem(settings, made)
            or state_problem(settings)
            or output_problem(settings, made)
        )
        if problem is not None:
            remove_made(made)
            stop(problem)
        self.checked = settings
        # taken last, and before Scrapy starts: a crawl that cannot run holds nothing
        self.lock = self._run_lock()

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.crawler_process is not None
        with self.lock:
            if self.lock.taken_over is not None:
                logger.warning(
                    "Took over the lock of a crawl that ended without releasing it (%s)",
                    self.lock.taken_over,
                )
            if self.lock.held:
                self._remove_leftovers()
            crawler = self._create_crawler(args[0])
            # a stage that cannot open: Scrapy wrapped the stages opened before it in
            # coroutines it never awaits, a RuntimeWarning beside start_failure's line
            warnings.filterwarnings("ignore", UNAWAITED_OPEN, RuntimeWarning)
            crawl = self.crawler_process.crawl(crawler, **opts.spargs)
            if isinstance(crawl, asyncio.Future):
                crawl.add_done_callback(functools.partial(start_failure, self._known_errors()))
            patient_stop(crawler, crawl)
            # a closed terminal or ssh session: a graceful stop, as SIGTERM (it ended the
            # crawl at once, its accepted articles not written, no report, no line)
            signal.signal(signal.SIGHUP, _stop_gracefully)
            errors = ErrorCount()
            logging.getLogger().addHandler(errors)
            try:
                self.crawler_process.start()
            finally:
                logging.getLogger().removeHandler(errors)
                stop_progress(crawler)
                ignore_late_stops()
        # the exit status is set before anything is printed: a reader of the standard output
        # that is gone (crawler.project_command._quiet_when_output_closes) leaves it as it is
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            print("crawl failed: the crawl could not start (its error is above)")
            return
        assert crawler.stats is not None
        accounting = source_accounting(crawler)
        stats = crawler.stats.get_stats()
        # Scrapy stops counting errors as the spider closes, before the last closing steps
        errors_logged = max(stats.get(LOG_ERRORS.name, 0), errors.count)
        failure = crawl_failed({**stats, LOG_ERRORS.name: errors_logged})
        unhealthy = unhealthy_sources(accounting)
        last_line = None
        if failure is not None:
            self.exitcode = EXIT_FAILED
            last_line = f"crawl failed: {failure}"
        elif unhealthy and SOURCE_HEALTH_EXIT_STATUS.read(self.checked):
            self.exitcode = EXIT_UNHEALTHY
            last_line = f"crawl finished; unhealthy sources: {unhealthy}"
        if accounting is not None and accounting.sources:
            summary = run_summary(
                stats,
                list(accounting.sources.values()),
                accounting.unhealthy if accounting.judged else None,
                accounting.left_out,
            )
            print(summary, end="")
        if last_line is not None:
            print(last_line)

    def _known_errors(self) -> tuple[type[BaseException], ...]:
        """What the environment raises (a full disk, a state that cannot be reached)."""
        stores: Any = load_object(STATE_STORES.read(self.checked))
        return (OSError, sqlite3.Error, *getattr(stores, "errors", ()))

    def _remove_leftovers(self) -> None:
        """What killed crawls left in ``STATE_DIR/tmp``, whichever host they ran on (every run
        in a container has a host name of its own): this crawl holds the run lock and has
        written nothing there yet (:mod:`dataset.leftovers`)."""
        settings = self.checked
        state = state_dir_setting(settings)
        location = dataset_location(settings) if OUTPUT_DIR.read(settings) else None
        try:
            remove_leftovers(location, state)
        except OSError as exc:  # the crawl's own files are written there: it finds out soon
            logger.warning("Could not remove what killed crawls left in %s: %s", state, exc)

    def _run_lock(self) -> RunLock:
        """The dataset's run lock, taken (waiting up to ``RUN_LOCK_WAIT``); the command stops
        with status 3 when another crawl holds it. A crawl state shared by many crawl
        processes (Redis mode) takes none: its workers crawl one dataset together."""
        settings = self.checked
        lock = RunLock(state_dir_setting(settings))
        if getattr(load_object(STATE_STORES.read(settings)), "shared", False):
            return lock  # never acquired: nothing to release
        try:
            lock.acquire(wait=RUN_LOCK_WAIT.read(settings))
        except LockBusy as exc:
            stop(str(exc), EXIT_LOCKED)
        except KeyboardInterrupt:  # Ctrl-C while waiting (up to RUN_LOCK_WAIT): no traceback
            holder = lock.holder()
            held = f" (held by {holder})" if holder else ""
            stop(f"interrupted while waiting for the dataset's lock{held}", EXIT_INTERRUPTED)
        return lock
