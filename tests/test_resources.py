"""extraction.resources: the cores and memory a process may use, as its cgroup limits them, and
how many extraction workers fit."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from extraction.resources import (
    CRAWL_MIB,
    MIB,
    WORKER_MIB,
    cpu_limit,
    default_workers,
    memory_limit,
    usable_cores,
)

if TYPE_CHECKING:
    from pathlib import Path


def _tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def _proc(tmp_path: Path, text: str) -> Path:
    proc = tmp_path / "cgroup"
    proc.write_text(text)
    return proc


def test_version_2_limits_are_read_up_the_tree(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    _tree(
        root,
        {
            "memory.max": "max",  # the root's, where a container sees its own as the root
            "job.slice/memory.max": "536870912",  # a parent's limit applies to its children
            "job.slice/cpu.max": "150000 100000",
            "job.slice/crawl.scope/memory.max": "max",
            "job.slice/crawl.scope/cpu.max": "max 100000",
        },
    )
    proc = _proc(tmp_path, "0::/job.slice/crawl.scope\n")
    assert memory_limit(root, proc) == 512 * MIB
    assert cpu_limit(root, proc) == 1.5


def test_the_smallest_limit_up_the_tree_wins(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    _tree(root, {"a/memory.max": "1073741824", "a/b/memory.max": "268435456"})
    assert memory_limit(root, _proc(tmp_path, "0::/a/b")) == 256 * MIB


def test_version_1_limits(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    _tree(
        root,
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",  # no limit
            "memory/docker/abc/memory.limit_in_bytes": "402653184",
            "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000",
            "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000",
        },
    )
    proc = _proc(
        tmp_path,
        "12:memory:/docker/abc\n5:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n0::/\n",
    )
    assert memory_limit(root, proc) == 384 * MIB
    assert cpu_limit(root, proc) == 0.5
    assert usable_cores(root, proc) == 1  # half a core: one worker busy


def test_no_limit(tmp_path: Path) -> None:
    root = tmp_path / "fs"
    _tree(
        root,
        {
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "cpu/cpu.cfs_quota_us": "-1",
            "cpu/cpu.cfs_period_us": "100000",
        },
    )
    proc = _proc(tmp_path, "4:memory:/\n3:cpu:/\n")
    assert memory_limit(root, proc) is None
    assert cpu_limit(root, proc) is None
    assert usable_cores(root, proc) == len(os.sched_getaffinity(0))


def test_no_cgroup_at_all(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    assert memory_limit(missing, missing) is None
    assert cpu_limit(missing, missing) is None
    assert 1 <= usable_cores(missing, missing) <= (os.cpu_count() or 1)


def test_this_machine() -> None:
    # whatever the sandbox's cgroups say, the answers are sane
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
    limit = memory_limit()
    assert limit is None or limit > 0


@pytest.mark.parametrize(
    ("cores", "limit_mib", "workers"),
    [
        (2, None, 2),
        (8, None, 8),
        (2, 512, 2),  # the 512 MB container: both cores
        (8, 512, (512 - CRAWL_MIB) // WORKER_MIB),
        (2, CRAWL_MIB + WORKER_MIB, 1),
        (2, CRAWL_MIB + WORKER_MIB - 1, 0),  # not even one: extract in the crawl process
        (4, 128, 0),
    ],
)
def test_default_workers(cores: int, limit_mib: int | None, workers: int) -> None:
    chosen = default_workers(cores, limit_mib * MIB if limit_mib is not None else None)
    assert chosen.workers == workers
    if workers < cores:
        assert f"memory limit of {limit_mib} MiB" in chosen.reason
