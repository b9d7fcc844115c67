"""The run history: what each crawl did for each source, kept beside the dataset.

One row per source per crawl process, in ``OUTPUT_DIR/runs/run_date=YYYY-MM-DD/`` (one small
Parquet file per crawl process, named for its start time and owner; ``scrapy compact`` merges
a day's files into one), so that analysts load it like the dataset
(``pd.read_parquet("output/runs")``) and the health rules judge each source against its own
past. The columns are declared once, as the fields of the rows' two parts (:class:`RunInfo`,
what a crawl process's rows share, then :class:`SourceRun`, a source's figures: name, Python
type, Arrow type and meaning, with :func:`run_column`): :data:`FIELDS`, the schema and the
docs' table come from them. Several crawl processes of one run (Redis mode) write a row each
for the same ``run_id``; readers sum them (:func:`per_run`).
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import sqlite3
import sys
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataset.layout import (
    ABANDONED_AFTER,
    DATA_SUFFIX,
    RUN_PARTITION_KEY,
    RUNS,
    TMP_SUFFIX,
    owner_tag,
)
from dataset.schema import (
    DEFAULT_COMPRESSION,
    DICTIONARY_KEY,
    PROJECT_VERSION,
    VERSION_KEY,
    parquet_write_options,
)
from dataset.storage import (
    DataFile,
    DatasetLocation,
    list_data_files,
    partitions_at,
    read_table_at,
)
from dataset.writer import remove_stale_tmp_files as remove_stale_tmp_files_in

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

_COUNTS = pa.map_(pa.string(), pa.int64())


@dataclass(frozen=True)
class Field:
    """One column of the run history, as :data:`FIELDS` lists it."""

    name: str
    type: pa.DataType
    doc: str
    dictionary: bool = False
    """Whether its Parquet column is dictionary-encoded (few values, repeated on many rows)."""


_COLUMN = "column"
"""The key of a field's Arrow type and meaning in its ``dataclasses.field`` metadata."""


def run_column(
    type_: pa.DataType,
    doc: str,
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Callable[[], Any] | None = None,
    dictionary: bool = False,
) -> Any:
    """A field of :class:`RunInfo` or :class:`SourceRun`, which declare the run history's
    columns: its Arrow type, what it means (the schema's field metadata and the docs say it),
    its default (none unless told), and whether its Parquet column is dictionary-encoded."""
    metadata = {_COLUMN: (type_, doc, dictionary)}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """What every row of one crawl process shares: the first columns of :data:`SCHEMA`."""

    run_id: str = run_column(
        pa.string(), "the crawl run (the same in every process of a Redis run)", dictionary=True
    )
    worker: str = run_column(
        pa.string(),
        "the crawl process that wrote the row (`host-pid`)",
        default_factory=owner_tag,
        dictionary=True,
    )
    started_at: datetime = run_column(_TIMESTAMP, "when the crawl process started")
    finished_at: datetime = run_column(_TIMESTAMP, "when it finished")
    finish_reason: str = run_column(
        pa.string(), "Scrapy's finish reason (`finished`, `shutdown`, ...)", dictionary=True
    )


