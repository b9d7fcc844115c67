"""``scrapy crawl news`` against the local page server, its process tree sampled, and what its
crawl report and log say.

Every crawl has the loopback settings: ``AUTOTHROTTLE_ENABLED=False DOWNLOAD_DELAY=0
CONCURRENT_REQUESTS=32 CONCURRENT_REQUESTS_PER_DOMAIN=32`` (one host serves everything), a
fresh ``OUTPUT_DIR``, ``LOG_LEVEL=INFO`` into a log file, and ``EXTRACT_WORKERS`` unset
(``default``: one extraction process per usable core) or as given.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow.parquet as pq

from bench.harness.corpus import ROOT
from bench.harness.processes import TreeSampler, children_cpu, kill_trees
from bench.harness.report import progress, workers_label
from crawler.progress import fetch_errors
from dataset.layout import articles_dir, crawls_dir, data_files
from pipelines.stats import ELAPSED_TIME, FETCH_PAGES, ITEM_DROPPED_REASON, PARQUET_ROWS_WRITTEN

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bench.harness.processes import ProcessSeen
    from bench.harness.server import RunningServer

LOOPBACK_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "CONCURRENT_REQUESTS": "32",
    "LOG_LEVEL": "INFO",
}
STALL_SECONDS = 90.0
"""The crawl logs a progress line every ``PROGRESS_INTERVAL`` (30 s); a longer silence than
three of them means the reactor was blocked."""
_LOG_PROBLEM = re.compile(r"\] (ERROR|CRITICAL): ")
_PROGRESS_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) .*\bprogress: .*\bfetched (\d+) \(")
DROPPED = ITEM_DROPPED_REASON.prefix


# --- the command --------------------------------------------------------------------------------


def python_scrapy(profile: Path | None = None) -> list[str]:
    """``python -m scrapy`` (under ``cProfile`` writing ``profile``, when given)."""
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [sys.executable, *profiler, "-m", "scrapy"]


def console_scrapy() -> list[str]:
    """The ``scrapy`` console script of this environment, as users run it."""
    return [str(Path(sys.prefix) / "bin" / "scrapy")]


def crawl_command(
    sitemap_url: str,
    output_dir: Path,
    log_file: Path,
    workers: int | None,
    *,
    scrapy: Sequence[str] | None = None,
    pipelines: bool = True,
    settings: Mapping[str, str] | None = None,
) -> list[str]:
    """The ``scrapy crawl news`` command (``scrapy``: :func:`python_scrapy` by default) of the
    sitemap index; without ``pipelines``, the pages are fetched and handed to no item pipeline
    (what Scrapy itself costs)."""
    values = {"OUTPUT_DIR": str(output_dir), **LOOPBACK_SETTINGS}
    if workers is not None:
        values["EXTRACT_WORKERS"] = str(workers)
    if not pipelines:
        values["ITEM_PIPELINES"] = "{}"
    values.update(settings or {})
    command = [*(scrapy or python_scrapy()), "crawl", "news", "-a", f"sitemaps={sitemap_url}"]
    for name, value in values.items():
        command += ["-s", f"{name}={value}"]
    return [*command, "--logfile", str(log_file)]


# --- running it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """Commands started together and waited for."""

    started_at: float
    """Epoch seconds when the first one was started."""
    wall: float
    returncodes: tuple[int | None, ...]
    cpu_seconds: float
    """Of their process trees: the larger of ``RUSAGE_CHILDREN`` (which misses the processes
    they did not wait for) and the sampler's last reading of every process (which misses the
    last ``interval`` of each)."""
    sampler: TreeSampler


def run_processes(
    commands: Sequence[Sequence[str]],
    outputs: Sequence[Path],
    *,
    timeout: float,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    sampler: TreeSampler | None = None,
) -> Finished:
    """Start the commands together (output and errors into ``outputs``), sample their process
    trees (with ``sampler``, by default RSS, PSS and CPU every 0.2 s) until all have exited;
    those still running after ``timeout`` seconds are killed with their descendants."""
    sampler = sampler or TreeSampler([])
    cpu_before = children_cpu()
    processes: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as files:
        started_at, started = time.time(), time.perf_counter()
        try:
            for command, output in zip(commands, outputs, strict=True):
                log = files.enter_context(output.open("wb"))
                processes.append(
                    subprocess.Popen(
                        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
            sampler.roots = [process.pid for process in processes]
            sampler.start()
            deadline = started + timeout
            try:
                for process in processes:
                    process.wait(max(deadline - time.perf_counter(), 0.1))
            except subprocess.TimeoutExpired:
                progress(f"  no end after {timeout:.0f} s: killed")
            wall = time.perf_counter() - started
        finally:
            sampler.stop()
            running = [process.pid for process in processes if process.poll() is None]
            if running:  # a timeout, or an error in this process
                kill_trees(running)
            for process in processes:
                process.wait()
    cpu = max(children_cpu() - cpu_before, sampler.cpu_seconds)
    return Finished(
        started_at=started_at,
        wall=wall,
        returncodes=tuple(process.returncode for process in processes),
        cpu_seconds=cpu,
        sampler=sampler,
    )


# --- what a crawl says --------------------------------------------------------------------------


def crawl_reports(output_dir: Path) -> tuple[dict[str, Any], ...]:
    """The crawl reports of an ``OUTPUT_DIR`` (its default ``STATE_DIR``), oldest first."""
    return tuple(
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(crawls_dir(output_dir).glob("*.json"))
    )


def stored_urls(output_dir: Path) -> Counter[str]:
    """The URLs of the rows committed to an ``OUTPUT_DIR``'s dataset, with their counts."""
    urls: Counter[str] = Counter()
    for path in data_files(articles_dir(output_dir)):
        urls.update(pq.read_table(path, columns=["url"]).column("url").to_pylist())
    return urls


