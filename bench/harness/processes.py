"""Process trees read from ``/proc``: memory (RSS, and PSS from ``smaps_rollup``), CPU time and
command lines, and a sampler that reads them every so often in a thread of its own.

RSS counts the pages that forked processes share once per process; PSS shares each page out
among the processes that map it, so PSS adds up over a tree and RSS does not.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

SAMPLE_SECONDS = 0.2
PROC = Path("/proc")


# --- single readings ------------------------------------------------------------------------------


def kb_field(pid: int, file: str, name: str) -> int:
    """A ``kB`` field (``VmRSS:``, ``Pss:`` ...) of ``/proc/<pid>/<file>`` in bytes (0 when the
    process is gone, or has no such field)."""
    try:
        text = (PROC / str(pid) / file).read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith(name):
            return int(line.split()[1]) * 1024
    return 0


def rss(pid: int) -> int:
    return kb_field(pid, "status", "VmRSS:")


def pss(pid: int) -> int:
    return kb_field(pid, "smaps_rollup", "Pss:")


ANONYMOUS = "other anonymous memory (Python's objects, large buffers, ...)"
MAIN_HEAP = "C heap of the main thread ([heap])"
THREAD_HEAPS = "C heaps of other threads"
PYTHON = "Python (interpreter and standard library)"
SYSTEM = "system libraries"
OTHER_FILES = "other files"
_THREAD_HEAP_ALIGN = 64 << 20
"""glibc maps each thread arena's heap at a multiple of its maximum size, 64 MiB."""


def memory_cause(path: str, start: int = 0, size: int = 0) -> str:
    """What a mapping of ``/proc/<pid>/smaps`` (its path, or ``""``; its start address and
    size) holds: a C heap (glibc's main one, a thread's), other anonymous memory (Python's
    object arenas among it: the kernel merges neighbouring mappings, so they cannot be told
    apart by their size), the interpreter, a site-packages distribution's code (``numpy``,
    ``pyarrow`` ...; a wheel's bundled ``<name>.libs`` counted with it), system libraries, or
    other files."""
    if path == "[heap]":
        return MAIN_HEAP
    if not path:
        if start and start % _THREAD_HEAP_ALIGN == 0 and size <= _THREAD_HEAP_ALIGN:
            return THREAD_HEAPS
        return ANONYMOUS
    if path.startswith("[") and path != "[vdso]":
        return ANONYMOUS  # [stack], [anon:...]
    if "/site-packages/" in path:
        package = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        package = package.removesuffix(".libs").split(".", 1)[0]
        return f"library: {package.lstrip('_') or package}"
    if "/python3" in path or "libpython" in path:
        return PYTHON
    if path.endswith(".so") or ".so." in path or path == "[vdso]":
        return SYSTEM
    return OTHER_FILES