@dataclass
class SourceRun:
    """One source's figures in one crawl process: the other columns of a row of
    :data:`SCHEMA`."""

    source: str = run_column(
        pa.string(), "the configured source's name, else the site (host)", dictionary=True
    )
    listings: int = run_column(pa.int64(), "feeds, sitemaps and listing pages read", default=0)
    listing_errors: int = run_column(
        pa.int64(), "feeds and sitemaps that failed, or held no feed or sitemap", default=0
    )
    listed: int = run_column(pa.int64(), "article entries found in feeds and sitemaps", default=0)
    discovered: int = run_column(
        pa.int64(), "article pages found (each once), before skipping", default=0
    )
    skipped_known: int = run_column(pa.int64(), "articles not fetched: stored already", default=0)
    skipped_rejected: int = run_column(
        pa.int64(),
        "pages not fetched: dropped before as no article or as a copy of a stored article",
        default=0,
    )
    fetched: int = run_column(
        pa.int64(), "article pages fetched (2xx answers), re-checks aside", default=0
    )
    rechecked: int = run_column(
        pa.int64(),
        "pages dropped by an earlier run (as no article or as a copy of a stored article), "
        "fetched again to re-check them",
        default=0,
    )
    stored: int = run_column(pa.int64(), "articles committed to the dataset", default=0)
    text_chars: int = run_column(pa.int64(), "characters of text of the articles stored", default=0)
    dropped: Counter[str] = run_column(
        _COUNTS,
        "fetched pages not stored, by reason (`ListingPage`, ...), re-checks aside",
        default_factory=Counter,
    )
    errors: Counter[str] = run_column(
        _COUNTS,
        "failed requests by kind (`http_403`, `timeout`, `dns`, ...; `robots_http_503`: the"
        " site's robots.txt answered a server error, so the whole site was held back for the"
        " run, its pages `robots_forbidden`)",
        default_factory=Counter,
    )
    article_errors: Counter[str] = run_column(
        _COUNTS, "the failed article requests among them, by kind", default_factory=Counter
    )
    bytes: int = run_column(pa.int64(), "bytes of the responses received", default=0)
    newest_published_at: datetime | None = run_column(
        _TIMESTAMP, "the newest publication time among the articles stored", default=None
    )

    def saw_published(self, published: datetime | None) -> None:
        if published is not None and (
            self.newest_published_at is None or published > self.newest_published_at
        ):
            self.newest_published_at = published


FIELDS: tuple[Field, ...] = tuple(
    Field(item.name, *item.metadata[_COLUMN])
    for declared in (RunInfo, SourceRun)
    for item in dataclasses.fields(declared)
)
"""The run history's columns, in order: made from their declarations, the fields of
:class:`RunInfo` then of :class:`SourceRun`."""


def _field_metadata(item: Field) -> dict[bytes, bytes]:
    metadata = {b"doc": item.doc.encode()}
    if item.dictionary:
        metadata[DICTIONARY_KEY] = b"true"
    return metadata


RUNS_SCHEMA_VERSION = "3"
"""Bumped on every (additive) change of :data:`FIELDS`; stored in every file's metadata (the
files written before it was lack it). Version 2 added ``rechecked`` and ``article_errors``,
version 3 ``text_chars``."""
RUNS_SCHEMA_VERSION_KEY = b"news_crawler.runs_schema_version"
SCHEMA = pa.schema(
    [pa.field(f.name, f.type, metadata=_field_metadata(f)) for f in FIELDS],
    metadata={
        RUNS_SCHEMA_VERSION_KEY: RUNS_SCHEMA_VERSION.encode(),
        VERSION_KEY: PROJECT_VERSION.encode(),
    },
)
SORT_KEYS: tuple[tuple[str, str], ...] = (
    ("started_at", "ascending"),
    ("run_id", "ascending"),
    ("worker", "ascending"),
    ("source", "ascending"),
)
"""The order of the rows of a file ``scrapy compact`` merges a day's files into: the order the
crawls wrote them in."""
FILE_PREFIX = "run"
"""How the names of the run history's files begin, those ``scrapy compact`` writes too."""
_MERGED = re.compile(rf"{FILE_PREFIX}-[0-9]{{8}}T[0-9]{{6}}Z-.*\{DATA_SUFFIX}")
"""The name of a file ``scrapy compact`` wrote (:func:`dataset.layout.data_file_name`: its
time to the second); a crawl process's has microseconds (:func:`file_name`)."""
_MAPS = tuple(item.name for item in FIELDS if item.type == _COUNTS)
RUN_COLUMNS = tuple(item.name for item in dataclasses.fields(RunInfo))
"""The columns every row of one crawl process shares (:class:`RunInfo`); the others are the
source's (:class:`SourceRun`)."""


