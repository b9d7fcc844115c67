"""``scrapy compact``: merge the small data files of each partition into well-sized ones: the
articles', the HTML archive's, and the run history's (a day's run files into one).

Uses :mod:`dataset.compaction`, locally or in an object store; one compaction at a time per
dataset (a lock file in ``STATE_DIR``: in an object store, run it from one machine with one
``STATE_DIR``), and the crawl state learns the new file names in the same step, so the next
crawl does not read the files again.
"""

from __future__ import annotations

import fcntl
import logging
from typing import TYPE_CHECKING

from crawler.commands import (
    EXIT_FAILED,
    EXIT_LOCKED,
    checked_settings,
    dataset_holds,
    stop,
)
from crawler.project_command import ProjectCommand
from dataset.compaction import (
    DEFAULT_ROW_GROUP_ROWS,
    DEFAULT_TARGET_ROWS,
    CompactionError,
    PartitionResult,
    compact_partition_at,
    finish_interrupted,
    small_files_at,
)
from dataset.layout import ARTICLES, HTML, PARTITION_KEY, RUN_PARTITION_KEY, RUNS
from dataset.run_history import FILE_PREFIX as RUNS_PREFIX
from dataset.run_history import SCHEMA as RUNS_SCHEMA
from dataset.run_history import SORT_KEYS as RUNS_ORDER
from dataset.run_lock import COMPACT_LOCK_FILE
from dataset.schema import ARTICLE_SCHEMA, HTML_SCHEMA
from dataset.state.base import LockHeld, StateError
from dataset.storage import (
    DatasetLocation,
    file_rows_at,
    list_data_files,
    partitions_at,
    stray_lines,
)
from pipelines.locations import dataset_location, state_dir_setting
from pipelines.parquet import PARQUET_COMPRESSION, PARQUET_COMPRESSION_LEVEL
from pipelines.state import open_state_stores, state_problem

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path

    import pyarrow as pa

    from dataset.state.base import CrawlStateStore, StateStores

logger = logging.getLogger(__name__)


def _partitions(location: DatasetLocation, folder: str, wanted: set[str]) -> list[str]:
    """The partitions of ``folder`` (all, or those named in ``wanted``)."""
    return [name for name in partitions_at(location, folder) if not wanted or name in wanted]


def _record(
    state: CrawlStateStore,
    location: DatasetLocation,
    partition: str,
    result: PartitionResult,
) -> None:
    state.replace_files(
        (f"{partition}/{name}" for name in result.merged),
        (
            (f"{partition}/{name}", file_rows_at(location, f"{partition}/{name}"))
            for name in result.written
        ),
    )


