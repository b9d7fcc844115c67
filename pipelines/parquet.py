"""Parquet stage: buffer rows and write them into the dataset, a complete file at a time.

:class:`DatasetWriter` is the plain writer (usable without Scrapy); :class:`ParquetPipeline`
is the Scrapy component. Rows are buffered and written in row groups into a file under
``STATE_DIR/tmp/`` (``OUTPUT_DIR/state/tmp/`` by default); the file is closed, synced and
renamed into ``OUTPUT_DIR/articles/fetch_date=YYYY-MM-DD/`` when it is full, when the commit
interval has passed, when the UTC date changes, and at the end of the crawl. Only then does
the dedupe state learn its rows (``articles_committed``).

In an object store (``OUTPUT_DIR=s3://...``), which cannot rename, the file is written straight
to its final key: an upload becomes visible only when it completes, at the commit. pyarrow
cannot abort an upload (closing or dropping the writer completes it), so a file given up after
a write error is closed and then deleted; a crash (kill) leaves only an incomplete upload,
which no reader sees.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, Self

import pyarrow as pa
import pyarrow.parquet as pq
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import threads
from twisted.python.threadpool import ThreadPool

from pipelines.compaction import finish_interrupted
from pipelines.dataset import (
    ARTICLES,
    HTML,
    KEY_COLUMNS,
    STATE,
    TMP,
    TMP_SUFFIX,
    abandoned,
    data_file_name,
    fsync_path,
    owner_tag,
    partition_name,
    staging_dir,
    state_dir_setting,
)
from pipelines.schema import (
    ARTICLE_SCHEMA,
    DICTIONARY_COLUMNS,
    HTML_DICTIONARY_COLUMNS,
    HTML_SCHEMA,
    to_batch,
    to_row,
)
from pipelines.signals import articles_committed
from pipelines.storage import DatasetLocation, dataset_location, delete_quietly, location_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import date

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

SORT_KEYS = [("source", "ascending"), ("published_at", "ascending")]
COMPRESSIONS = frozenset({"zstd", "snappy", "gzip", "brotli", "lz4", "none"})


class InvalidRow(DropItem):
    """The item does not fit the dataset schema (a bug upstream; logged with the reason)."""


@dataclass(frozen=True, kw_only=True)
class CommittedFile:
    """A data file that became visible in the dataset."""

    name: str
    """Path relative to the articles directory (``fetch_date=.../part-....parquet``)."""
    rows: int
    keys: list[tuple[Any, ...]]
    """``(url, canonical_url, content_hash, fetched_at)`` of every row."""


def _publish(tmp: Path, final: Path) -> None:
    """Sync a finished file and rename it into place."""
    with tmp.open("rb+") as handle:
        os.fsync(handle.fileno())
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(final)
    fsync_path(final.parent)


def remove_stale_tmp_files(tmp: Path) -> list[Path]:
    """Delete temporary files (and scratch folders) of crawl processes of this machine that no
    longer run. Those of other machines (a folder shared over NFS) are theirs to remove."""
    removed = []
    for path in tmp.glob(f"*{TMP_SUFFIX}"):
        # name: <data file name>.<host>-<pid>.tmp
        if not abandoned(path.name.removesuffix(TMP_SUFFIX).rsplit(".", 1)[-1]):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


class DatasetWriter:
    """Appends row batches to the dataset under ``output_dir``; blocking, one thread at a time.

    ``output_dir`` is a local folder or a :class:`~pipelines.storage.DatasetLocation` (an
    object store); ``state_dir`` the local working folder (default ``output_dir/state``,
    required for an object store). Each :meth:`write` call writes one row group;
    :meth:`commit` makes the current file visible. Files never overwrite anything: names carry
    the writer's start time, run id and a counter.
    """

    def __init__(
        self,
        output_dir: Path | DatasetLocation,
        *,
        state_dir: Path | None = None,
        file_rows: int = 100_000,
        compression: str = "zstd",
        compression_level: int | None = None,
        run_id: str | None = None,
        archive: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        location = (
            output_dir if isinstance(output_dir, DatasetLocation) else location_of(output_dir)
        )
        self.location = location
        self.remote = not location.is_local
        """Files are written straight to their final keys (an object store)."""
        if state_dir is None:
            if self.remote:
                raise ValueError(f"{location.display} is an object store: give a state_dir")
            state_dir = location.local_dir() / STATE
        self.state_dir = state_dir
        root = PurePosixPath(location.root) if self.remote else location.local_dir()
        self.articles: PurePath = root / ARTICLES
        """Root of the dataset (a local :class:`~pathlib.Path`, or the path in the store)."""
        self.html: PurePath | None = root / HTML if archive else None
        """Root of the raw HTML archive; ``None`` when it is off."""
        self.tmp = state_dir / TMP
        """Scratch folder; locally also where files are written before they are renamed."""
        self.file_rows = file_rows
        self.compression = compression
        self.compression_level = compression_level
        self.run_id = run_id or secrets.token_hex(4)
        self.started = clock()
        self._sequence = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp_path: PurePath | None = None
        """Where the open file is written: a temporary file, or its final key in a store."""
        self._html_writer: pq.ParquetWriter | None = None
        self._html_tmp_path: PurePath | None = None
        self._name: str | None = None
        self._day: date | None = None
        self._rows = 0
        self._keys: list[tuple[Any, ...]] = []
        self.opened_at: float | None = None
        """Monotonic time when the current file was opened (``None`` when none is open)."""

    @property
    def where(self) -> str:
        """The dataset's articles folder, for messages."""
        return f"{self.location.display}/{ARTICLES}" if self.remote else str(self.articles)

    def open(self) -> None:
        """Create the directories, remove temporary files of dead writers of this machine, and
        finish compactions they left half-way."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        folders = [self.tmp]
        if not self.remote:
            Path(self.articles).mkdir(parents=True, exist_ok=True)
            # a STATE_DIR on another filesystem than the dataset cannot rename into it
            self.tmp = staging_dir(self.location.local_dir(), self.state_dir)
            folders.append(self.tmp)
        for folder in dict.fromkeys(folders):
            for path in remove_stale_tmp_files(folder):
                logger.warning("Removed the unfinished file of a crashed crawl: %s", path)
        finish_interrupted(self.location, self.state_dir)

    @property
    def open_rows(self) -> int:
        """Rows written into the current, not yet committed, file."""
        return self._rows

    def write(self, table: pa.Table, html: pa.Table | None = None) -> list[CommittedFile]:
        """Write ``table`` (rows of :data:`ARTICLE_SCHEMA`); returns the files committed on the
        way. A file is committed when it holds ``file_rows`` rows (never more) and when the
        rows' UTC date changes. With the archive on, ``html`` holds the pages of the same rows
        (:data:`HTML_SCHEMA`, same order), written to the archive file of the same name."""
        if self.html is not None and (html is None or html.num_rows != table.num_rows):
            raise ValueError("the HTML archive needs one page per row")
        committed: list[CommittedFile] = []
        fetched = table.column("fetched_at").to_pylist()
        start = 0
        while start < table.num_rows:
            day = fetched[start].date()
            if self._writer is not None and day != self._day:
                committed.extend(self._commit_list())
            # A slice stays within one UTC day and within what the open file can still take.
            limit = min(table.num_rows, start + self.file_rows - self._rows)
            end = start
            while end < limit and fetched[end].date() == day:
                end += 1
            self._write_slice(
                table.slice(start, end - start),
                day,
                html.slice(start, end - start) if html is not None else None,
            )
            if self._rows >= self.file_rows:
                committed.extend(self._commit_list())
            start = end
        return committed

    def _write_slice(self, table: pa.Table, day: date, html: pa.Table | None) -> None:
        if self._writer is None:
            self._open_file(day)
        assert self._writer is not None
        if self._html_writer is not None and html is not None:
            self._html_writer.write_table(html, row_group_size=max(html.num_rows, 1))
        # Rows of a row group sorted by source, then publication time: the row group's
        # statistics then let readers skip it on filters by either.
        table = table.sort_by(SORT_KEYS)
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._rows += table.num_rows
        columns = [table.column(name).to_pylist() for name in KEY_COLUMNS]
        self._keys.extend(zip(*columns, strict=True))

    def _open_file(self, day: date) -> None:
        self._sequence += 1
        self._name = (
            f"{partition_name(day)}/{data_file_name(self.started, self.run_id, self._sequence)}"
        )
        filesystem = self.location.filesystem if self.remote else None
        if self.remote:  # no rename in a store: the upload completes at the commit
            self._tmp_path = self.articles / self._name
        else:
            self._tmp_path = self.tmp / f"{Path(self._name).name}.{owner_tag()}{TMP_SUFFIX}"
        self._writer = pq.ParquetWriter(
            str(self._tmp_path),
            ARTICLE_SCHEMA,
            filesystem=filesystem,
            compression=self.compression,
            compression_level=self.compression_level,
            use_dictionary=list(DICTIONARY_COLUMNS),
            write_statistics=True,
        )
        if self.html is not None:
            if self.remote:
                self._html_tmp_path = self.html / self._name
            else:
                self._html_tmp_path = self.tmp / f"html-{self._tmp_path.name}"
            self._html_writer = pq.ParquetWriter(
                str(self._html_tmp_path),
                HTML_SCHEMA,
                filesystem=filesystem,
                compression=self.compression,
                compression_level=self.compression_level,
                use_dictionary=list(HTML_DICTIONARY_COLUMNS),
            )
        self._day = day
        self._rows = 0
        self._keys = []
        self.opened_at = time.monotonic()

    def _commit_list(self) -> list[CommittedFile]:
        committed = self.commit()
        return [committed] if committed else []

    def discard(self) -> None:
        """Drop the file being written (after a write error): close it and delete it, so that
        nothing partial stays behind. (In a store the close may complete the upload, valid
        rows the state does not know: visible until the delete, recorded by the next crawl if
        the delete fails too.)"""
        for writer in (self._writer, self._html_writer):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
        for path in (self._tmp_path, self._html_tmp_path):
            if path is None:
                continue
            if self.remote:
                delete_quietly(self.location, str(path))
            else:
                with contextlib.suppress(OSError):
                    Path(path).unlink(missing_ok=True)
        self._writer = self._html_writer = None
        self._tmp_path = self._html_tmp_path = None
        self._rows = 0
        self._keys = []
        self.opened_at = None

    def commit(self) -> CommittedFile | None:
        """Close the current file and move it into the dataset; ``None`` if none is open."""
        if self._writer is None:
            return None
        assert self._tmp_path is not None
        assert self._name is not None
        if self.remote:
            self._close_in_store()
        else:
            self._writer.close()
            self._writer = None
            if self._html_writer is not None:
                # The archive file first: a visible row always has its page archived.
                assert self._html_tmp_path is not None
                assert self.html is not None
                self._html_writer.close()
                self._html_writer = None
                _publish(Path(self._html_tmp_path), Path(self.html) / self._name)
                self._html_tmp_path = None
            _publish(Path(self._tmp_path), Path(self.articles) / self._name)
        self.opened_at = None
        committed = CommittedFile(name=self._name, rows=self._rows, keys=self._keys)
        self._tmp_path = None
        self._rows = 0
        self._keys = []
        return committed

    def _close_in_store(self) -> None:
        """Complete the uploads, the archive file first (a visible row always has its page
        archived). A failed close leaves the writer set: :meth:`discard` deletes the key."""
        if self._html_writer is not None:
            self._html_writer.close()
            self._html_writer = None
            self._html_tmp_path = None
        assert self._writer is not None
        self._writer.close()
        self._writer = None


class ParquetPipeline:
    """Writes accepted articles into the Parquet dataset under ``OUTPUT_DIR/articles/``.

    Settings (defaults): ``PARQUET_ENABLED`` (``True``), ``PARQUET_ROW_GROUP_ROWS``
    (``1000``: rows buffered in memory and written as one row group), ``PARQUET_FILE_ROWS``
    (``10000``: a file is committed when it holds this many rows; until then the dedupe stage
    keeps its rows' keys in memory, so this bounds memory too),
    ``PARQUET_COMMIT_INTERVAL`` (``600`` seconds: an open file is committed this long after
    it was opened, so a crash loses little), ``PARQUET_COMPRESSION`` (``zstd``),
    ``PARQUET_COMPRESSION_LEVEL`` (``None``: the codec's default), ``HTML_ARCHIVE_ENABLED``
    (``False``: when on, each row's fetched page is kept in ``OUTPUT_DIR/html/``).
    ``OUTPUT_DIR`` may name an object store, and ``STATE_DIR`` the local working folder
    (:func:`pipelines.dataset.state_dir_setting`).
    """

    DEFAULT_ROW_GROUP_ROWS = 1000
    DEFAULT_FILE_ROWS = 10_000
    DEFAULT_COMMIT_INTERVAL = 600.0
    DEFAULT_COMPRESSION = "zstd"

    def __init__(
        self,
        crawler: Crawler,
        stats: StatsCollector,
        *,
        output_dir: Path | DatasetLocation,
        state_dir: Path | None = None,
        row_group_rows: int,
        file_rows: int,
        commit_interval: float,
        compression: str,
        compression_level: int | None,
        archive: bool = False,
    ) -> None:
        self.crawler = crawler
        self.stats = stats
        self.row_group_rows = row_group_rows
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
        self.closing = False
        """A write failed: the crawl is stopping and nothing more is written."""
        self.buffered_rows = 0
        # One writer thread: writes and commits run in order, off the reactor thread.
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="parquet-writer")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("PARQUET_ENABLED", True):
            raise NotConfigured("PARQUET_ENABLED is off")
        location = dataset_location(settings)
        state = state_dir_setting(settings)
        row_group_rows = settings.getint("PARQUET_ROW_GROUP_ROWS", cls.DEFAULT_ROW_GROUP_ROWS)
        file_rows = settings.getint("PARQUET_FILE_ROWS", cls.DEFAULT_FILE_ROWS)
        interval = settings.getfloat("PARQUET_COMMIT_INTERVAL", cls.DEFAULT_COMMIT_INTERVAL)
        compression = str(settings.get("PARQUET_COMPRESSION", cls.DEFAULT_COMPRESSION)).lower()
        level = settings.get("PARQUET_COMPRESSION_LEVEL")
        if row_group_rows < 1 or file_rows < row_group_rows:
            raise NotConfigured(
                "PARQUET_ROW_GROUP_ROWS must be at least 1 and PARQUET_FILE_ROWS at least "
                f"PARQUET_ROW_GROUP_ROWS (got {row_group_rows} and {file_rows})"
            )
        if interval <= 0:
            raise NotConfigured(f"PARQUET_COMMIT_INTERVAL must be positive, not {interval}")
        if compression not in COMPRESSIONS:
            raise NotConfigured(
                f"PARQUET_COMPRESSION must be one of {sorted(COMPRESSIONS)}, not {compression!r}"
            )
        assert crawler.stats is not None
        return cls(
            crawler,
            crawler.stats,
            output_dir=location,
            state_dir=state,
            row_group_rows=row_group_rows,
            file_rows=file_rows,
            commit_interval=interval,
            compression=compression,
            compression_level=int(level) if level not in (None, "") else None,
            archive=settings.getbool("HTML_ARCHIVE_ENABLED", False),
        )

    async def _in_writer_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        # Scrapy installs the reactor at start-up: import it when it is needed.
        from twisted.internet import reactor  # noqa: PLC0415

        deferred = threads.deferToThreadPool(reactor, self.pool, function, *args)
        return await maybe_deferred_to_future(deferred)

    def open_spider(self) -> None:
        self.writer.open()
        self.pool.start()
        logger.info("Writing the dataset under %s", self.writer.where)

    async def close_spider(self) -> None:
        self.closing = True
        try:
            await self._flush(commit=True)
        finally:
            self.pool.stop()

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        body, adapter["html"] = adapter.get("html"), None  # raw HTML goes no further
        adapter["precomputed"] = None
        row = to_row(adapter)
        try:
            batch = to_batch(row)
            if self.writer.html is not None:
                page = {name: row[name] for name in ("id", "url", "fetched_at")}
                page |= {"content_type": adapter.get("content_type"), "html": body or b""}
                html = pa.RecordBatch.from_pylist([page], schema=HTML_SCHEMA)
        except (ValueError, TypeError) as exc:  # pyarrow's errors subclass these
            self.stats.inc_value("news/parquet/invalid_row")
            raise InvalidRow(f"InvalidRow: {exc} <{row.get('url')}>") from None
        if self.writer.html is not None:
            self.html_buffer.append(html)
        self.buffer.append(batch)
        self.buffered_rows += 1
        self.stats.inc_value("news/parquet/rows_buffered")
        opened_at = self.writer.opened_at
        due = opened_at is not None and time.monotonic() - opened_at >= self.commit_interval
        if self.buffered_rows >= self.row_group_rows or due:
            await self._flush(commit=due)
        return item

    async def _flush(self, *, commit: bool) -> None:
        """Write the buffer as a row group (and commit the file if asked) in the writer
        thread; announce every committed file. A write error (disk full, files gone) stops
        the crawl: the open file is discarded, so nothing partial is left and the state never
        learns its rows (the next crawl fetches them again); committed files stay valid."""
        batches, self.buffer, self.buffered_rows = self.buffer, [], 0
        pages, self.html_buffer = self.html_buffer, []
        committed: list[CommittedFile] = []
        if self.failed:
            self.stats.inc_value("news/parquet/rows_lost", len(batches))
            return
        try:
            if batches:
                table = pa.Table.from_batches(batches, schema=ARTICLE_SCHEMA)
                html = pa.Table.from_batches(pages, schema=HTML_SCHEMA) if pages else None
                committed += await self._in_writer_thread(self.writer.write, table, html)
                self.stats.inc_value("news/parquet/row_groups")
            if commit:
                last = await self._in_writer_thread(self.writer.commit)
                committed += [last] if last else []
        except OSError as exc:
            self._write_failed(exc, lost=len(batches) + self.writer.open_rows)
        self._announce(committed)

    def _write_failed(self, exc: OSError, *, lost: int) -> None:
        if self.failed:  # a flush that was under way failed too: already reported
            self.stats.inc_value("news/parquet/rows_lost", lost)
            return
        self.failed = True
        self.writer.discard()
        self.stats.inc_value("news/parquet/write_error")
        self.stats.inc_value("news/parquet/rows_lost", lost)
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
            self.stats.inc_value("news/parquet/files")
            self.stats.inc_value("news/parquet/rows_written", done.rows)
            logger.info("Committed %d articles to %s", done.rows, done.name)
            self.crawler.signals.send_catch_log(
                signal=articles_committed, file=done.name, keys=done.keys
            )