def memory_by_cause(pid: int) -> dict[str, int]:
    """The PSS of a process by :func:`memory_cause`, in bytes (empty when it is gone)."""
    try:
        text = (PROC / str(pid) / "smaps").read_text()
    except OSError:
        return {}
    found: dict[str, int] = {}
    cause = ANONYMOUS
    for line in text.splitlines():
        first = line.split(maxsplit=1)[0] if line else ""
        if "-" in first and not first.endswith(":"):  # a mapping's header line
            fields = line.split(maxsplit=5)
            low, _, high = first.partition("-")
            start, end = int(low, 16), int(high, 16)
            cause = memory_cause(fields[5] if len(fields) > 5 else "", start, end - start)
        elif first == "Pss:":
            found[cause] = found.get(cause, 0) + int(line.split()[1]) * 1024
    return found


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first)."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a running process (all its threads)."""
    fields = _stat_fields(pid)
    if len(fields) < 13:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def caught_signals(pid: int) -> int:
    """The mask of the signals a process has handlers for (bit ``n - 1`` for signal ``n``)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def command_line(pid: int, limit: int = 120) -> str:
    """The process's command line (its ``[comm]`` when it has none), at most ``limit``
    characters; ``?`` when it is gone."""
    try:
        arguments = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
        line = " ".join(a.decode(errors="replace") for a in arguments if a)
        return line[:limit] or f"[{(PROC / str(pid) / 'comm').read_text().strip()}]"
    except OSError:
        return "?"


def parents() -> dict[int, int]:
    """The parent of every process alive, from one reading of ``/proc``."""
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if len(fields) > 1:
                found[int(entry.name)] = int(fields[1])
    return found


def process_trees(roots: Iterable[int], table: dict[int, int] | None = None) -> list[int]:
    """The ``roots`` and all their descendants that are alive (``table``: :func:`parents`)."""
    table = parents() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, parent in table.items():
        children.setdefault(parent, []).append(pid)
    tree, todo = [], [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def busy_processes(exclude: Iterable[int] = (), threshold: float = 0.05) -> dict[int, float]:
    """CPU seconds of every process alive but ``exclude`` that has used ``threshold`` or more
    (to tell what else ran during a benchmark)."""
    skip = set(exclude)
    found = {}
    for pid in parents():
        if pid not in skip and (seconds := process_cpu_seconds(pid)) >= threshold:
            found[pid] = seconds
    return found


def kill_trees(roots: Iterable[int]) -> None:
    """SIGKILL the ``roots`` and their descendants, children first."""
    for pid in reversed(process_trees(roots)):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def children_cpu() -> float:
    """CPU seconds of the children this process has waited for (and their waited-for ones)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def system_cpu() -> float:
    """CPU seconds the machine has been busy (all cores), from ``/proc/stat``."""
    fields = (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# --- sampling -------------------------------------------------------------------------------------


class PeriodicSampler:
    """Calls :meth:`sample` every ``interval`` seconds in a thread of its own, from
    :meth:`start` until :meth:`stop` (which takes one last sample)."""

    interval: float
    _stop: threading.Event
    _thread: threading.Thread | None
    thread_name = "sampler"

    def sample(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(self.interval):
                return


@dataclass(frozen=True)
class TreeSample:
    """One reading of a tree: the first root's RSS, and the sums over the tree."""

    seconds: float
    main_rss: int
    tree_rss: int
    tree_pss: int
    processes: int


@dataclass
class ProcessSeen:
    """A process of a sampled tree: its highest readings."""

    pid: int
    parent: int
    command: str
    """Its command line (a forked child that runs no other program keeps its parent's)."""
    first_seen: float
    rss: int = 0
    pss: int = 0
    cpu_seconds: float = 0.0
    """The last reading: a process's CPU time only grows."""


@dataclass
class TreeSampler(PeriodicSampler):
    """Reads the processes of the trees of ``roots`` every ``interval`` seconds: the CPU time
    of each, and with ``memory`` their RSS and PSS (a sample is taken only while the first
    root is alive)."""

    roots: list[int]
    interval: float = SAMPLE_SECONDS
    memory: bool = True
    samples: list[TreeSample] = field(default_factory=list)
    processes: dict[int, ProcessSeen] = field(default_factory=dict)
    """Every process seen, in the order first seen."""
    max_processes: int = 0
    _started: float = field(default_factory=time.perf_counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    thread_name = "tree-sampler"

    def start(self) -> None:
        self._started = time.perf_counter()
        super().start()

    def sample(self) -> None:
        now = time.perf_counter() - self._started
        table = parents()
        tree = process_trees(self.roots, table)
        main = rss(self.roots[0]) if self.memory and self.roots else 0
        if self.memory and not main:
            return  # gone
        self.max_processes = max(self.max_processes, len(tree))
        tree_rss = tree_pss = 0
        for pid in tree:
            command, seen = command_line(pid), self.processes.get(pid)
            if seen is None:
                seen = ProcessSeen(pid, table[pid], command, first_seen=now)
                self.processes[pid] = seen
            elif command != seen.command and not command.startswith(("[", "?")):
                # first seen between its fork and its exec, as a copy of its parent (an exiting
                # process has no command line: not that)
                seen.command, seen.rss, seen.pss = command, 0, 0
            seen.cpu_seconds = max(seen.cpu_seconds, process_cpu_seconds(pid))
            if self.memory:
                size, proportional = rss(pid), pss(pid)
                seen.rss, seen.pss = max(seen.rss, size), max(seen.pss, proportional)
                tree_rss += size
                tree_pss += proportional
        if self.memory:
            self.samples.append(TreeSample(now, main, tree_rss, tree_pss, len(tree)))

    @property
    def cpu_seconds(self) -> float:
        """The last CPU reading of every process seen, summed (misses each one's last
        ``interval``)."""
        return sum(seen.cpu_seconds for seen in self.processes.values())

    def peak(self, attribute: str) -> int:
        """The highest value of a :class:`TreeSample` attribute."""
        return max((getattr(sample, attribute) for sample in self.samples), default=0)

    def main_rss_at(self, share: float) -> int:
        """The first root's RSS at ``share`` of the samples (0.5: half-way)."""
        if not self.samples:
            return 0
        return self.samples[min(len(self.samples) - 1, int(share * len(self.samples)))].main_rss