class Command(ProjectCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "INFO"}  # noqa: RUF012 - Scrapy's own class attribute
    stopped_note = (
        "; the partitions compacted stay so, the one it was at is completed or left as it was"
    )

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Merge the small data files of each partition under OUTPUT_DIR into larger ones"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument(
            "--partition",
            action="append",
            default=[],
            metavar="DAY",
            help=(
                "compact only this day (YYYY-MM-DD or fetch_date=YYYY-MM-DD): its partition of"
                " the articles, of the archive and of the run history; repeatable"
            ),
        )
        parser.add_argument(
            "--target-rows",
            type=int,
            default=DEFAULT_TARGET_ROWS,
            help=f"rows per new file (default {DEFAULT_TARGET_ROWS}); files below half are merged",
        )
        parser.add_argument(
            "--row-group-rows",
            type=int,
            default=DEFAULT_ROW_GROUP_ROWS,
            help=f"rows per row group of the new files (default {DEFAULT_ROW_GROUP_ROWS})",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be merged, change nothing"
        )

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if not 2 <= opts.target_rows <= MOST_ROWS or not 1 <= opts.row_group_rows <= MOST_ROWS:
            stop(
                f"--target-rows must be from 2 to {MOST_ROWS} and --row-group-rows from 1 to "
                f"{MOST_ROWS}"
            )
        assert self.settings is not None
        self.checked = checked_settings(self.settings)
        problem = state_problem(self.checked)
        if problem is not None:
            stop(problem)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        settings = self.checked
        location = dataset_location(settings)
        state = state_dir_setting(settings)
        # a dataset of sources that never stored an article holds a run history alone
        articles = dataset_holds(location, ARTICLES)
        if not articles and not dataset_holds(location, RUNS):
            stop(f"no dataset under {location.display}/{ARTICLES}")  # as scrapy summary says
        days = {day.removeprefix(f"{PARTITION_KEY}=") for day in opts.partition}
        wanted = {f"{PARTITION_KEY}={day}" for day in days}
        partitions = _partitions(location, ARTICLES, wanted) if articles else []
        runs = _partitions(location, RUNS, {f"{RUN_PARTITION_KEY}={day}" for day in days})
        missing = days - {name.split("=", 1)[1] for name in (*partitions, *runs)}
        if missing:
            stop(f"no such partition: {', '.join(f'{PARTITION_KEY}={d}' for d in sorted(missing))}")
        try:
            state.mkdir(parents=True, exist_ok=True)
            lock = (state / COMPACT_LOCK_FILE).open("w")
        except OSError as exc:
            stop(f"STATE_DIR {state} is not writable: {exc.strerror or exc}")
        with lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                stop(f"another compaction of {location.display} is running", EXIT_LOCKED)
            try:
                stores = open_state_stores(settings)
            except StateError as exc:
                stop(str(exc))
            try:
                self._run_locked(
                    stores,
                    location,
                    state,
                    partitions if articles else None,
                    runs=runs,
                    wanted=wanted,
                    opts=opts,
                )
            except LockHeld as exc:
                stop(str(exc), EXIT_LOCKED)
            except stores.errors as exc:
                stop(f"cannot use the crawl state in {state}: {exc}", EXIT_FAILED)
            finally:
                stores.close()

    def _run_locked(
        self,
        stores: StateStores,
        location: DatasetLocation,
        state: Path,
        partitions: list[str] | None,
        *,
        runs: list[str],
        wanted: set[str],
        opts: argparse.Namespace,
    ) -> None:
        # one compaction at a time across the machines of the deployment too (Redis mode)
        with stores.lock("compaction"):
            # this state folder's lock held: a job in its tmp/ is a dead one, whoever left it
            finish_interrupted(location, state, any_host=True)
            # the HTML archive (when kept) is compacted the same way, its files apart
            archive = _partitions(location, HTML, wanted) if partitions is not None else []
            if partitions is None:  # ``None``: no articles/ folder, the run history alone
                print(f"No articles under {location.display}/{ARTICLES}: the run history alone")
            for folder in (ARTICLES, HTML, RUNS) if partitions is not None else (RUNS,):
                strays: list[str] = []
                list_data_files(location, folder, strays=strays.append)
                for line in stray_lines(folder, strays):
                    logger.warning("Not compacted: %s", line)
            if opts.dry_run:
                self._plan(location, ARTICLES, partitions or [], opts.target_rows)
                self._plan(location, HTML, archive, opts.target_rows)
                self._plan(location, RUNS, runs, opts.target_rows)
            elif partitions is not None:
                # the crawl state lists the article files only
                crawl_state = stores.crawl_state()
                try:
                    # a compaction killed before it recorded its files left their names
                    crawl_state.forget_gone(location)
                    self._compact(
                        location,
                        ARTICLES,
                        partitions,
                        state_dir=state,
                        opts=opts,
                        schema=ARTICLE_SCHEMA,
                        crawl_state=crawl_state,
                        state_errors=stores.errors,
                    )
                finally:
                    crawl_state.close()
                if archive:
                    self._compact(
                        location, HTML, archive, state_dir=state, opts=opts, schema=HTML_SCHEMA
                    )
            # a day's run-history files into one (they are not in the crawl state)
            if runs and not opts.dry_run:
                self._compact(
                    location,
                    RUNS,
                    runs,
                    state_dir=state,
                    opts=opts,
                    schema=RUNS_SCHEMA,
                    sort_keys=RUNS_ORDER,
                    prefix=RUNS_PREFIX,
                )

    def _plan(
        self, location: DatasetLocation, folder: str, partitions: list[str], target_rows: int
    ) -> None:
        failed = merging = 0
        for partition in partitions:
            try:
                found = small_files_at(location, folder, partition, target_rows)
            except (CompactionError, OSError) as exc:  # what the compaction would stop on
                logger.error("Would leave %s as it is: %s", partition, exc)
                failed += 1
                continue
            if len(found) >= 2:
                print(f"{folder}/{partition}: would merge {len(found)} files")
                merging += 1
        if partitions and not merging and not failed:
            print(f"{folder}: nothing to merge in {len(partitions)} partitions")
        if failed:
            self.exitcode = EXIT_FAILED

    def _compact(
        self,
        location: DatasetLocation,
        folder: str,
        partitions: list[str],
        *,
        state_dir: Path,
        opts: argparse.Namespace,
        schema: pa.Schema,
        crawl_state: CrawlStateStore | None = None,
        state_errors: tuple[type[Exception], ...] = (),
        sort_keys: Sequence[tuple[str, str]] | None = None,
        prefix: str = "part",
    ) -> None:
        merged = written = failed = 0
        # the new files are written as a crawl writes its files
        compression = PARQUET_COMPRESSION.read(self.checked)
        compression_level = PARQUET_COMPRESSION_LEVEL.read(self.checked)
        for partition in partitions:
            try:
                result = compact_partition_at(
                    location,
                    folder,
                    partition,
                    state=state_dir,
                    target_rows=opts.target_rows,
                    row_group_rows=opts.row_group_rows,
                    compression=compression,
                    compression_level=compression_level,
                    schema=schema,
                    sort_keys=sort_keys,
                    prefix=prefix,
                )
            except CompactionError as exc:
                logger.error("Left %s as it was: %s", partition, exc)
                failed += 1
                continue
            except OSError as exc:  # what was done is completed or undone (see compaction)
                logger.error("Stopped compacting %s: %s", partition, exc)
                failed += 1
                continue
            if result is None:
                continue
            if crawl_state is not None:
                try:
                    _record(crawl_state, location, partition, result)
                except state_errors as exc:
                    logger.error(
                        "Compacted %s but could not record its new files in the crawl state"
                        " (%s): the next crawl records them",
                        partition,
                        exc,
                    )
                    failed += 1
            merged += len(result.merged)
            written += len(result.written)
            logger.info(
                "Compacted %s/%s: %d files (%d rows) into %d%s",
                folder,
                partition,
                len(result.merged),
                result.rows,
                len(result.written),
                _how(result),
            )
        print(
            f"Compacted {merged} files into {written} in {len(partitions)} partitions"
            f" of {folder if partitions else 'the dataset'}"
            + (f"; {failed} failed (see the errors above)" if failed else "")
        )
        if failed:
            self.exitcode = EXIT_FAILED


MOST_ROWS = 10_000_000
"""The most rows ``--target-rows`` and ``--row-group-rows`` take: a new file's rows are read
into memory together (and pyarrow takes no row group size past a C long)."""


def _how(result: PartitionResult) -> str:
    if result.in_store:
        return " (object store: readers saw old and new files until the old ones were deleted)"
    return "" if result.atomic else " (swapped by renames: no directory exchange here)"
