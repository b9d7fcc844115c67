"""What killed crawls and compactions leave behind (:mod:`dataset.leftovers`): removed by the
holder of the run lock whichever host left it, as scheduled runs in containers each have a host
name of their own (thirteenth fault hunt, F5)."""

from __future__ import annotations

import fcntl
import os
import socket
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from dataset import compaction
from dataset.compaction import JOB_PREFIX, compact_partition, finish_interrupted
from dataset.layout import TMP_SUFFIX, owner_tag
from dataset.leftovers import remove_leftovers
from dataset.run_history import SourceRun, write_runs
from dataset.run_lock import COMPACT_LOCK_FILE
from dataset.schema import to_table
from dataset.storage import location_of
from dataset.writer import DatasetWriter
from tests.test_compaction import (
    DAY,
    Crash,
    all_rows,
    compact_runs,
    make_dataset,
    make_row,
    partition,
    run_info,
    run_partition,
    run_rows,
    write_run_history,
)
from tests.test_writer import killed_between_archive_and_rows, make_writer

if TYPE_CHECKING:
    from pathlib import Path

DEAD_PID = 2**30  # above any pid_max: no such process


@pytest.fixture
def this_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """This process runs in a container named ``crawl-job-4``; the killed runs were
    ``crawl-job-1`` to ``crawl-job-3``, or had this very name and pid (PID 1 each time)."""
    monkeypatch.setattr(socket, "gethostname", lambda: "crawl-job-4")
    return "crawl-job-4"


def test_what_killed_crawls_of_any_host_left_is_removed_by_the_lock_holder(
    tmp_path: Path, this_host: str, caplog: pytest.LogCaptureFixture
) -> None:
    tmp = tmp_path / "state" / "tmp"
    queue = tmp / f"requests-queue-0a1b2c3d.crawl-job-1-{DEAD_PID}{TMP_SUFFIX}"
    (queue / "requests.queue").mkdir(parents=True)
    (queue / "requests.queue" / "p0").write_bytes(b"pending")
    stale = [
        queue,
        tmp / f"requests-seen-0a1b2c3d.crawl-job-1-{DEAD_PID}{TMP_SUFFIX}",
        tmp / f"part-20261201T000000Z-0a1b2c3d-00001.parquet.crawl-job-2-1{TMP_SUFFIX}",
        # an earlier container with this host name, whose crawl had this process's pid
        tmp / f"requests-seen-4e5f6a7b.{owner_tag()}{TMP_SUFFIX}",
    ]
    for path in stale[1:]:
        path.write_bytes(b"partial")
    # another live process of this machine (writing without the lock), a probe being written
    live = tmp / f"part-20261201T000000Z-8c9d0e1f-00001.parquet.{this_host}-{os.getppid()}.tmp"
    probe = tmp / ".write-probe.crawl-job-5-1.tmp"
    for path in (live, probe):
        path.write_bytes(b"probe")
    # the rule of this machine's dead processes leaves them all
    DatasetWriter(tmp_path).open()
    assert all(path.exists() for path in stale)

    with caplog.at_level("WARNING", logger="dataset.leftovers"):
        removed = remove_leftovers(location_of(tmp_path), tmp_path / "state")

    assert sorted(removed) == sorted(stale)
    assert sorted(tmp.iterdir()) == sorted([live, probe])
    lines = [r.getMessage() for r in caplog.records if r.name == "dataset.leftovers"]
    assert sorted(lines) == sorted(
        f"Removed the unfinished file of a crashed crawl: {path}" for path in stale
    )


