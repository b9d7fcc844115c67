"""Compaction: merge the small data files of a partition into well-sized ones, atomically.

A crawl commits a file at every commit interval, so a partition collects many small files.
:func:`compact_partition` rewrites the small ones (rows below half the target) into files of
at most ``target_rows`` rows, sorted by ``source`` then ``published_at`` so that readers skip
row groups, and verifies that the new files hold exactly the same rows (same ids, same count)
before anything becomes visible. The partitions of the HTML archive and of the run history
(``runs/run_date=...``, a day's files of the crawl processes into one, its rows in the order
the crawls wrote them) are merged the same way.

The swap is atomic for readers where the system can exchange two directories
(``renameat2(RENAME_EXCHANGE)`` on Linux): the new partition is built beside the live one in
``state/tmp/`` (untouched files hard-linked into it) and the two are exchanged in one step.
Elsewhere the new files are renamed in, then the old ones removed. Either way a job folder
with a manifest records what is being done, and :func:`finish_interrupted` completes or undoes
a compaction that died half-way (it runs before every compaction and every crawl), so a crash
never leaves rows missing or doubled. A file a crawl commits into the partition during the
swap is kept.

An object store has neither renames nor links (:func:`compact_partition_at`): the new files
are written under new names straight into the partition, read back and checked against the
merged rows, and only then are the old files deleted. Until the last is deleted a reader
listing the partition sees both (every merged row twice). The manifest, kept in the local
``STATE_DIR``, says whether the new files were verified: a compaction that died before is
undone (its new files deleted), one that died after is completed (the old files deleted).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dataset.layout import (
    ARTICLES,
    DATA_SUFFIX,
    HTML,
    RUNS,
    STAGING,
    STATE,
    TMP,
    abandoned,
    data_file_name,
    fsync_path,
    owner_tag,
    staging_dir,
    tmp_dir,
)
from dataset.schema import (
    ARTICLE_SCHEMA,
    DEFAULT_COMPRESSION,
    SORT_KEYS,
    not_an_article_file,
    parquet_write_options,
    upgrade,
)
from dataset.storage import (
    DatasetLocation,
    delete_quietly,
    file_rows_at,
    list_data_files,
    location_of,
    read_table_at,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

logger = logging.getLogger(__name__)

JOB_PREFIX = "compact-"
MANIFEST = "manifest.json"
DEFAULT_TARGET_ROWS = 100_000
DEFAULT_ROW_GROUP_ROWS = 20_000


class CompactionError(Exception):
    """The compacted files do not hold exactly the input rows; nothing was changed."""


@dataclass(kw_only=True)
class PartitionResult:
    partition: str
    merged: list[str] = field(default_factory=list)
    """Names of the small files that were merged (and removed)."""
    written: list[str] = field(default_factory=list)
    """Names of the new files."""
    rows: int = 0
    """Rows moved from the merged files into the new ones."""
    atomic: bool = False
    """Whether the swap was one atomic directory exchange."""
    rescued: list[str] = field(default_factory=list)
    """Files a crawl committed during the swap, moved into the new partition."""
    in_store: bool = False
    """Whether the partition is in an object store: old and new files were both visible
    until the old ones were deleted."""


def _exchange_function() -> Callable[[bytes, bytes], int] | None:
    """``renameat2(..., RENAME_EXCHANGE)`` from the C library, or ``None`` where missing."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return None
    at_fdcwd, rename_exchange = -100, 2

    def exchange(first: bytes, second: bytes) -> int:
        if renameat2(at_fdcwd, first, at_fdcwd, second, rename_exchange) == 0:
            return 0
        return ctypes.get_errno()

    return exchange


