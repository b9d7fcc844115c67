"""``scrapy compact``: merge the small data files of each partition into well-sized ones.

Uses :mod:`pipelines.compaction`; one compaction at a time per output directory (a lock file
in ``state/``), and the crawl state learns the new file names in the same step, so the next
crawl does not read the files again.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.state import CrawlState
from pipelines.compaction import (
    DEFAULT_ROW_GROUP_ROWS,
    DEFAULT_TARGET_ROWS,
    CompactionError,
    PartitionResult,
    compact_partition,
    finish_interrupted,
    small_files,
)
from pipelines.dataset import PARTITION_KEY, articles_dir, html_dir, state_dir
from pipelines.schema import ARTICLE_SCHEMA, HTML_SCHEMA

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

LOCK_FILE = "compact.lock"


def _partitions(root: Path, wanted: set[str]) -> list[Path]:
    """The partition folders under ``root`` (all, or those named in ``wanted``)."""
    if not root.is_dir():
        return []
    return sorted(
        path
        for path in root.iterdir()
        if path.is_dir()
        and path.name.startswith(f"{PARTITION_KEY}=")
        and (not wanted or path.name in wanted)
    )


def _record(state: CrawlState, partition: Path, result: PartitionResult) -> None:
    state.replace_files(
        (f"{partition.name}/{name}" for name in result.merged),
        (
            (f"{partition.name}/{name}", pq.ParquetFile(partition / name).metadata.num_rows)
            for name in result.written
        ),
    )


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_LEVEL": "INFO"}  # noqa: RUF012 - Scrapy's own class attribute

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
            help="compact only this partition (YYYY-MM-DD or fetch_date=YYYY-MM-DD); repeatable",
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

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if args:
            raise UsageError(f"unexpected arguments: {' '.join(args)}")
        if opts.target_rows < 2 or opts.row_group_rows < 1:
            raise UsageError("--target-rows must be at least 2 and --row-group-rows at least 1")
        output_dir = Path(self.settings.get("OUTPUT_DIR"))
        articles = articles_dir(output_dir)
        if not articles.is_dir():
            raise UsageError(f"no dataset under {articles}")
        wanted = {
            day if day.startswith(f"{PARTITION_KEY}=") else f"{PARTITION_KEY}={day}"
            for day in opts.partition
        }
        partitions = _partitions(articles, wanted)
        missing = wanted - {path.name for path in partitions}
        if missing:
            raise UsageError(f"no such partition: {', '.join(sorted(missing))}")
        state = state_dir(output_dir)
        state.mkdir(parents=True, exist_ok=True)
        with (state / LOCK_FILE).open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UsageError(f"another compaction of {output_dir} is running") from None
            finish_interrupted(output_dir)
            # the HTML archive (when kept) is compacted the same way, its files apart
            archive = _partitions(html_dir(output_dir), wanted)
            if opts.dry_run:
                self._plan([*partitions, *archive], opts.target_rows)
            else:
                self._compact(partitions, output_dir, opts, ARTICLE_SCHEMA)
                if archive:
                    self._compact(archive, output_dir, opts, HTML_SCHEMA)

    def _plan(self, partitions: list[Path], target_rows: int) -> None:
        for partition in partitions:
            found = small_files(partition, target_rows)
            if len(found) >= 2:
                where = f"{partition.parent.name}/{partition.name}"
                print(f"{where}: would merge {len(found)} files")

    def _compact(
        self,
        partitions: list[Path],
        output_dir: Path,
        opts: argparse.Namespace,
        schema: pa.Schema,
    ) -> None:
        # the crawl state lists the article files only
        state = CrawlState.open(state_dir(output_dir)) if schema is ARTICLE_SCHEMA else None
        merged = written = failed = 0
        try:
            for partition in partitions:
                try:
                    result = compact_partition(
                        partition,
                        output_dir,
                        target_rows=opts.target_rows,
                        row_group_rows=opts.row_group_rows,
                        schema=schema,
                    )
                except CompactionError as exc:
                    logger.error("Left %s as it was: %s", partition.name, exc)
                    failed += 1
                    continue
                if result is None:
                    continue
                if state is not None:
                    _record(state, partition, result)
                merged += len(result.merged)
                written += len(result.written)
                logger.info(
                    "Compacted %s/%s: %d files (%d rows) into %d%s",
                    partition.parent.name,
                    partition.name,
                    len(result.merged),
                    result.rows,
                    len(result.written),
                    "" if result.atomic else " (swapped by renames: no directory exchange here)",
                )
        finally:
            if state is not None:
                state.close()
        print(
            f"Compacted {merged} files into {written} in {len(partitions)} partitions"
            f" of {partitions[0].parent.name if partitions else 'the dataset'}"
        )
        if failed:
            self.exitcode = 1