def to_table(info: RunInfo, sources: Iterable[SourceRun]) -> pa.Table:
    """The rows of one crawl process, one per source, sorted by source."""
    rows = []
    for run in sorted(sources, key=lambda run: run.source):
        row: dict[str, Any] = {name: getattr(info, name) for name in RUN_COLUMNS}
        for item in FIELDS:
            if item.name in RUN_COLUMNS:
                continue
            value = getattr(run, item.name)
            row[item.name] = sorted(value.items()) if isinstance(value, Counter) else value
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def file_name(info: RunInfo) -> str:
    """Where one crawl process's rows go, below ``runs/``."""
    started = info.started_at.astimezone(UTC)
    return (
        f"{RUN_PARTITION_KEY}={started:%Y-%m-%d}/"
        f"{FILE_PREFIX}-{started:%Y%m%dT%H%M%S.%fZ}-{info.worker}{DATA_SUFFIX}"
    )


def merged_files(location: DatasetLocation, partition: str) -> list[DataFile]:
    """The files of ``partition`` (``run_date=...``) that ``scrapy compact`` wrote, merging
    the files of its crawl processes, newest first: where the rows of a file it names that is
    gone are."""
    files = list_data_files(location, RUNS, partition)
    return [file for file in reversed(files) if _MERGED.fullmatch(posixpath.basename(file.name))]


def write_runs(
    location: DatasetLocation,
    info: RunInfo,
    sources: Iterable[SourceRun],
    *,
    compression: str = DEFAULT_COMPRESSION,
    compression_level: int | None = None,
) -> str:
    """Write one crawl process's rows (complete, or not at all: written aside, then renamed;
    an object store shows an upload once complete), with the dataset's write options
    (``compression`` at ``compression_level``: ``PARQUET_COMPRESSION`` and its level); returns
    the file's name below ``runs/``. Raises ``OSError`` when it cannot be written."""
    table = to_table(info, sources)
    options = parquet_write_options(SCHEMA, compression, compression_level)
    name = file_name(info)
    final = location.path(RUNS, name)
    if not location.is_local:
        pq.write_table(table, final, filesystem=location.filesystem, **options)
        return name
    path = location.local_dir() / RUNS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        pq.write_table(table, tmp, **options)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    return name


def tmp_path(path: Path) -> Path:
    """Where the file ``path`` (in a partition of ``runs/``) is written before it is renamed:
    in ``runs/`` (a rename into the partition works from there), under a hidden name
    (``.run-....parquet.<host>-<pid>.tmp``) that readers skip, as they skip every name starting
    with ``.`` or ``_``. Not in the partition: ``scrapy compact`` may exchange the partition
    for a new folder meanwhile, and the rename then lands in the new one (or, between its
    links and the exchange, in the old, from which the compaction moves the file over). The
    next crawl removes it if this process dies (:func:`remove_stale_tmp_files`)."""
    return path.parent.parent / f".{path.name}.{owner_tag()}{TMP_SUFFIX}"


STALE_AFTER = ABANDONED_AFTER
"""Seconds after which a run-history file being written is a dead process's, whatever host
wrote it: one is written and renamed in well under a second, as the other such files
(:data:`dataset.layout.ABANDONED_AFTER`). (``OUTPUT_DIR`` may be shared by
machines that hold no common lock; in containers every run has a host name of its own.)"""


_TMP_PARTITIONS = 2
"""The newest partitions looked at for temporary files, where earlier versions wrote them
(their crawls looked in every partition as they started: only the last days' can be left)."""


def remove_stale_tmp_files(location: DatasetLocation) -> list[Path]:
    """Delete the temporary files that crawl processes, killed while writing their rows, left
    in ``runs/`` (and in its newest partitions, where earlier versions wrote them, some under
    unhidden names, which readers took for run files): those of this machine's dead
    processes, and any left unchanged for :data:`STALE_AFTER` seconds; none in an object
    store, where an upload is visible only once complete. Only so many folders are looked in,
    however long the history."""
    if not location.is_local:
        return []
    runs = location.local_dir() / RUNS
    if not runs.is_dir():
        return []
    newest = partitions_at(location, RUNS)[-_TMP_PARTITIONS:]
    return [
        path
        for folder in (runs, *(runs / name for name in newest))
        for path in remove_stale_tmp_files_in(folder, older_than=STALE_AFTER)
    ]


def read_runs(location: DatasetLocation) -> pa.Table:
    """Every row of the run history (empty, with the schema, when there is none)."""
    return read_run_files(location, [file.name for file in list_data_files(location, RUNS)])