def drops(stats: Mapping[str, Any]) -> dict[str, int]:
    """Items dropped, by reason."""
    return {
        key.removeprefix(DROPPED): int(value)
        for key, value in sorted(stats.items())
        if key.startswith(DROPPED)
    }


def log_summary(log_file: Path) -> tuple[tuple[str, ...], tuple[tuple[datetime, int], ...]]:
    """The log's ERROR/CRITICAL lines (first 5), and its progress lines (time, article pages
    fetched)."""
    problems: list[str] = []
    found: list[tuple[datetime, int]] = []
    with contextlib.suppress(OSError), log_file.open(encoding="utf-8", errors="replace") as log:
        for line in log:
            if _LOG_PROBLEM.search(line) and len(problems) < 5:
                problems.append(line.strip()[:300])
            stats = _PROGRESS_LINE.search(line)
            if stats is not None:
                when = datetime.strptime(stats.group(1), "%Y-%m-%d %H:%M:%S")
                found.append((when, int(stats.group(2))))
    return tuple(problems), tuple(found)


@dataclass(frozen=True)
class CrawlRun:
    """What one crawl did, and what it cost."""

    size: int
    workers: int | None
    wall: float
    pipelines: bool
    returncode: int | None
    report: dict[str, Any]
    cpu_seconds: float
    server_cpu_seconds: float
    peak_main_rss: int
    peak_tree_rss: int
    peak_tree_pss: int
    max_processes: int
    main_rss_quarters: tuple[int, int, int, int]
    log_problems: tuple[str, ...]
    progress: tuple[tuple[datetime, int], ...]
    """Time and article pages fetched of every progress line the crawl logged (every
    ``PROGRESS_INTERVAL``, crawler/progress.py)."""
    log_file: Path
    processes: tuple[ProcessSeen, ...] = ()
    """Every process of the crawl's tree, with its peaks."""

    @property
    def stats(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.report.get("stats") or {})

    @property
    def article_responses(self) -> int:
        return int(self.stats.get(FETCH_PAGES.name, 0))

    @property
    def rows(self) -> int:
        return int(self.stats.get(PARQUET_ROWS_WRITTEN.name, 0))

    @property
    def elapsed(self) -> float | None:
        value = self.stats.get(ELAPSED_TIME.name)
        return float(value) if value is not None else None

    @property
    def pages_per_second(self) -> float:
        return self.article_responses / self.wall if self.wall else 0.0

    @property
    def drops(self) -> dict[str, int]:
        return drops(self.stats)

    @property
    def fetch_errors(self) -> int:
        return fetch_errors(self.stats)

    @property
    def finished(self) -> bool:
        return self.returncode == 0 and self.report.get("finish_reason") == "finished"

    @property
    def rates(self) -> list[float]:
        """Pages per minute between consecutive progress lines."""
        return [
            (pages - before) * 60 / (when - then).total_seconds()
            for (then, before), (when, pages) in itertools.pairwise(self.progress)
            if when > then
        ]

    @property
    def longest_silence(self) -> tuple[float, datetime | None]:
        """The longest time between two progress lines, and when it began."""
        gaps = [
            ((when - then).total_seconds(), then)
            for (then, _), (when, _) in itertools.pairwise(self.progress)
        ]
        return max(gaps, default=(0.0, None), key=lambda gap: gap[0])


