"""The worker memory benchmark's parts without a crawl: the module probe and the sampler on a
stand-in process tree (a "crawl" that starts a "fork server" that forks two "workers"), the roles,
and the report on made-up results."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bench.harness.corpus import ROOT
from bench.harness.processes import ProcessSeen, kill_trees
from bench.worker_memory import (
    CAUSE_ROWS,
    Checkout,
    Measured,
    Options,
    ProbingSampler,
    Process,
    _checkout,
    describe,
    fork_servers,
    main,
    probe_env,
    read_modules,
    render,
    roles,
)
from tests.test_bench_harness_crawls import crawl_run

if TYPE_CHECKING:
    from collections.abc import Iterator

# The stand-in fork server carries the real one's command line, and forks two workers that
# import a module it has not imported.
SERVER = (
    "# from multiprocessing.forkserver import main\n"
    "import os, sys, time\n"
    "for _ in range(2):\n"
    "    if os.fork() == 0:\n"
    "        import decimal\n"
    "        time.sleep(30)\n"
    "        os._exit(0)\n"
    "print('ready', flush=True)\n"
    "time.sleep(30)\n"
)
CRAWL = (
    "import subprocess, sys, time\n"
    f"server = subprocess.Popen([sys.executable, '-c', {SERVER!r}], stdout=sys.stdout)\n"
    "time.sleep(30)\n"
)


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    modules = tmp_path / "modules"
    crawl = subprocess.Popen(
        [sys.executable, "-c", CRAWL],
        env=probe_env(modules),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert crawl.stdout is not None
    assert crawl.stdout.readline() == "ready\n"
    try:
        yield crawl, modules
    finally:
        kill_trees([crawl.pid])
        crawl.wait()
        crawl.stdout.close()


def test_the_probe_tells_what_the_fork_server_and_the_workers_loaded(
    stand_in: tuple[subprocess.Popen[str], Path],
) -> None:
    crawl, modules = stand_in
    sampler = ProbingSampler([crawl.pid], interval=0.1, probe_every=0.3)
    sampler.start()
    deadline = time.monotonic() + 10
    while len(read_modules(modules)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    sampler.stop()
    found = roles(list(sampler.processes.values()), read_modules(modules))
    by_role = {process.role: process for process in found}
    assert set(by_role) == {
        "crawl process",
        "fork server",
        "extraction worker 1",
        "extraction worker 2",
    }
    assert by_role["crawl process"].modules == {}  # not asked: only the server and workers are
    server, worker = by_role["fork server"], by_role["extraction worker 1"]
    assert "sitecustomize" in server.modules
    assert "decimal" not in server.modules
    assert "decimal" in worker.modules
    assert worker.modules["decimal"].endswith("decimal.py")
    assert all(p.peak_pss > 0 and p.peak_rss >= p.peak_pss for p in found)


def seen(pid: int, parent: int, command: str) -> ProcessSeen:
    return ProcessSeen(pid, parent, command, first_seen=0.0, rss=200 * 2**20, pss=100 * 2**20)


FORK_SERVER = "python -c from multiprocessing.forkserver import main; main(3, 4)"
TREE = [
    seen(10, 1, "python scrapy crawl news"),
    seen(11, 10, "python -c from multiprocessing.resource_tracker import main;main(5)"),
    seen(12, 10, FORK_SERVER),
    seen(13, 12, FORK_SERVER),
    seen(14, 12, FORK_SERVER),
    seen(15, 10, "sh -c something"),
]


def test_roles_by_command_line_and_parent() -> None:
    assert fork_servers(TREE) == {12}
    found = roles(TREE, {13: {"scrapy": "/x/site-packages/scrapy/__init__.py"}})
    assert [process.role for process in found] == [
        "crawl process",
        "resource tracker",
        "fork server",
        "extraction worker 1",
        "extraction worker 2",
        "other: `sh -c something`",
    ]
    assert found[3].modules == {"scrapy": "/x/site-packages/scrapy/__init__.py"}
    assert found[4].modules == {}


def measured(name: str, path: Path, worker_modules: dict[str, str], pss: int) -> Measured:
    run = crawl_run(size=10, peak_tree_pss=pss * 2**20, peak_tree_rss=2 * pss * 2**20)
    causes = {"C heap of the main thread ([heap])": 80 * 2**20, "library: lxml": 2**20}
    causes |= {f"library: small{n}": 2**20 for n in range(CAUSE_ROWS)}
    processes = [
        Process("crawl process", 10, 100 * 2**20, 150 * 2**20, {}, causes),
        Process("extraction worker 1", 13, pss * 2**20, 2 * pss * 2**20, worker_modules),
    ]
    return Measured(Checkout(name, path, "abc1234"), run, processes)


def test_report(tmp_path: Path) -> None:
    installed = sysconfig.get_paths()["purelib"]
    baseline_modules = {
        "scrapy": f"{installed}/scrapy/__init__.py",
        "lxml": f"{installed}/lxml/__init__.py",
        "pipelines": f"{tmp_path}/before/pipelines/__init__.py",
        "os": str(Path(os.__file__)),
    }
    current_modules = {
        "lxml": f"{installed}/lxml/__init__.py",
        "extraction": f"{ROOT}/extraction/__init__.py",
        "os": str(Path(os.__file__)),
    }
    results = [
        measured("baseline", tmp_path / "before", baseline_modules, 120),
        measured("this checkout", ROOT, current_modules, 100),
    ]
    text = render(results, Options(pages=10), "python -m bench.worker_memory", "corpus")
    assert text.startswith("## Worker memory")
    assert "| baseline (abc1234) | " in text
    assert "| extraction worker 1 | 120 | 240 | 100 | 200 |" in text
    assert "| **process tree** (peak of the sum) | **120** | 240 | **100** | 200 |" in text
    assert "Peaks in MiB, the baseline → this checkout: process tree: PSS 120 → 100 (-17%)" in text
    assert "extraction worker 1: PSS 120 → 100 (-17%), RSS 240 → 200 (-17%)" in text
    assert "| baseline (abc1234) | extraction worker 1 | 4 | 2 | pipelines | scrapy |" in text
    assert "| this checkout (abc1234) | extraction worker 1 | 3 | 1 | extraction | none |" in text
    assert "in the workers of the baseline, not in those of this checkout: scrapy." in text
    assert "In the workers of this checkout, not in those of the baseline: none." in text
    # where the memory goes, by cause, for the processes whose pages were read
    assert "| cause | crawl process |\n" in text
    assert "| C heap of the main thread ([heap]) | 80 |" in text
    assert "| everything else | 2 |" in text  # the causes past CAUSE_ROWS, summed
    assert f"| **total** (PSS at the process's peak) | **{80 + 1 + CAUSE_ROWS}** |" in text
    assert results[0].code_problems() == []
    moved = measured("baseline", tmp_path / "elsewhere", baseline_modules, 120)
    assert moved.code_problems() == [f"pipelines from {tmp_path}/before/pipelines/__init__.py"]


def test_describe_and_the_baseline_argument(tmp_path: Path) -> None:
    checkout = describe(ROOT, "this checkout")
    assert checkout.the == "this checkout"
    assert len(checkout.commit.split()[0]) >= 7
    assert describe(tmp_path, "baseline").the == "the baseline"
    assert _checkout(str(ROOT)) == ROOT
    with pytest.raises(argparse.ArgumentTypeError):
        _checkout(str(tmp_path))


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--pages", "10"]) == 2
    assert "No corpus found" in capsys.readouterr().err