def newest_run_files(
    location: DatasetLocation, files: int, *, until: date | None = None
) -> list[DataFile]:
    """The newest ``files`` files of the run history, newest first (by partition, then by
    name: the writer's start), listing only the partitions they are in, so that neither the
    listing nor the read grows with the history. Partitions of days after ``until`` are
    skipped: runs of a clock that was ahead, none of them earlier than a run of that day."""
    newest: list[DataFile] = []
    for partition in reversed(partitions_at(location, RUNS)):
        if len(newest) >= files:
            break
        if until is not None and partition > f"{RUN_PARTITION_KEY}={until.isoformat()}":
            continue
        newest += reversed(list_data_files(location, RUNS, partition))
    return newest[:files]


def newest_start(location: DatasetLocation) -> datetime | None:
    """When the newest run of the run history started (``None``: no history), read from the
    two newest files of its newest partition (a compacted day's file is named for its
    compaction, a run written after it for its start)."""
    partitions = partitions_at(location, RUNS)
    if not partitions:
        return None
    newest = list_data_files(location, RUNS, partitions[-1])[-2:]
    starts = read_run_files(location, [file.name for file in newest]).column("started_at")
    value = pc.max(starts).as_py()
    return value if isinstance(value, datetime) else None


def read_newest_runs(
    location: DatasetLocation, *, runs: int, most_files: int
) -> tuple[pa.Table, bool]:
    """The rows of the newest files of the run history, read newest first until each source
    they name has ``runs`` runs in them, or ``most_files`` files are read; and whether that
    was the whole history. A partition whose files ``scrapy compact`` merged while they were
    read is read again."""
    tables: list[pa.Table] = []
    seen: dict[str, set[str]] = {}
    for partition in reversed(partitions_at(location, RUNS)):
        before = len(tables)
        for attempt in range(1, _READ_ATTEMPTS + 1):
            try:
                whole = _read_newest_in(
                    location, partition, tables, seen, runs=runs, most_files=most_files
                )
            except FileNotFoundError:
                if attempt == _READ_ATTEMPTS:
                    raise
                del tables[before:]
                seen = _runs_by_source(tables)
            else:
                break
        if not whole:
            return pa.concat_tables(tables), False
    return (pa.concat_tables(tables) if tables else SCHEMA.empty_table()), True


_READ_ATTEMPTS = 3
"""How many times a partition of the run history is read when its files go while it is read
(merged by ``scrapy compact``)."""


def _read_newest_in(
    location: DatasetLocation,
    partition: str,
    tables: list[pa.Table],
    seen: dict[str, set[str]],
    *,
    runs: int,
    most_files: int,
) -> bool:
    """Add the rows of the files of ``partition`` to ``tables`` (and their runs to ``seen``),
    newest first, while :func:`read_newest_runs` wants more; ``False`` once it wants no more."""
    for file in reversed(list_data_files(location, RUNS, partition)):
        if len(tables) >= most_files or (seen and min(map(len, seen.values())) >= runs):
            return False
        table = read_run_files(location, [file.name])
        tables.append(table)
        for source, run_ids in _runs_by_source([table]).items():
            seen.setdefault(source, set()).update(run_ids)
    return True


