"""Compaction: merge the small data files of a partition into well-sized ones, atomically.

A crawl commits a file at every commit interval, so a partition collects many small files.
:func:`compact_partition` rewrites the small ones (rows below half the target) into files of
at most ``target_rows`` rows, sorted by ``source`` then ``published_at`` so that readers skip
row groups, and verifies that the new files hold exactly the same rows (same ids, same count)
before anything becomes visible.

The swap is atomic for readers where the system can exchange two directories
(``renameat2(RENAME_EXCHANGE)`` on Linux): the new partition is built beside the live one in
``state/tmp/`` (untouched files hard-linked into it) and the two are exchanged in one step.
Elsewhere the new files are renamed in, then the old ones removed. Either way a job folder
with a manifest records what is being done, and :func:`finish_interrupted` completes or undoes
a compaction that died half-way (it runs before every compaction and every crawl), so a crash
never leaves rows missing or doubled. A file a crawl commits into the partition during the
swap is kept.
"""

from __future__ import annotations

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
import pyarrow.parquet as pq

from pipelines.dataset import DATA_SUFFIX, data_file_name, fsync_path, process_running, tmp_dir
from pipelines.schema import ARTICLE_SCHEMA, dictionary_columns

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

JOB_PREFIX = "compact-"
MANIFEST = "manifest.json"
SORT_KEYS = [("source", "ascending"), ("published_at", "ascending")]
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
    columns of ``schema``: columns added since are null. Raises ``CompactionError`` when the
    file has a column the schema does not know (a newer writer: leave its files alone)."""
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


_ROW_ORDER = [(name, "ascending") for name in ("id", "fetched_at", "content_hash", "url")]


def same_rows(first: pa.Table, second: pa.Table) -> bool:
    """Whether two tables hold the same rows, every column equal, in any order."""
    order = [key for key in _ROW_ORDER if key[0] in first.column_names]
    return first.num_rows == second.num_rows and first.sort_by(order).equals(second.sort_by(order))


def small_files(partition: Path, target_rows: int) -> list[Path]:
    """The files of ``partition`` holding fewer than half ``target_rows`` rows."""
    found = []
    for path in sorted(partition.glob(f"*{DATA_SUFFIX}")):
        if path.name.startswith((".", "_")):
            continue
        if pq.ParquetFile(path).metadata.num_rows < target_rows // 2:
            found.append(path)
    return found


def _write_files(
    table: pa.Table,
    folder: Path,
    *,
    target_rows: int,
    row_group_rows: int,
    compression: str,
    run_id: str,
) -> list[str]:
    """``table`` sorted and written into ``folder`` as files of at most ``target_rows``."""
    keys = SORT_KEYS if "source" in table.column_names else [("id", "ascending")]
    table = table.sort_by(keys)
    started = datetime.now(UTC)
    names = []
    for sequence, start in enumerate(range(0, table.num_rows, target_rows), start=1):
        name = data_file_name(started, run_id, sequence)
        path = folder / name
        pq.write_table(
            table.slice(start, target_rows),
            path,
            row_group_size=row_group_rows,
            compression=compression,
            use_dictionary=list(dictionary_columns(table.schema)),
            write_statistics=True,
        )
        fsync_path(path)
        names.append(name)
    return names


def compact_partition(
    partition: Path,
    output_dir: Path,
    *,
    target_rows: int = DEFAULT_TARGET_ROWS,
    row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
    compression: str = "zstd",
    atomic: bool = True,
    schema: pa.Schema = ARTICLE_SCHEMA,
) -> PartitionResult | None:
    """Merge the small files of ``partition`` (a ``fetch_date=...`` folder of a dataset under
    ``output_dir``, its files of ``schema``: articles, or the HTML archive); ``None`` when there
    are fewer than two. ``atomic=False`` forces the rename-then-remove swap (used where
    directories cannot be exchanged, and by tests)."""
    inputs = small_files(partition, target_rows)
    if len(inputs) < 2:
        return None
    tables = [conform(pq.read_table(path), schema) for path in inputs]
    merged = pa.concat_tables(tables)
    job = tmp_dir(output_dir) / f"{JOB_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
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
            run_id=run_id,
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
    manifest_path.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    fsync_path(manifest_path)
    fsync_path(staging)
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
    result.rescued = _finish(job, manifest)
    return result


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


def finish_interrupted(output_dir: Path) -> list[Path]:
    """Complete or undo the compactions of processes that died half-way; returns their job
    folders. Jobs of running compactions are left alone."""
    done: list[Path] = []
    tmp = tmp_dir(output_dir)
    if not tmp.is_dir():
        return done
    for job in sorted(tmp.glob(f"{JOB_PREFIX}*")):
        pid_text = job.name.removeprefix(JOB_PREFIX).split("-", 1)[0]
        if process_running(pid_text):
            continue
        manifest_path = job / MANIFEST
        if manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            rescued = _finish(job, manifest)
            logger.warning(
                "Finished the compaction a dead process left in %s%s",
                job,
                f" (kept {len(rescued)} files committed meanwhile)" if rescued else "",
            )
        else:  # died before anything was visible
            shutil.rmtree(job, ignore_errors=True)
            logger.warning("Removed the unfinished compaction in %s", job)
        done.append(job)
    return done
