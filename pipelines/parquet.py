"""Parquet stage: buffer rows and hand them to the dataset writer (:mod:`dataset.writer`).

Rows are buffered and written in row groups by one writer thread, off the reactor; a file is
committed when it is full, when the commit interval has passed, when the UTC date changes, when
asked (``commit_requested``: a Redis-mode worker with nothing left to fetch), and at the end of
the crawl. Only then does the crawl state learn its rows (``articles_committed``). Before each
write the stage asks whether it may commit (``commit_check``): a Redis-mode worker the others
took for dead may not.
"""

from __future__ import annotations

import importlib.abc
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.threadpool import ThreadPool

from dataset.schema import (
    ARTICLE_SCHEMA,
    COMPRESSIONS,
    DEFAULT_COMPRESSION,
    HTML_SCHEMA,
    to_batch,
    to_row,
)
from dataset.writer import CommittedFile, DatasetWriter
from pipelines.extract import HTML_ARCHIVE_ENABLED
from pipelines.locations import dataset_location, state_dir_setting
from pipelines.setting import (
    Setting,
    SettingError,
    choice,
    flag,
    integer,
    optional_integer,
    seconds,
)
from pipelines.signals import articles_committed, commit_check, commit_requested
from pipelines.stats import (
    PARQUET_FILES,
    PARQUET_INVALID_ROW,
    PARQUET_ROW_GROUPS,
    PARQUET_ROWS_BUFFERED,
    PARQUET_ROWS_DISCARDED,
    PARQUET_ROWS_LOST,
    PARQUET_ROWS_WRITTEN,
    PARQUET_WRITE_ERROR,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.defer import Deferred

    from dataset.storage import DatasetLocation

logger = logging.getLogger(__name__)

PARQUET_ENABLED = flag("PARQUET_ENABLED", True, "the Parquet writer")
PARQUET_ROW_GROUP_ROWS = integer(
    "PARQUET_ROW_GROUP_ROWS",
    1000,
    "rows buffered in memory and written as one row group (or fewer: `PARQUET_ROW_GROUP_BYTES`)",
    minimum=1,
)
PARQUET_ROW_GROUP_BYTES = integer(
    "PARQUET_ROW_GROUP_BYTES",
    2 * 1024 * 1024,
    "a row group is written as soon as its buffered rows hold this many bytes (their Arrow "
    "size, with their pages when `HTML_ARCHIVE_ENABLED`), before `PARQUET_ROW_GROUP_ROWS` "
    "rows if the rows are large: writing a row group briefly takes about ten times its size "
    "(sorting, encoding, compressing), the crawl process's peak memory",
    minimum=1,
)
PARQUET_FILE_ROWS = integer(
    "PARQUET_FILE_ROWS",
    10_000,
    "a file is committed when it holds this many rows (about 30 MB; at least "
    "`PARQUET_ROW_GROUP_ROWS`); until then the dedupe stage keeps the keys and signatures of "
    "its rows in memory (1-2 KB each), so this also bounds the crawl's memory; "
    "`scrapy compact` merges the files later",
    minimum=1,
)
PARQUET_COMMIT_INTERVAL = seconds(
    "PARQUET_COMMIT_INTERVAL",
    600.0,
    "seconds after which an open file is committed (bounds what a crash can lose)",
    minimum=0.0,
    above=True,
)
PARQUET_COMPRESSION = choice(
    "PARQUET_COMPRESSION",
    DEFAULT_COMPRESSION,
    COMPRESSIONS,
    "the compression codec of every Parquet file the project writes: the dataset's files, "
    "their HTML archive, the run history, the new files of `scrapy compact` (give it the "
    "crawl's value) and a `-O`/`-o` Parquet export",
)
PARQUET_COMPRESSION_LEVEL: Setting[int | None] = optional_integer(
    "PARQUET_COMPRESSION_LEVEL",
    "the compression level of `PARQUET_COMPRESSION`, for the same files",
    unset="codec default",
)
SETTINGS = (
    PARQUET_ENABLED,
    PARQUET_ROW_GROUP_ROWS,
    PARQUET_ROW_GROUP_BYTES,
    PARQUET_FILE_ROWS,
    PARQUET_COMMIT_INTERVAL,
    PARQUET_COMPRESSION,
    PARQUET_COMPRESSION_LEVEL,
)


def file_rows_problem(file_rows: int, row_group_rows: int) -> str:
    """Why these rows per file and per row group do not fit together."""
    return (
        f"PARQUET_FILE_ROWS={file_rows}: must be at least PARQUET_ROW_GROUP_ROWS ({row_group_rows})"
    )


def keep_pandas_out() -> None:
    """Keep pyarrow from importing pandas into the crawl process.

    pyarrow's first conversion of Python values (``pa.array``, ``RecordBatch.from_pylist``)
    tries to import pandas, to recognise pandas objects among the values, when pandas is
    installed: about 45 MB and 0.3 s in a process that never needs it (analysts often have
    pandas beside the crawler). pyarrow tries once: answered "not installed" here, it never
    tries again for that check, while whatever asks pyarrow for pandas itself
    (``Table.to_pandas``, ``from_pandas``) still imports it. Done only where pandas is not
    imported yet; afterwards, pyarrow converts a pandas object handed to ``pa.array`` in this
    process value by value, as it converts a list.
    """
    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _NO_PANDAS)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(_NO_PANDAS)