def _runs_by_source(tables: list[pa.Table]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = {}
    for table in tables:
        for source, run_id in zip(
            table.column("source").to_pylist(), table.column("run_id").to_pylist(), strict=True
        ):
            seen.setdefault(source, set()).add(run_id)
    return seen


def read_run_files(location: DatasetLocation, names: Iterable[str]) -> pa.Table:
    """The rows of these files of the run history (names below ``runs/``, as
    :func:`write_runs` returns them), in :data:`SCHEMA`. ``ValueError`` for a file that is not
    the run history's; ``FileNotFoundError`` for one that is gone."""
    tables = []
    for name in names:
        table = read_table_at(location, name, folder=RUNS)
        lacking = [column for column in _IDENTITY if column not in table.column_names]
        if lacking:
            raise ValueError(f"{name} is not a run-history file (no {', '.join(lacking)})")
        tables.append(_conform(table))
    if not tables:
        return SCHEMA.empty_table()
    return pa.concat_tables(tables)


_IDENTITY = ("run_id", "source", "started_at")
"""The columns without which a table is not the run history's (another table's file)."""


INDEX_FILE = "run-history-index.sqlite3"
"""The :class:`RunIndex` of a ``STATE_DIR``."""


class RunIndex:
    """Which files of the run history hold each source's newest runs (``STATE_DIR/``
    :data:`INDEX_FILE`): the crawl reads a source's earlier runs from them when the newest
    files of the history do not hold enough of them (crawls of another sources file, run more
    often, writing into the same dataset). Only a hint: it knows the files of the crawls of its
    own ``STATE_DIR`` (in Redis mode, its machine's), a file it names that is gone (merged by
    ``scrapy compact``) is looked for in the files the compaction wrote in its partition
    (:func:`merged_files`), and a lost index is made again, run by run. It keeps the newest
    ``keep`` files of each source, in the order they were added (not by their names' times,
    which a clock set wrong makes lie), so it grows with the sources, never with the runs."""

    def __init__(self, path: Path, keep: int) -> None:
        self.path = path
        self.keep = keep

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS runs (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " source TEXT NOT NULL, file TEXT NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS runs_by_source ON runs (source, seq)")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def files_of(self, sources: Iterable[str]) -> list[str]:
        """The files holding the newest runs of ``sources`` (names below ``runs/``), each
        once, the most recently added first. Raises ``sqlite3.Error`` or ``OSError``."""
        found: dict[str, int] = {}
        with closing(self._connect()) as db:
            for source in sources:
                rows = db.execute(
                    "SELECT file, seq FROM runs WHERE source = ? ORDER BY seq DESC LIMIT ?",
                    (source, self.keep),
                )
                for file, seq in rows:
                    found[file] = max(found.get(file, 0), seq)
        return sorted(found, key=lambda file: found[file], reverse=True)

    def add(self, file: str, sources: Iterable[str]) -> None:
        """Record that ``file`` holds a run of each of ``sources``; each keeps its newest
        ``keep`` files. Raises ``sqlite3.Error`` or ``OSError``."""
        with closing(self._connect()) as db, db:
            for source in sources:
                db.execute("INSERT INTO runs (source, file) VALUES (?, ?)", (source, file))
                db.execute(
                    "DELETE FROM runs WHERE source = ? AND seq <= (SELECT seq FROM runs"
                    " WHERE source = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (source, source, self.keep),
                )


def _conform(table: pa.Table) -> pa.Table:
    """A file's table in :data:`SCHEMA`: a column it lacks (written before the column was
    declared) is null, one it has beyond the schema is left out."""
    columns = [
        table.column(item.name)
        if item.name in table.column_names
        else pa.nulls(table.num_rows, item.type)
        for item in FIELDS
    ]
    return pa.Table.from_arrays(columns, schema=SCHEMA)


def per_run(table: pa.Table) -> list[dict[str, Any]]:
    """The history with one row per run and source: the rows of the processes of one run
    summed (counts added, maps added key by key, the newest date kept, the run's first start
    and last finish), sorted by start and source."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for row in table.to_pylist():
        key = (row["run_id"], row["source"])
        into = merged.get(key)
        if into is None:
            merged[key] = {
                **row,
                **{name: Counter(dict(row[name] or [])) for name in _MAPS},
                **{item.name: row[item.name] or 0 for item in FIELDS if item.type == pa.int64()},
                "workers": 1,
            }
            continue
        into["workers"] += 1
        into["started_at"] = min(into["started_at"], row["started_at"])
        into["finished_at"] = max(into["finished_at"], row["finished_at"])
        for item in FIELDS:
            if item.type == pa.int64():
                into[item.name] += row[item.name] or 0
        for name in _MAPS:
            into[name].update(dict(row[name] or []))
        newest = [v for v in (into["newest_published_at"], row["newest_published_at"]) if v]
        into["newest_published_at"] = max(newest, default=None)
    return sorted(merged.values(), key=lambda row: (row["started_at"], row["source"]))


def markdown_table() -> str:
    """The run history's table of ``docs/dataset.md``, from :data:`FIELDS`."""
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{item.name}` | {item.type} | {item.doc} |" for item in FIELDS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
