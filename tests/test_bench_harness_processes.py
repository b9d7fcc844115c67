"""``/proc`` readings of process trees, and the sampler, on real short-lived processes and on
made-up readings."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from bench.harness import processes
from bench.harness.processes import (
    TreeSampler,
    busy_processes,
    caught_signals,
    command_line,
    kb_field,
    kill_trees,
    memory_by_cause,
    memory_cause,
    parents,
    process_cpu_seconds,
    process_trees,
    pss,
    rss,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

# A parent that starts a child, tells when both are up, and waits.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def tree() -> Iterator[tuple[int, int]]:
    """A running parent and its child: their pids."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        yield parent.pid, child
    finally:
        kill_trees([parent.pid])
        parent.wait()
        parent.stdout.close()


def test_readings_of_this_process() -> None:
    pid = os.getpid()
    assert 0 < pss(pid) <= rss(pid)
    assert kb_field(pid, "status", "VmHWM:") >= rss(pid) > 0
    assert kb_field(pid, "status", "NoSuchField:") == 0
    assert process_cpu_seconds(pid) > 0
    assert command_line(pid, 1000).startswith(sys.executable)  # pytest's, or xdist's worker
    assert len(command_line(pid, 10)) == 10
    assert parents()[pid] == os.getppid()
    assert pid in busy_processes(threshold=0.0)
    assert pid not in busy_processes([pid], threshold=0.0)


def test_readings_of_a_process_that_is_gone() -> None:
    gone = 2**22 + 1  # above the kernel's highest pid
    assert rss(gone) == pss(gone) == 0
    assert process_cpu_seconds(gone) == 0.0
    assert command_line(gone) == "?"
    assert process_trees([gone]) == []


def test_caught_signals_show_a_handler() -> None:
    bit = 1 << (signal.SIGUSR1 - 1)
    previous = signal.signal(signal.SIGUSR1, lambda *_: None)
    try:
        assert caught_signals(os.getpid()) & bit
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert not caught_signals(os.getpid()) & bit


def test_a_tree_is_found_sampled_and_killed(tree: tuple[int, int]) -> None:
    parent, child = tree
    assert set(process_trees([parent])) == {parent, child}
    sampler = TreeSampler([parent], interval=0.05)
    sampler.start()
    time.sleep(0.3)
    sampler.stop()
    assert set(sampler.processes) == {parent, child}
    assert sampler.processes[child].parent == parent
    assert "time.sleep(60)" in sampler.processes[child].command
    assert sampler.max_processes == sampler.peak("processes") == 2
    assert sampler.samples
    assert 0 < sampler.peak("main_rss") < sampler.peak("tree_rss")
    assert 0 < sampler.peak("tree_pss") <= sampler.peak("tree_rss")
    assert sampler.main_rss_at(0.5) > 0
    assert all(seen.pss > 0 for seen in sampler.processes.values())
    kill_trees([parent])
    deadline = time.monotonic() + 10
    while child in parents() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child not in parents()


def test_cpu_only_sampling_of_several_roots(tree: tuple[int, int]) -> None:
    parent, child = tree
    sampler = TreeSampler([child, parent], memory=False)
    sampler.sample()
    assert sampler.samples == []
    assert set(sampler.processes) == {parent, child}
    assert sampler.processes[parent].rss == 0
    assert sampler.cpu_seconds >= 0


def test_peaks_start_again_after_an_exec_but_not_at_the_exit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process first seen between its fork and its exec is a copy of its parent; an exiting
    one has no command line and no memory left."""
    readings = iter(
        [
            ("python crawl", 500, 100),  # forked, not yet the program it runs
            ("python -c server", 50, 40),
            ("python -c server", 60, 45),
            ("[python]", 0, 0),  # exiting
        ]
    )
    current: dict[str, tuple[str, int, int]] = {}
    monkeypatch.setattr(processes, "parents", lambda: {1: 0, 2: 1})
    monkeypatch.setattr(processes, "process_cpu_seconds", lambda pid: 1.0)
    monkeypatch.setattr(processes, "command_line", lambda pid: current[str(pid)][0])
    monkeypatch.setattr(processes, "rss", lambda pid: current[str(pid)][1])
    monkeypatch.setattr(processes, "pss", lambda pid: current[str(pid)][2])
    sampler = TreeSampler([1])
    for reading in readings:
        current.update({"1": ("python crawl", 300, 200), "2": reading})
        sampler.sample()
    server = sampler.processes[2]
    assert (server.command, server.rss, server.pss) == ("python -c server", 60, 45)
    assert sampler.cpu_seconds == 2.0
    assert sampler.peak("tree_rss") == 800


def test_memory_by_cause_of_this_process() -> None:
    found = memory_by_cause(os.getpid())
    assert found[processes.ANONYMOUS] + found.get(processes.MAIN_HEAP, 0) > 0
    assert found[processes.PYTHON] > 0
    # every mapping counted once: the causes add up to the process's PSS (read a moment apart)
    assert abs(sum(found.values()) - pss(os.getpid())) < 0.1 * pss(os.getpid())
    assert memory_by_cause(2**22 + 12345) == {}  # no such process


@pytest.mark.parametrize(
    ("path", "cause"),
    [
        ("", processes.ANONYMOUS),
        ("[heap]", processes.MAIN_HEAP),
        ("[stack]", processes.ANONYMOUS),
        ("/v/lib/python3.11/site-packages/pyarrow/libarrow.so.2600", "library: pyarrow"),
        ("/v/lib/python3.11/site-packages/numpy.libs/libopenblas.so", "library: numpy"),
        ("/v/lib/python3.11/site-packages/_cffi_backend.cpython-311.so", "library: cffi_backend"),
        ("/usr/lib/python3.11/lib-dynload/_json.cpython-311.so", processes.PYTHON),
        ("/usr/lib/x86_64-linux-gnu/libc.so.6", processes.SYSTEM),
        ("/tmp/out/part-0.parquet", processes.OTHER_FILES),
    ],
)
def test_memory_cause(path: str, cause: str) -> None:
    assert memory_cause(path) == cause


def test_a_threads_c_heap_is_told_by_its_alignment() -> None:
    assert memory_cause("", 0x7F5A_6C00_0000, 0x2D_E000) == processes.THREAD_HEAPS
    assert memory_cause("", 0x7F5A_6C01_0000, 0x2D_E000) == processes.ANONYMOUS