def exchange_dirs(first: Path, second: Path) -> bool:
    """Swap two directories atomically; ``False`` (and nothing done) where unsupported."""
    exchange = _exchange_function()
    if exchange is None:
        return False
    error = exchange(os.fsencode(first), os.fsencode(second))
    if error == 0:
        return True
    # EINVAL/ENOSYS/ENOTSUP: the filesystem or kernel cannot; anything else is a real error.
    if error in {22, 38, 95}:
        return False
    raise OSError(error, os.strerror(error), str(first))


def conform(table: pa.Table, schema: pa.Schema = ARTICLE_SCHEMA) -> pa.Table:
    """``table`` (read from a file of this or an older schema version) with exactly the
    columns of ``schema``: columns added since are null, and article rows of older versions
    read as the current version has them (:func:`dataset.schema.upgrade`). Raises
    ``CompactionError`` when the file has a column the schema does not know (a newer writer:
    leave its files alone)."""
    if schema is ARTICLE_SCHEMA:
        problem = not_an_article_file(table.column_names)
        if problem is not None:
            raise CompactionError(problem)
        table = upgrade(table)
    unknown = set(table.column_names) - set(schema.names)
    if unknown:
        raise CompactionError(f"columns unknown to this version: {', '.join(sorted(unknown))}")
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


_ROW_ORDER = [
    (name, "ascending")
    for name in ("id", "fetched_at", "content_hash", "url", "run_id", "worker", "source")
]
"""The columns that tell rows apart (those a table has): an article's, a run history's row."""


def same_rows(first: pa.Table, second: pa.Table) -> bool:
    """Whether two tables hold the same rows, every column equal, in any order."""
    order = [key for key in _ROW_ORDER if key[0] in first.column_names]
    return first.num_rows == second.num_rows and first.sort_by(order).equals(second.sort_by(order))


@contextlib.contextmanager
def _readable(name: str) -> Iterator[None]:
    """A data file pyarrow cannot take for Parquet (cut short, empty, another format) stops
    the partition's compaction as a :class:`CompactionError` naming it (damaged pages inside
    a file come as ``OSError``)."""
    try:
        yield
    except pa.ArrowInvalid as exc:
        raise CompactionError(f"{name} is not a readable Parquet file: {exc}") from None
    except CompactionError as exc:  # another table's file, a newer writer's
        raise CompactionError(f"{name}: {exc}") from None


def small_files(partition: Path, target_rows: int) -> list[Path]:
    """The files of ``partition`` holding fewer than half ``target_rows`` rows (a folder that
    cannot be listed raises, where a glob would take it for empty)."""
    found = []
    for path in sorted(partition.iterdir()):
        if not path.name.endswith(DATA_SUFFIX) or path.name.startswith((".", "_")):
            continue
        with _readable(path.name):
            rows = pq.read_metadata(path).num_rows
        if rows < target_rows // 2:
            found.append(path)
    return found


def small_files_at(
    location: DatasetLocation, folder: str, partition: str, target_rows: int
) -> list[str]:
    """The names of the files of ``partition`` (in ``folder``: ``articles``, ``html`` or
    ``runs``) holding fewer than half ``target_rows`` rows."""
    if location.is_local:
        return [
            path.name
            for path in small_files(location.local_dir() / folder / partition, target_rows)
        ]
    return [
        file.name.rsplit("/", 1)[-1]
        for file in list_data_files(location, folder, partition)
        if _rows_at(location, file.name, folder) < target_rows // 2
    ]


def _rows_at(location: DatasetLocation, name: str, folder: str) -> int:
    with _readable(name):
        return file_rows_at(location, name, folder)


def _read(path: Path, schema: pa.Schema) -> pa.Table:
    with _readable(path.name):
        return conform(pq.read_table(path), schema)