def run_crawl(
    server: RunningServer,
    size: int,
    workers: int | None,
    work_dir: Path,
    *,
    timeout: float,
    profile: Path | None = None,
    pipelines: bool = True,
    scrapy: Sequence[str] | None = None,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    label: str = "",
    sampler: TreeSampler | None = None,
    settings: Mapping[str, str] | None = None,
) -> CrawlRun:
    """One ``scrapy crawl news`` of the first ``size`` pages into a fresh ``OUTPUT_DIR`` under
    ``work_dir`` (run from ``cwd``: its code is imported; without ``pipelines``: fetched only,
    see :func:`crawl_command`; ``settings`` on top of the loopback ones), its process tree
    sampled."""
    label = label or (
        f"crawl-{size}-w{workers_label(workers)}"
        + ("-profile" if profile else "")
        + ("" if pipelines else "-fetch-only")
    )
    output_dir = work_dir / label
    output_dir.mkdir(parents=True)
    log_file = work_dir / f"{label}.log"
    command = crawl_command(
        server.sitemap_url(size),
        output_dir,
        log_file,
        workers,
        scrapy=scrapy or (python_scrapy(profile) if profile else None),
        pipelines=pipelines,
        settings=settings,
    )
    server_before = server.cpu_seconds()
    done = run_processes(
        [command], [work_dir / f"{label}.out"], timeout=timeout, cwd=cwd, env=env, sampler=sampler
    )
    problems, progress_lines = log_summary(log_file)
    seen = done.sampler
    for process in seen.processes.values():
        progress(f"  process {process.pid}: {process.command}")
    reports = crawl_reports(output_dir)
    return CrawlRun(
        size=size,
        workers=workers,
        wall=done.wall,
        pipelines=pipelines,
        returncode=done.returncodes[0],
        report=reports[-1] if reports else {},
        cpu_seconds=done.cpu_seconds,
        server_cpu_seconds=server.cpu_seconds() - server_before,
        peak_main_rss=seen.peak("main_rss"),
        peak_tree_rss=seen.peak("tree_rss"),
        peak_tree_pss=seen.peak("tree_pss"),
        max_processes=seen.max_processes,
        main_rss_quarters=(
            seen.main_rss_at(0.25),
            seen.main_rss_at(0.5),
            seen.main_rss_at(0.75),
            seen.main_rss_at(1.0),
        ),
        log_problems=problems,
        progress=progress_lines,
        log_file=log_file,
        processes=tuple(seen.processes.values()),
    )
