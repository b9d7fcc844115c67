"""The dataset writer: row batches in, complete Parquet files out, a file at a time.

Rows are written in row groups into a file under ``STATE_DIR/tmp/`` (``OUTPUT_DIR/state/tmp/``
by default); :meth:`DatasetWriter.commit` closes, syncs and renames it into
``OUTPUT_DIR/articles/fetch_date=YYYY-MM-DD/``, so a reader never sees a partial file. Files
never overwrite anything: names carry the writer's start time, run id and a counter.

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
from typing import TYPE_CHECKING, Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dataset.compaction import finish_interrupted
from dataset.layout import (
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
)
from dataset.schema import (
    ARTICLE_SCHEMA,
    DEFAULT_COMPRESSION,
    EMPTY_TEXT,
    HTML_SCHEMA,
    SORT_KEYS,
    empty_texts,
    parquet_write_options,
)
from dataset.storage import DatasetLocation, delete_quietly, location_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import date

    import pyarrow as pa

logger = logging.getLogger(__name__)

DEFAULT_FILE_ROWS = 100_000


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


def remove_stale_tmp_files(
    tmp: Path, *, any_host: bool = False, older_than: float | None = None
) -> list[Path]:
    """Delete temporary files (and scratch folders) of crawl processes of this machine that no
    longer run. Those of other machines (a folder shared over NFS) are theirs to remove, unless
    ``any_host``: the caller holds the lock every crawl writing in ``tmp`` holds, and wrote
    nothing there yet (:func:`dataset.layout.abandoned`); hidden names, the probes that any
    command writes and removes at once, lock or not, keep this machine's rule. ``older_than``:
    seconds after which an entry left unchanged is a dead process's, whoever wrote it (for
    files written and renamed at once)."""
    removed = []
    now = time.time()
    for path in tmp.glob(f"*{TMP_SUFFIX}"):
        # name: <data file name>.<host>-<pid>.tmp
        tag = path.name.removesuffix(TMP_SUFFIX).rsplit(".", 1)[-1]
        if not abandoned(tag, any_host=any_host and not path.name.startswith(".")) and not (
            older_than is not None and _unchanged_for(path, now) > older_than
        ):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _unchanged_for(path: Path, now: float) -> float:
    """Seconds since ``path`` last changed (0 when it is gone)."""
    try:
        return now - path.lstat().st_mtime
    except OSError:
        return 0.0


COMMIT_MARKER = ".commit"
"""Suffix of the note a writer leaves in ``state/tmp`` while it publishes a file's archive
and then its rows (``commit-<file>.<host>-<pid>.commit``, holding the file's name)."""


def remove_orphan_archives(
    location: DatasetLocation, state_dir: Path, *, any_host: bool = False
) -> None:
    """A writer of this machine that died between publishing a file's archive and its rows
    left the archive file alone: the next crawl fetches those articles again and archives
    their pages a second time (the same ids twice in ``html/``). Its note in
    ``state_dir/tmp`` says which file: the archive file is removed when the data file is not
    there. ``any_host``: the notes of any machine (see :func:`remove_stale_tmp_files`)."""
    root = location.local_dir() if location.is_local else PurePosixPath(location.root)
    for marker in sorted((state_dir / TMP).glob(f"commit-*{COMMIT_MARKER}")):
        tag = marker.name.removesuffix(COMMIT_MARKER).rsplit(".", 1)[-1]
        if not abandoned(tag, any_host=any_host):
            continue
        try:
            name = marker.read_text(encoding="utf-8").strip()
        except OSError:
            name = ""
        if name and not _exists(location, root / ARTICLES / name):
            archive = root / HTML / name
            if _exists(location, archive):
                if not delete_quietly(location, str(archive)):  # logged
                    continue  # the note stays: tried again by the next crawl
                logger.warning(
                    "Removed the archive file of a crawl that died before committing its rows: %s",
                    archive,
                )
        marker.unlink(missing_ok=True)


def _exists(location: DatasetLocation, path: PurePath) -> bool:
    """Whether the file ``path`` is there (the location's filesystem: local or a store)."""
    info = location.filesystem.get_file_info(str(path))
    return bool(info.type == pafs.FileType.File)


class DatasetWriter:
    """Appends row batches to the dataset under ``output_dir``; blocking, one thread at a time.

    ``output_dir`` is a local folder or a :class:`~dataset.storage.DatasetLocation` (an
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
        file_rows: int = DEFAULT_FILE_ROWS,
        compression: str = DEFAULT_COMPRESSION,
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
        self.html_tmp = self.tmp
        """Where archive files are written before they are renamed (locally)."""
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
        self.rows_placed = 0
        """Rows written into a file since the writer was made (committed since, or not)."""
        self._keys: list[tuple[Any, ...]] = []
        self._failure: OSError | None = None
        """Why the last write or commit failed: nothing more is written until :meth:`discard`."""
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
            # where a rename into the folder works (a STATE_DIR or an articles/ on another
            # filesystem than the dataset's cannot rename into it)
            root = self.location.local_dir()
            self.tmp = staging_dir(root, self.state_dir, ARTICLES)
            folders.append(self.tmp)
            if self.html is not None:
                self.html_tmp = staging_dir(root, self.state_dir, HTML)
                folders.append(self.html_tmp)
        remove_orphan_archives(self.location, self.state_dir)
        for folder in dict.fromkeys(folders):
            for path in remove_stale_tmp_files(folder):
                logger.warning("Removed the unfinished file of a crashed crawl: %s", path)
        finish_interrupted(self.location, self.state_dir)

    def _marker(self) -> Path:
        assert self._name is not None
        return self.state_dir / TMP / f"commit-{Path(self._name).name}.{owner_tag()}{COMMIT_MARKER}"

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
        blank = empty_texts(table)
        if blank:  # to_batch refuses each such row: one here is a bug upstream, never data
            raise ValueError(f"{blank} rows without text: {EMPTY_TEXT}")
        with self._failing():
            return self._write_rows(table, html)

    def _write_rows(self, table: pa.Table, html: pa.Table | None) -> list[CommittedFile]:
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

    @contextlib.contextmanager
    def _failing(self) -> Iterator[None]:
        """Refuse to write once a write or commit failed, until :meth:`discard`, and remember
        such a failure. Another write queued meanwhile would otherwise go on: into the file
        pyarrow closed on the error (failing as a misuse, "Operation on closed file"), or,
        when the failure was opening a file, into a new one, leaving the failed file's
        temporary file behind (the discard deletes only the file open when it runs)."""
        if self._failure is not None:
            failure = self._failure
            raise OSError(
                failure.errno, f"an earlier write failed: {failure.strerror or failure}"
            ) from failure
        try:
            yield
        except OSError as exc:
            self._failure = exc
            raise

    def _write_slice(self, table: pa.Table, day: date, html: pa.Table | None) -> None:
        if self._writer is None:
            self._open_file(day)
        assert self._writer is not None
        if self._html_writer is not None and html is not None:
            self._html_writer.write_table(html, row_group_size=max(html.num_rows, 1))
        table = table.sort_by(list(SORT_KEYS))
        self._writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._rows += table.num_rows
        self.rows_placed += table.num_rows
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
            **parquet_write_options(ARTICLE_SCHEMA, self.compression, self.compression_level),
        )
        if self.html is not None:
            if self.remote:
                self._html_tmp_path = self.html / self._name
            else:
                self._html_tmp_path = self.html_tmp / f"html-{self._tmp_path.name}"
            self._html_writer = pq.ParquetWriter(
                str(self._html_tmp_path),
                HTML_SCHEMA,
                filesystem=filesystem,
                **parquet_write_options(HTML_SCHEMA, self.compression, self.compression_level),
            )
        self._day = day
        self._rows = 0
        self._keys = []
        self.opened_at = time.monotonic()

    def _commit_list(self) -> list[CommittedFile]:
        committed = self.commit()
        return [committed] if committed else []

    def discard(self) -> int:
        """Drop the file being written (after a write error): close it and delete it, so that
        nothing partial stays behind; returns how many rows it held. (In a store the close may
        complete the upload, valid rows the state does not know: visible until the delete,
        recorded by the next crawl if the delete fails too.)"""
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
        dropped, self._rows = self._rows, 0
        self._keys = []
        self._failure = None
        self.opened_at = None
        return dropped

    def commit(self) -> CommittedFile | None:
        """Close the current file and move it into the dataset; ``None`` if none is open."""
        with self._failing():
            return self._commit()

    def _commit(self) -> CommittedFile | None:
        if self._writer is None:
            return None
        assert self._tmp_path is not None
        assert self._name is not None
        # with the archive, a note of the file while its two parts are published: a crawl that
        # dies between the two leaves the archive's part, which the next one removes
        marker = self._marker() if self._html_writer is not None else None
        if marker is not None:
            marker.write_text(self._name, encoding="utf-8")
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
        if marker is not None:
            marker.unlink(missing_ok=True)
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
