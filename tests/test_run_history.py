"""The run history's files as ``scrapy compact`` leaves them: where a run's file is written, the
merged files, what a killed writer leaves, and the bounded read of the newest runs."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from dataset import run_history
from dataset.layout import RUNS
from dataset.run_history import (
    STALE_AFTER,
    SourceRun,
    merged_files,
    read_newest_runs,
    remove_stale_tmp_files,
    write_runs,
)
from dataset.storage import location_of
from tests.test_compaction import (
    DAY,
    DEAD_PID,
    compact_runs,
    run_info,
    run_partition,
    write_run_history,
)

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa
    import pytest


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: (row["run_id"], row["source"]))


def test_a_run_file_is_written_beside_the_partitions_and_renamed_into_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # written in the partition and renamed there, it was lost when scrapy compact exchanged
    # the partition between the two (tests/test_compaction.py)
    location = location_of(tmp_path)
    written: list[Path] = []
    real_write = run_history.pq.write_table

    def noted(table: pa.Table, where: Any, **options: Any) -> None:
        written.append(where)
        real_write(table, where, **options)

    monkeypatch.setattr(run_history.pq, "write_table", noted)
    name = write_runs(location, run_info("one", DAY), [SourceRun("alpha", stored=1)])

    (tmp,) = written
    assert tmp.parent == tmp_path / RUNS
    assert tmp.name.startswith(".run-")
    assert not tmp.exists()
    assert [path.name for path in (tmp_path / RUNS).iterdir()] == ["run_date=2024-05-01"]
    assert (tmp_path / RUNS / name).is_file()


def test_what_a_killed_writer_left_is_removed_where_it_was_written(tmp_path: Path) -> None:
    write_run_history(tmp_path, days=3)
    runs = tmp_path / RUNS
    dead = f"run-x.parquet.{run_history.owner_tag().rsplit('-', 1)[0]}-{DEAD_PID}.tmp"
    left = [
        runs / f".{dead}",  # this version's
        run_partition(tmp_path, DAY + timedelta(days=2)) / f".{dead}",  # the version before
        run_partition(tmp_path, DAY + timedelta(days=1)) / dead,  # an older one's, unhidden
    ]
    stale = runs / ".run-y.parquet.other-host-12.tmp"  # another host's, an hour old
    running = runs / f".run-z.parquet.{run_history.owner_tag()}.tmp"  # this process's
    for path in [*left, stale, running]:
        path.write_bytes(b"PAR1")
    an_hour_ago = time.time() - STALE_AFTER - 60
    os.utime(stale, (an_hour_ago, an_hour_ago))

    removed = remove_stale_tmp_files(location_of(tmp_path))

    assert sorted(removed) == sorted([*left, stale])
    assert running.exists()


def test_the_files_a_compaction_wrote_are_told_from_the_runs(tmp_path: Path) -> None:
    write_run_history(tmp_path, days=1)
    location = location_of(tmp_path)
    partition = run_partition(tmp_path).name
    assert merged_files(location, partition) == []
    result = compact_runs(tmp_path)
    assert result is not None
    write_runs(location, run_info("late", DAY + timedelta(hours=3)), [SourceRun("alpha")])

    assert [file.name for file in merged_files(location, partition)] == [
        f"{partition}/{name}" for name in result.written
    ]


def test_a_day_merged_while_the_newest_runs_are_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # scrapy report listed the day's files, scrapy compact merged them, and the report
    # failed on the first one gone (FileNotFoundError)
    write_run_history(tmp_path, days=1)
    location = location_of(tmp_path)
    expected, whole = read_newest_runs(location, runs=100, most_files=100)
    assert whole
    real_read = run_history.read_table_at
    reads: list[str] = []

    def compacted_after_the_first(where: Any, name: str, **options: Any) -> pa.Table:
        reads.append(name)
        if len(reads) == 2:
            assert compact_runs(tmp_path) is not None
        return real_read(where, name, **options)

    monkeypatch.setattr(run_history, "read_table_at", compacted_after_the_first)
    table, whole = read_newest_runs(location, runs=100, most_files=100)

    assert whole
    assert rows_of(table) == rows_of(expected)  # each row once
    assert len(reads) == 3  # two files, then the merged one