def _output_names(
    rows: int, target_rows: int, run_id: str, started: datetime, prefix: str = "part"
) -> list[str]:
    count = -(-rows // target_rows)  # ceiling
    return [data_file_name(started, run_id, n, prefix) for n in range(1, count + 1)]


def _write_files(
    table: pa.Table,
    folder: Path | str,
    *,
    target_rows: int,
    row_group_rows: int,
    compression: str,
    compression_level: int | None,
    run_id: str,
    started: datetime | None = None,
    filesystem: pafs.FileSystem | None = None,
    sort_keys: Sequence[tuple[str, str]] | None = None,
    prefix: str = "part",
) -> list[str]:
    """``table`` sorted (by ``sort_keys``; by default an article's :data:`SORT_KEYS`, else
    ``id``) and written into ``folder`` (local, or in ``filesystem``) as files of at most
    ``target_rows``, named ``<prefix>-...`` after ``started`` (default: now) and ``run_id``,
    with the project's write options (:func:`dataset.schema.parquet_write_options`)."""
    if sort_keys is None:
        sort_keys = SORT_KEYS if "source" in table.column_names else [("id", "ascending")]
    options = parquet_write_options(table.schema, compression, compression_level)
    table = table.sort_by(list(sort_keys))
    names = _output_names(table.num_rows, target_rows, run_id, started or datetime.now(UTC), prefix)
    for name, start in zip(names, range(0, table.num_rows, target_rows), strict=True):
        path = f"{folder}/{name}"
        pq.write_table(
            table.slice(start, target_rows),
            path,
            row_group_size=row_group_rows,
            filesystem=filesystem,
            **options,
        )
        if filesystem is None:
            fsync_path(Path(path))
    return names


def compact_partition(
    partition: Path,
    output_dir: Path,
    *,
    target_rows: int = DEFAULT_TARGET_ROWS,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    compression: str = DEFAULT_COMPRESSION,
    compression_level: int | None = None,
    atomic: bool = True,
    schema: pa.Schema = ARTICLE_SCHEMA,
    staging: Path | None = None,
    sort_keys: Sequence[tuple[str, str]] | None = None,
    prefix: str = "part",
) -> PartitionResult | None:
    """Merge the small files of ``partition`` (a ``fetch_date=...`` folder of a dataset under
    ``output_dir``, its files of ``schema``: articles, or the HTML archive; a ``run_date=...``
    one of the run history, with its ``sort_keys`` and ``prefix``: see :func:`_write_files`),
    the new files compressed with ``compression`` at ``compression_level``; ``None`` when there
    are fewer than two. ``atomic=False`` forces the rename-then-remove swap (used where
    directories cannot be exchanged, and by tests). The new partition is prepared in
    ``staging`` (default ``output_dir/state/tmp``), which must be on the dataset's filesystem
    (:func:`dataset.layout.staging_dir`)."""
    folders = sorted(path.name for path in partition.iterdir() if path.is_dir())
    if folders:
        # its files are hard-linked into the new partition, which a folder cannot be
        raise CompactionError(
            f"it holds a folder ({', '.join(folders[:3])}), which a crawl never makes there: "
            "move it out of the dataset"
        )
    inputs = small_files(partition, target_rows)
    if len(inputs) < 2:
        return None
    tables = [_read(path, schema) for path in inputs]
    merged = pa.concat_tables(tables)
    job = (staging or tmp_dir(output_dir)) / _job_name()
    staging = job / partition.name
    staging.mkdir(parents=True)
    run_id = f"c{secrets.token_hex(3)}"
    try:
        written = _write_files(
            merged,
            staging,
            target_rows=target_rows,
            row_group_rows=row_group_rows,
            compression=compression,
            compression_level=compression_level,
            run_id=run_id,
            sort_keys=sort_keys,
            prefix=prefix,
        )
        check = pa.concat_tables(conform(pq.read_table(staging / name), schema) for name in written)
        if not same_rows(check, merged):
            raise CompactionError(
                f"{partition.name}: the new files hold other rows than the merged ones"
            )
    except BaseException:
        shutil.rmtree(job, ignore_errors=True)
        raise
    result = PartitionResult(
        partition=partition.name,
        merged=[path.name for path in inputs],
        written=written,
        rows=merged.num_rows,
    )
    manifest = {
        "partition": str(partition),
        "inputs": result.merged,
        "outputs": written,
        "created_at": datetime.now(UTC).isoformat(),
    }
    manifest_path = job / MANIFEST
    try:
        manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        fsync_path(manifest_path)
        fsync_path(staging)
    except BaseException:  # nothing is visible yet
        shutil.rmtree(job, ignore_errors=True)
        raise
    try:
        _swap(partition, staging, result, atomic=atomic)
    except BaseException:
        # what was done is completed, or undone (a kill here leaves it to the next run)
        try:
            _finish(job, manifest)
        except OSError:
            logger.warning("Left the compaction in %s for the next compaction or crawl", job)
        raise
    result.rescued = _finish(job, manifest)
    return result


def _swap(partition: Path, staging: Path, result: PartitionResult, *, atomic: bool) -> None:
    """Make the files of ``staging`` the partition's: one directory exchange (the files left
    as they were hard-linked in first) or, where there is none, renames then deletions."""
    written = result.written
    if atomic:
        # The new partition: the merged files plus hard links of the files left as they are.
        merged_names = set(result.merged)
        for path in partition.iterdir():
            if path.name not in merged_names and not (staging / path.name).exists():
                os.link(path, staging / path.name)
        fsync_path(staging)
        result.atomic = exchange_dirs(staging, partition)
        if not result.atomic:  # undo the links; fall back to renames
            for path in staging.iterdir():
                if path.name not in written:
                    path.unlink()
    if not result.atomic:
        for name in written:
            (staging / name).replace(partition / name)
        fsync_path(partition)
        for name in result.merged:
            (partition / name).unlink(missing_ok=True)
        fsync_path(partition)


def _finish(job: Path, manifest: dict[str, Any]) -> list[str]:
    """Complete (or undo) the swap described by ``manifest`` and delete the job folder;
    returns files rescued from the replaced partition."""
    partition = Path(manifest["partition"])
    inputs, outputs = set(manifest["inputs"]), list(manifest["outputs"])
    old = job / partition.name
    rescued: list[str] = []
    visible = partition.is_dir() and all((partition / name).exists() for name in outputs)
    if visible:
        # Swapped: drop the merged files wherever they are; keep anything else a crawl wrote.
        for name in inputs:
            (partition / name).unlink(missing_ok=True)
        if old.is_dir():
            for path in sorted(old.iterdir()):
                if path.name in inputs or (partition / path.name).exists():
                    continue
                path.replace(partition / path.name)
                rescued.append(path.name)
        fsync_path(partition)
    else:
        # Not swapped (or only part of the renames done): remove what was moved in.
        for name in outputs:
            if (partition / name).exists() and all(
                (partition / source).exists() for source in inputs
            ):
                (partition / name).unlink()
    shutil.rmtree(job, ignore_errors=True)
    return rescued


def _job_name() -> str:
    """``compact-<host>-<pid>-<token>``: a job folder of this process."""
    return f"{JOB_PREFIX}{owner_tag()}-{secrets.token_hex(4)}"


def _job_abandoned(job: Path, *, any_host: bool = False) -> bool:
    # compact-<host>-<pid>-<token>, or compact-<pid>-<token> (before host names were kept)
    return abandoned(job.name.removeprefix(JOB_PREFIX).rsplit("-", 1)[0], any_host=any_host)


def finish_interrupted(
    output_dir: Path | DatasetLocation, state: Path | None = None, *, any_host: bool = False
) -> list[Path]:
    """Complete or undo the compactions of the dataset at ``output_dir`` (a local folder or a
    location) that processes of this machine left half-way when they died; returns their job
    folders. Jobs are looked for in ``state/tmp`` (``state`` defaults to
    ``output_dir/state``) and in the ``_tmp`` folders of :func:`dataset.layout.staging_dir`;
    those of running compactions, of other machines, and of other datasets are left alone.

    ``any_host``: the caller holds ``state``'s compaction lock, which every compaction with
    this ``state`` holds while it runs, and runs none itself: the jobs of ``state/tmp`` are
    then finished whichever machine (or earlier process with this pid) left them
    (:func:`dataset.layout.abandoned`). The ``_tmp`` folders of the dataset, which compactions
    with other state folders use too, keep the rule of this machine's dead processes."""
    location = output_dir if isinstance(output_dir, DatasetLocation) else location_of(output_dir)
    if state is None:
        state = location.local_dir() / STATE
    folders = [state / TMP]
    if location.is_local:
        root = location.local_dir()
        folders += [root / STAGING, *(root / folder / STAGING for folder in (ARTICLES, HTML, RUNS))]
    done: list[Path] = []
    for tmp in dict.fromkeys(folders):
        if not tmp.is_dir():
            continue
        mine = any_host and tmp == state / TMP
        jobs = sorted(tmp.glob(f"{JOB_PREFIX}*"))
        done.extend(
            job for job in jobs if _job_abandoned(job, any_host=mine) and _finish_job(job, location)
        )
    return done


def _finish_job(job: Path, location: DatasetLocation) -> bool:
    """Complete or undo one dead job; ``False`` when it is left for later."""
    try:
        manifest = json.loads((job / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none, or cut short: died before anything was visible
        shutil.rmtree(job, ignore_errors=True)
        logger.warning("Removed the unfinished compaction in %s", job)
        return True
    if "store" not in manifest:
        rescued = _finish(job, manifest)
        logger.warning(
            "Finished the compaction a dead process left in %s%s",
            job,
            f" (kept {len(rescued)} files committed meanwhile)" if rescued else "",
        )
        return True
    if manifest["store"] != _store_id(location):
        logger.warning("Left %s alone: the compaction of another dataset", job)
        return False
    if not _finish_in_store(job, manifest, location):
        return False
    logger.warning(
        "%s the compaction a dead process left in %s",
        "Finished" if manifest["phase"] == _VERIFIED else "Undid",
        job,
    )
    return True


# --- in an object store -----------------------------------------------------------------------

_WRITING = "writing"
"""The new files are being written: a job that died in this phase is undone."""
_VERIFIED = "verified"
"""The new files hold the merged rows: a job that died in this phase is completed."""


def _store_id(location: DatasetLocation) -> dict[str, str]:
    return {"filesystem": location.filesystem.type_name, "root": location.root.rstrip("/")}


def _save_manifest(job: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (a crash leaves the old one or the new one)."""
    tmp = job / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    fsync_path(tmp)
    tmp.replace(job / MANIFEST)
    fsync_path(job)


def _delete_files(location: DatasetLocation, folder: str, names: list[str]) -> bool:
    """Delete these files of one partition (missing ones count as deleted); ``False`` when
    one could not be."""
    results = [delete_quietly(location, f"{folder}/{name}") for name in names]
    return all(results)


def _finish_in_store(job: Path, manifest: dict[str, Any], location: DatasetLocation) -> bool:
    """Complete (``verified``: delete the old files) or undo (delete the new files) the
    compaction of ``manifest``; the job folder is removed once that is done."""
    partition, inputs, outputs = manifest["partition"], manifest["inputs"], manifest["outputs"]
    if manifest["phase"] == _VERIFIED:
        infos = location.filesystem.get_file_info([f"{partition}/{name}" for name in outputs])
        if any(info.type != pafs.FileType.File for info in infos):
            logger.error(
                "Left %s alone: new files of %s it verified are gone; check the partition",
                job,
                partition,
            )
            return False
        finished = _delete_files(location, partition, inputs)
    else:
        finished = _delete_files(location, partition, outputs)
    if finished:
        shutil.rmtree(job, ignore_errors=True)
    return finished


def compact_partition_at(
    location: DatasetLocation,
    folder: str,
    partition: str,
    *,
    state: Path,
    target_rows: int = DEFAULT_TARGET_ROWS,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    compression: str = DEFAULT_COMPRESSION,
    compression_level: int | None = None,
    schema: pa.Schema = ARTICLE_SCHEMA,
    sort_keys: Sequence[tuple[str, str]] | None = None,
    prefix: str = "part",
) -> PartitionResult | None:
    """Merge the small files of ``partition`` (``fetch_date=...``, ``run_date=...``) of
    ``folder`` (``articles``, ``html`` or ``runs``; ``sort_keys`` and ``prefix``: see
    :func:`_write_files`) at ``location``, locally (:func:`compact_partition`) or in an
    object store; ``state`` is the local ``STATE_DIR`` (job folders and manifests); the new
    files compressed with ``compression`` at ``compression_level``. ``None`` when there are
    fewer than two small files."""
    options: dict[str, Any] = {
        "target_rows": target_rows,
        "row_group_rows": row_group_rows,
        "compression": compression,
        "compression_level": compression_level,
        "sort_keys": sort_keys,
        "prefix": prefix,
    }
    if location.is_local:
        root = location.local_dir()
        return compact_partition(
            root / folder / partition,
            root,
            schema=schema,
            staging=staging_dir(root, state, folder),
            **options,
        )
    return _compact_in_store(location, folder, partition, state=state, schema=schema, **options)


def _read_at(
    location: DatasetLocation, folder: str, partition: str, name: str, schema: pa.Schema
) -> pa.Table:
    with _readable(name):
        return conform(read_table_at(location, f"{partition}/{name}", folder=folder), schema)


def _compact_in_store(
    location: DatasetLocation,
    folder: str,
    partition: str,
    *,
    state: Path,
    schema: pa.Schema,
    target_rows: int,
    row_group_rows: int,
    compression: str,
    compression_level: int | None,
    sort_keys: Sequence[tuple[str, str]] | None,
    prefix: str,
) -> PartitionResult | None:
    """Write the merged rows under new names beside the old files, check them, then delete
    the old files; the manifest in ``state`` says how far it got."""
    options: dict[str, Any] = {
        "row_group_rows": row_group_rows,
        "compression": compression,
        "compression_level": compression_level,
        "sort_keys": sort_keys,
        "prefix": prefix,
    }
    inputs = small_files_at(location, folder, partition, target_rows)
    if len(inputs) < 2:
        return None
    where = location.path(folder, partition)
    merged = pa.concat_tables(
        _read_at(location, folder, partition, name, schema) for name in inputs
    )
    started, run_id = datetime.now(UTC), f"c{secrets.token_hex(3)}"
    job = state / TMP / _job_name()
    job.mkdir(parents=True)
    manifest = {
        "store": _store_id(location),
        "partition": where,
        "inputs": inputs,
        "outputs": _output_names(merged.num_rows, target_rows, run_id, started, prefix),
        "phase": _WRITING,
        "created_at": started.isoformat(),
    }
    _save_manifest(job, manifest)
    try:
        written = _write_files(
            merged,
            where,
            target_rows=target_rows,
            run_id=run_id,
            started=started,
            filesystem=location.filesystem,
            **options,
        )
        check = pa.concat_tables(
            conform(read_table_at(location, f"{partition}/{name}", folder=folder), schema)
            for name in written
        )
        if not same_rows(check, merged):
            raise CompactionError(
                f"{partition}: the new files hold other rows than the merged ones"
            )
    except BaseException:
        _finish_in_store(job, manifest, location)  # undo: delete the new files
        raise
    manifest["phase"] = _VERIFIED
    _save_manifest(job, manifest)
    # From the first new file written to the last old file deleted, readers see both.
    if not _finish_in_store(job, manifest, location):
        raise OSError(f"{partition}: old files left beside the new ones (see above)")
    return PartitionResult(
        partition=partition, merged=inputs, written=written, rows=merged.num_rows, in_store=True
    )