def test_the_archive_of_another_hosts_crawl_killed_before_its_rows_is_removed(
    tmp_path: Path, this_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive, note = killed_between_archive_and_rows(tmp_path, monkeypatch)  # a container
    note.rename(note.with_name(note.name.replace(f"{this_host}-{os.getpid()}", "crawl-job-3-1")))
    make_writer(tmp_path, archive=True)  # another host's note: left alone
    assert archive.exists()

    remove_leftovers(location_of(tmp_path), tmp_path / "state")

    assert not archive.exists()
    assert list((tmp_path / "state" / "tmp").glob("commit-*")) == []


def killed_mid_swap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A compaction of ``tmp_path``'s partition killed right after the exchange, a crawl having
    committed a file into the partition during the swap (now in the job folder); its job
    renamed as another host's. Returns the rows the dataset must hold."""
    make_dataset(tmp_path, files=4, rows_per_file=10)
    late = [make_row(5000 + n) for n in range(3)]
    expected = sorted(
        all_rows(tmp_path) + to_table(late).to_pylist(), key=lambda r: (r["id"], r["fetched_at"])
    )
    real_exchange = compaction.exchange_dirs

    def exchange_while_a_crawl_commits(first: Path, second: Path) -> bool:
        pq.write_table(to_table(late), second / "part-late.parquet")
        return real_exchange(first, second)

    def killed(job: Path, manifest: dict[str, Any]) -> list[str]:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(compaction, "exchange_dirs", exchange_while_a_crawl_commits)
        patch.setattr(compaction, "_finish", killed)
        with pytest.raises(Crash):
            compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    [job] = (tmp_path / "state" / "tmp").glob(f"{JOB_PREFIX}*")
    job.rename(job.with_name(f"{JOB_PREFIX}pod-9-1-{job.name.rsplit('-', 1)[-1]}"))
    return expected


def test_a_compaction_of_another_host_killed_mid_swap_is_finished_when_none_runs(
    tmp_path: Path, this_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = killed_mid_swap(tmp_path, monkeypatch)
    # the late file's rows are out of the dataset, and this machine's rule leaves them there
    assert finish_interrupted(tmp_path) == []
    DatasetWriter(tmp_path).open()
    assert len(all_rows(tmp_path)) == len(expected) - 3
    state = tmp_path / "state"
    with (state / COMPACT_LOCK_FILE).open("w") as running:  # a compaction runs: its business
        fcntl.flock(running, fcntl.LOCK_EX)
        assert remove_leftovers(location_of(tmp_path), state) == []
    [job] = (state / "tmp").glob(f"{JOB_PREFIX}*")

    assert remove_leftovers(location_of(tmp_path), state) == [job]

    assert all_rows(tmp_path) == expected
    assert "part-late.parquet" in {path.name for path in partition(tmp_path).iterdir()}
    assert list((state / "tmp").iterdir()) == []


def test_the_compaction_lock_holder_finishes_another_hosts_compaction(
    tmp_path: Path, this_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = killed_mid_swap(tmp_path, monkeypatch)
    assert len(finish_interrupted(tmp_path, any_host=True)) == 1
    assert all_rows(tmp_path) == expected


def test_a_run_history_compaction_killed_mid_swap_keeps_the_run_written_meanwhile(
    tmp_path: Path, this_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a crawl ended while scrapy compact merged its day, which was then killed in another
    # container: the crawl that takes the run lock next finishes it, the run's file kept
    write_run_history(tmp_path, days=1)
    late = run_info("late", DAY + timedelta(hours=2))
    real_exchange = compaction.exchange_dirs

    def exchange_while_a_crawl_ends(first: Path, second: Path) -> bool:
        write_runs(location_of(tmp_path), late, [SourceRun("alpha", stored=3)])
        return real_exchange(first, second)

    def killed(job: Path, manifest: dict[str, Any]) -> list[str]:
        raise Crash

    expected = run_rows(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(compaction, "exchange_dirs", exchange_while_a_crawl_ends)
        patch.setattr(compaction, "_finish", killed)
        with pytest.raises(Crash):
            compact_runs(tmp_path)
    state = tmp_path / "state"
    [job] = (state / "tmp").glob(f"{JOB_PREFIX}*")
    job.rename(job.with_name(f"{JOB_PREFIX}pod-9-1-{job.name.rsplit('-', 1)[-1]}"))
    assert "late" not in {row["run_id"] for row in run_rows(tmp_path)}  # in the job folder

    assert len(remove_leftovers(location_of(tmp_path), state)) == 1

    assert [row for row in run_rows(tmp_path) if row["run_id"] != "late"] == expected
    assert [row["stored"] for row in run_rows(tmp_path) if row["run_id"] == "late"] == [3]
    assert len(list(run_partition(tmp_path).iterdir())) == 2
    assert list((state / "tmp").iterdir()) == []
