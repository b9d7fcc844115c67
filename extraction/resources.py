"""What this process may use: CPU cores and memory, as its container (cgroup) limits them, and
how many extraction workers fit.

A container's limits are not what ``os.cpu_count()`` says: a job given half a core and 512 MB
on an eight-core node sees eight cores. Linux tells the limits through the process's cgroup
(``/proc/self/cgroup``, the files under ``/sys/fs/cgroup``), in one of two layouts: version 2
(one tree; ``memory.max``, ``cpu.max``) and version 1 (a tree per controller;
``memory.limit_in_bytes``, ``cpu.cfs_quota_us``). A limit set on a parent applies to its
children, so each is read up the tree to its root and the smallest wins.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
MIB = 1024 * 1024
_UNLIMITED = 1 << 60
"""Version 1 writes "no limit" as a huge number (``PAGE_COUNTER_MAX`` pages)."""

CRAWL_MIB = 260
"""Memory the crawl process and the workers' fork server take at most, at default settings
(``bench/RESULTS.md``, "Worker memory": the peaks of their PSS, rounded up)."""
WORKER_MIB = 110
"""Memory one extraction worker takes at most (its peak PSS, rounded up)."""


def usable_cores(root: Path = CGROUP_ROOT, proc: Path = PROC_CGROUP) -> int:
    """CPU cores this process may run on: those it is pinned to, fewer if its cgroup's CPU
    quota is smaller (rounded up: a quota of 1.5 cores keeps two workers busy)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    quota = cpu_limit(root, proc)
    return max(1, min(cores, math.ceil(quota))) if quota is not None else cores


def memory_limit(root: Path = CGROUP_ROOT, proc: Path = PROC_CGROUP) -> int | None:
    """The memory limit of this process's cgroup in bytes (``None``: none, or no cgroup)."""
    found = []
    for folder, version in _cgroup_folders(root, proc, "memory"):
        name = "memory.max" if version == 2 else "memory.limit_in_bytes"
        value = read_value(folder / name)
        if value is not None and value.isdigit() and int(value) < _UNLIMITED:
            found.append(int(value))
    return min(found, default=None)


def cpu_limit(root: Path = CGROUP_ROOT, proc: Path = PROC_CGROUP) -> float | None:
    """The CPU quota of this process's cgroup in cores (``None``: none)."""
    found = []
    for folder, version in _cgroup_folders(root, proc, "cpu"):
        if version == 2:
            quota, _, period = (read_value(folder / "cpu.max") or "max").partition(" ")
        else:
            quota = read_value(folder / "cpu.cfs_quota_us") or "-1"
            period = read_value(folder / "cpu.cfs_period_us") or ""
        if quota.isdigit() and period.isdigit() and int(period) > 0:
            found.append(int(quota) / int(period))
    return min(found, default=None)


@dataclass(frozen=True)
class WorkerCount:
    """How many extraction workers to start, and why that many."""

    workers: int
    reason: str


def default_workers(cores: int, memory: int | None) -> WorkerCount:
    """Workers for ``cores`` usable cores under a memory limit of ``memory`` bytes: one per
    core, as many as fit beside the crawl process (:data:`CRAWL_MIB`, :data:`WORKER_MIB`
    each); none, extracting in the crawl process, when not even one fits (the workers' fork
    server and the copies of the extraction library are then saved)."""
    if memory is None:
        return WorkerCount(cores, f"{cores} usable cores")
    fit = (memory // MIB - CRAWL_MIB) // WORKER_MIB
    if fit >= cores:
        return WorkerCount(cores, f"{cores} usable cores ({memory // MIB} MiB memory limit)")
    workers = max(0, fit)
    return WorkerCount(
        workers,
        f"{workers} of {cores} usable cores: a memory limit of {memory // MIB} MiB "
        f"(about {CRAWL_MIB} MiB for the crawl, {WORKER_MIB} MiB per worker)",
    )


def _cgroup_folders(root: Path, proc: Path, controller: str) -> list[tuple[Path, int]]:
    """The folders of this process's cgroup for ``controller`` and of each parent, with the
    layout's version, its own first."""
    lines = (read_value(proc) or "").splitlines()
    folders: list[tuple[Path, int]] = []
    for line in lines:
        if line.count(":") < 2:
            continue
        _, controllers, path = line.split(":", 2)
        if controllers == "" and path:
            version, mount = 2, root
        elif controller in controllers.split(","):
            version, mount = 1, root / controllers
            if not mount.is_dir():  # mounted under the other name: "cpu,cpuacct" as "cpu"
                mount = root / controller
        else:
            continue
        folder = mount / path.lstrip("/")
        while True:
            folders.append((folder, version))
            if folder == mount or mount not in folder.parents:
                break
            folder = folder.parent
    return folders


def read_value(path: Path) -> str | None:
    """A small file's text (a cgroup or ``/proc`` value), stripped; ``None`` when unreadable."""
    try:
        return path.read_text().strip()
    except OSError:
        return None