class _NoPandas(importlib.abc.MetaPathFinder):
    """An import finder that says pandas is not installed."""

    def find_spec(self, fullname: str, *args: Any, **kwargs: Any) -> None:
        if fullname == "pandas":
            raise ModuleNotFoundError("pandas is kept out of the crawl process", name=fullname)


_NO_PANDAS = _NoPandas()


class InvalidRow(DropItem):
    """The item does not fit the dataset schema (a bug upstream; logged with the reason)."""


class ParquetPipeline:
    """Writes accepted articles into the Parquet dataset under ``OUTPUT_DIR/articles/``
    (``OUTPUT_DIR`` may name an object store; ``STATE_DIR`` is the local working folder)."""

    def __init__(
        self,
        crawler: Crawler,
        stats: StatsCollector,
        *,
        output_dir: Path | DatasetLocation,
        state_dir: Path | None = None,
        row_group_rows: int,
        row_group_bytes: int = PARQUET_ROW_GROUP_BYTES.default,
        file_rows: int,
        commit_interval: float,
        compression: str,
        compression_level: int | None,
        archive: bool = False,
    ) -> None:
        self.crawler = crawler
        self.stats = stats
        self.row_group_rows = row_group_rows
        self.row_group_bytes = row_group_bytes
        self.commit_interval = commit_interval
        self.writer = DatasetWriter(
            output_dir,
            state_dir=state_dir,
            file_rows=file_rows,
            compression=compression,
            compression_level=compression_level,
            archive=archive,
        )
        self.buffer: list[pa.RecordBatch] = []
        self.html_buffer: list[pa.RecordBatch] = []
        self.failed = False
        """A write failed: the crawl is stopping and nothing more is written."""
        self.forbidden: str | None = None
        """Why this process may not commit (``commit_check``): nothing more is written."""
        self.closing = False
        self.requested_commit: Deferred[None] | None = None
        """The commit asked for with ``commit_requested``, until it is made."""
        self.buffered_rows = 0
        self.buffered_bytes = 0
        # One writer thread: writes and commits run in order, off the reactor thread.
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="parquet-writer")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not PARQUET_ENABLED.read(settings):
            raise NotConfigured("PARQUET_ENABLED is off")
        row_group_rows = PARQUET_ROW_GROUP_ROWS.read(settings)
        file_rows = PARQUET_FILE_ROWS.read(settings)
        if file_rows < row_group_rows:
            raise SettingError(file_rows_problem(file_rows, row_group_rows))
        assert crawler.stats is not None
        pipeline = cls(
            crawler,
            crawler.stats,
            output_dir=dataset_location(settings),
            state_dir=state_dir_setting(settings),
            row_group_rows=row_group_rows,
            row_group_bytes=PARQUET_ROW_GROUP_BYTES.read(settings),
            file_rows=file_rows,
            commit_interval=PARQUET_COMMIT_INTERVAL.read(settings),
            compression=PARQUET_COMPRESSION.read(settings),
            compression_level=PARQUET_COMPRESSION_LEVEL.read(settings),
            archive=HTML_ARCHIVE_ENABLED.read(settings),
        )
        crawler.signals.connect(pipeline.on_commit_requested, signal=commit_requested)
        return pipeline

    async def _in_writer_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        # Scrapy installs the reactor at start-up: import it when it is needed.
        from twisted.internet import reactor  # noqa: PLC0415

        deferred = threads.deferToThreadPool(reactor, self.pool, function, *args)
        return await maybe_deferred_to_future(deferred)

    def open_spider(self) -> None:
        keep_pandas_out()
        self.writer.open()
        self.pool.start()
        logger.info("Writing the dataset under %s", self.writer.where)

    async def close_spider(self) -> None:
        if not self.pool.started:
            # never opened (a stage before it failed to open): nothing to write, and no
            # writer thread would ever run a commit asked of it (the crawl hung there)
            return
        self.closing = True
        try:
            if self.requested_commit is not None:
                await maybe_deferred_to_future(self.requested_commit)
            await self._flush(commit=True)
        finally:
            self.pool.stop()

    def on_commit_requested(self) -> bool:
        """Commit the open file now (``commit_requested``); ``True`` while rows are held
        (being committed), ``False`` when none are (or none may be written)."""
        if self.requested_commit is not None:
            return True
        if self.failed or self.forbidden or self.closing:
            return False
        if not (self.buffered_rows or self.writer.open_rows):
            return False
        commit = deferred_from_coro(self._requested_commit())
        if commit.called:  # nothing was awaited: committed already
            return False
        self.requested_commit = commit
        return True

    async def _requested_commit(self) -> None:
        try:
            await self._flush(commit=True)
        finally:
            self.requested_commit = None

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        body, adapter["html"] = adapter.get("html"), None  # raw HTML goes no further
        row = to_row(adapter)
        try:
            batch = to_batch(row)
            if self.writer.html is not None:
                page = {name: row[name] for name in ("id", "url", "fetched_at")}
                page |= {"content_type": adapter.get("content_type"), "html": body or b""}
                html = pa.RecordBatch.from_pylist([page], schema=HTML_SCHEMA)
        except (ValueError, TypeError) as exc:  # pyarrow's errors subclass these
            self.stats.inc_value(PARQUET_INVALID_ROW.name)
            raise InvalidRow(f"InvalidRow: {exc} <{row.get('url')}>") from None
        if self.writer.html is not None:
            self.html_buffer.append(html)
            self.buffered_bytes += html.nbytes
        self.buffer.append(batch)
        self.buffered_rows += 1
        self.buffered_bytes += batch.nbytes
        self.stats.inc_value(PARQUET_ROWS_BUFFERED.name)
        opened_at = self.writer.opened_at
        due = opened_at is not None and time.monotonic() - opened_at >= self.commit_interval
        full = self.buffered_rows >= self.row_group_rows
        if full or self.buffered_bytes >= self.row_group_bytes or due:
            await self._flush(commit=due)
        return item

    async def _flush(self, *, commit: bool) -> None:
        """Write the buffer as a row group (and commit the file if asked) in the writer
        thread; announce every committed file. A write error (disk full, files gone) stops
        the crawl: the open file is discarded, so nothing partial is left and the state never
        learns its rows (the next crawl fetches them again); committed files stay valid."""
        batches, self.buffer, self.buffered_rows, self.buffered_bytes = self.buffer, [], 0, 0
        pages, self.html_buffer = self.html_buffer, []
        committed: list[CommittedFile] = []
        if self.forbidden is not None:
            self.stats.inc_value(PARQUET_ROWS_DISCARDED.name, len(batches))
            return
        if self.failed:
            self.stats.inc_value(PARQUET_ROWS_LOST.name, len(batches))
            return
        if batches or self.writer.open_rows:
            forbidden = self._commit_forbidden()
            if forbidden is not None:
                await self._discard(forbidden, rows=len(batches))
                return
        placed_before = self.writer.rows_placed
        try:
            if batches:
                table = pa.Table.from_batches(batches, schema=ARTICLE_SCHEMA)
                html = pa.Table.from_batches(pages, schema=HTML_SCHEMA) if pages else None
                committed += await self._in_writer_thread(self.writer.write, table, html)
                self.stats.inc_value(PARQUET_ROW_GROUPS.name)
            if commit:
                last = await self._in_writer_thread(self.writer.commit)
                committed += [last] if last else []
        except OSError as exc:
            # the rows written into a file before the failure are the open file's (counted
            # with it) or a file's committed on the way (kept: the next crawl records it)
            placed = self.writer.rows_placed - placed_before
            await self._write_failed(exc, unwritten=len(batches) - placed)
        self._announce(committed)

    def _commit_forbidden(self) -> str | None:
        """Why this process may not commit now (a ``commit_check`` receiver's answer), or
        ``None``. A receiver that fails is logged by Scrapy and does not forbid."""
        for _, answer in self.crawler.signals.send_catch_log(signal=commit_check):
            if isinstance(answer, str):
                return answer
        return None

    async def _discard(self, reason: str, *, rows: int) -> None:
        """Write nothing more: delete the open file (in the writer thread, after the writes
        under way), and count what is dropped with ``rows``, the rows not written yet."""
        self.forbidden = reason
        rows += self.writer.open_rows
        await self._in_writer_thread(self.writer.discard)
        self.stats.inc_value(PARQUET_ROWS_DISCARDED.name, rows)
        logger.warning("Not committing the %d articles this crawl holds: %s", rows, reason)

    async def _write_failed(self, exc: OSError, *, unwritten: int) -> None:
        """Stop writing after ``exc``: the open file is deleted, and its rows and the
        ``unwritten`` ones of the failed flush are counted as lost."""
        reported, self.failed = self.failed, True
        # In the writer thread, after the writes already queued there: a flush under way when
        # this one failed may have opened a new file since (its write can succeed: its rows
        # are lost with the file), and the writer is not to be touched from two threads.
        lost = unwritten + await self._in_writer_thread(self.writer.discard)
        if reported:  # a flush that was under way failed too
            self.stats.inc_value(PARQUET_ROWS_LOST.name, lost)
            return
        self.stats.inc_value(PARQUET_WRITE_ERROR.name)
        self.stats.inc_value(PARQUET_ROWS_LOST.name, lost)
        logger.error(
            "Cannot write the dataset, stopping the crawl: %s (%s); %d accepted articles not "
            "written (not recorded as stored: the next crawl fetches them again)",
            exc.strerror or exc,
            exc.filename or (self.writer.where if self.writer.remote else self.writer.tmp),
            lost,
        )
        if not self.closing:
            # scheduled, not awaited: closing waits for the items in progress, this one too
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="write_error"))

    def _announce(self, committed: list[CommittedFile]) -> None:
        for done in committed:
            self.stats.inc_value(PARQUET_FILES.name)
            self.stats.inc_value(PARQUET_ROWS_WRITTEN.name, done.rows)
            logger.info("Committed %d articles to %s", done.rows, done.name)
            self.crawler.signals.send_catch_log(
                signal=articles_committed, file=done.name, keys=done.keys
            )
