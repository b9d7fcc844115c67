"""Memory floor: what the crawl's process tree holds before a crawl holds anything, by the number
of extraction workers, against the 300 MiB the lean issue asks of a 2,000-page crawl.

    .venv/bin/python -m bench.memory_floor [--pages 2000] [--workers 2,1,0] [--write-results]

For each worker count a child process is started (``--child``) that stands in for the crawl
process without crawling: it imports what a crawl process imports (Scrapy, its reactor, and the
class of every component the project's settings name, Scrapy's own included, as Scrapy loads
them; a crawl imports more, never less) and starts the crawl's own page pool
(:class:`extraction.pool.PagePool`: the fork server, the resource tracker and the workers, as
``EXTRACT_WORKERS`` makes them; 0 extracts in the process itself), then extracts ``--pages``
pages through it, the corpus's pages in turn (a worker is replaced every
``EXTRACT_WORKER_MAX_TASKS`` pages, as in a crawl). Nothing is fetched, no item is made, no row
is buffered or written: what the tree holds is the imports and the extraction alone.

Every 0.1 s the PSS (``/proc/<pid>/smaps_rollup``) of every process of the child's tree is read;
reported per worker count: the peak of the tree's sum, the stand-in's own PSS once its imports
are done (no page yet), and each role's peak. A crawl of the same pages at the same worker count
holds more (the sections "Worker memory" and "A 512 MiB container" of ``bench/RESULTS.md``); the
floor says which worker counts can meet a target at all.

``make bench-memory-floor`` runs the defaults; ``--write-results`` writes the section
``memory-floor`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import scrapy.core.engine  # noqa: F401 - the engine, its scraper and downloader
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object
from scrapy.utils.project import get_project_settings

from bench.harness.corpus import EXIT_NO_CORPUS, ROOT, corpus_dir, corpus_missing, load_pages
from bench.harness.processes import TreeSampler, pss
from bench.harness.report import command_of, machine_line, markdown_table, mib, positive, publish
from bench.worker_memory import roles
from crawler.spiders.news import NewsSpider
from extraction.pool import PagePool
from extraction.worker import Extracted, PageOptions

if TYPE_CHECKING:
    from collections.abc import Sequence

SECTION = "memory-floor"
DEFAULT_PAGES = 2000
DEFAULT_WORKERS = (2, 1, 0)
TARGET_MIB = 300
SAMPLE_SECONDS = 0.1
READY = "imports done"
"""What the child prints once its imports are done (its PSS is read then)."""
STAND_IN = "stand-in for the crawl process"


# --- the child: the crawl process's imports and its page pool, no crawl -------------------------


def crawl_imports() -> list[str]:
    """Import what a crawl process imports before its first request (see the module docstring):
    a crawler of the project's spider is made and its settings applied, as ``scrapy crawl``
    does (the add-ons run, the reactor is installed), then the class of every component named
    is loaded; the class paths loaded, sorted."""
    crawler = Crawler(NewsSpider, get_project_settings(), init_reactor=True)
    crawler._apply_settings()  # what Crawler.crawl does first
    settings = crawler.settings
    names = ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS", "ITEM_PIPELINES")
    paths = {path for name in names for path in settings.getwithbase(name)}
    # the download handlers are named by scheme
    paths |= {path for path in settings.getwithbase("DOWNLOAD_HANDLERS").values() if path}
    paths |= {settings["SCHEDULER"], settings["DUPEFILTER_CLASS"], settings["STATS_CLASS"]}
    for path in sorted(paths):
        load_object(path)
    return sorted(paths)


def extract_pages(workers: int, pages: int, corpus: Path) -> int:
    """``pages`` pages of ``corpus`` in turn through a page pool of ``workers``; the pages that
    gave an article."""
    pool = PagePool(workers)
    pool.start()
    options = PageOptions()
    found = load_pages(corpus)
    articles = 0

    async def run_all() -> None:
        nonlocal articles
        gate = asyncio.Semaphore(pool.max_pending)  # a page is read when a worker can take it

        async def one(index: int) -> None:
            nonlocal articles
            page = found[index % len(found)]
            async with gate:
                result = await pool.run(page.body(), page.url, "text/html", options)
            articles += isinstance(result, Extracted)

        await asyncio.gather(*(one(index) for index in range(pages)))

    try:
        asyncio.run(run_all())
    finally:
        pool.close()
    return articles


def child(workers: int, pages: int, corpus: Path) -> int:
    crawl_imports()
    print(READY, flush=True)
    time.sleep(2 * SAMPLE_SECONDS)  # the parent reads this process's PSS now
    articles = extract_pages(workers, pages, corpus)
    print(f"articles {articles}", flush=True)
    return 0


# --- the parent: one child per worker count, sampled ---------------------------------------------


@dataclass(frozen=True)
class Role:
    name: str
    processes: int
    peak_pss: tuple[int, ...]
    """Each process's peak PSS in bytes, in the order seen."""


@dataclass(frozen=True)
class Floor:
    workers: int
    pages: int
    articles: int
    returncode: int
    wall: float
    imports_pss: int
    """The stand-in's PSS once its imports were done, in bytes."""
    tree_pss: int
    """The peak of the tree's PSS summed over its processes, in bytes."""
    roles: tuple[Role, ...]

    def problems(self) -> list[str]:
        found = []
        if self.returncode != 0:
            found.append(f"{self.workers} workers: the child exited with status {self.returncode}")
        if self.articles == 0:
            found.append(f"{self.workers} workers: no page gave an article")
        return found


def _group(found: list[tuple[str, int]]) -> tuple[Role, ...]:
    """Processes by role (the workers together), in the order seen; a process never read (seen
    as it exited) is left out."""
    order: dict[str, list[int]] = {}
    for name, peak in found:
        if not peak:
            continue  # seen as it exited: never read
        key = "extraction workers" if name.startswith("extraction worker") else name
        order.setdefault(key, []).append(peak)
    return tuple(Role(name, len(peaks), tuple(peaks)) for name, peaks in order.items())


def measure(workers: int, pages: int, corpus: Path) -> Floor:
    """One child's run of ``workers`` workers over ``pages`` pages, sampled."""
    command = [sys.executable, "-m", "bench.memory_floor", "--child"]
    command += ["--workers", str(workers), "--pages", str(pages), "--corpus", str(corpus)]
    started = time.perf_counter()
    # its stderr to a file: a pipe read only at the end would fill, and stop the child
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True
        ) as process,
    ):
        sampler = TreeSampler([process.pid], interval=SAMPLE_SECONDS)
        sampler.start()
        assert process.stdout is not None
        imports_pss, articles = 0, 0
        for line in process.stdout:
            if line.strip() == READY:
                imports_pss = pss(process.pid)
            elif line.startswith("articles "):
                articles = int(line.split()[1])
        process.wait()
        sampler.stop()
        if process.returncode != 0:
            errors.seek(0)
            print(errors.read(), file=sys.stderr)
    seen = list(sampler.processes.values())
    named = roles(seen, {}) if seen else []
    found = [
        (STAND_IN if index == 0 else process_role.role, process_role.peak_pss)
        for index, process_role in enumerate(named)
    ]
    return Floor(
        workers,
        pages,
        articles,
        process.returncode,
        time.perf_counter() - started,
        imports_pss,
        sampler.peak("tree_pss"),
        _group(found),
    )


def _peaks(role: Role | None) -> str:
    if role is None:
        return "-"
    low, high = min(role.peak_pss), max(role.peak_pss)
    spread = mib(high) if low == high else f"{mib(low)}–{mib(high)}"
    return spread if role.processes == 1 else f"{spread} ({role.processes} processes)"


def render(floors: Sequence[Floor], command: str, corpus: str) -> str:
    names = [STAND_IN, "fork server", "resource tracker", "extraction workers"]
    rows = []
    for floor in floors:
        by_name = {role.name: role for role in floor.roles}
        over = floor.tree_pss > TARGET_MIB * 1024 * 1024
        rows.append(
            [
                str(floor.workers),
                f"{floor.articles:,} / {floor.pages:,}",
                f"{floor.wall:.1f}",
                mib(floor.imports_pss),
                *(_peaks(by_name.get(name)) for name in names),
                f"**{mib(floor.tree_pss)}**",
                "above" if over else "under",
            ]
        )
    table = markdown_table(
        [
            "`EXTRACT_WORKERS`",
            "articles / pages extracted",
            "wall s",
            "stand-in after its imports (MiB)",
            "stand-in's peak (MiB)",
            "fork server (MiB)",
            "resource tracker (MiB)",
            "each extraction worker (MiB)",
            "peak PSS, process tree (MiB)",
            f"against {TARGET_MIB} MiB",
        ],
        rows,
    )
    problems = [problem for floor in floors for problem in floor.problems()]
    lines = [
        "## The memory floor: imports and extraction, no crawl",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: the pages of `{corpus}` in turn. A child process imports "
            "what a crawl process imports (Scrapy, the reactor, every component class the "
            "project's settings name) and extracts the pages through the crawl's page pool; "
            "nothing is fetched, no item is made, no row is written (see the module docstring). "
            "Peak PSS of each process, in MiB; the tree's is the peak of the sum."
        ),
        table,
    ]
    if problems:
        lines.append("Problems: " + "; ".join(problems) + ".")
    return "\n\n".join(lines)


def _worker_counts(value: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 0:
        raise argparse.ArgumentTypeError(f"worker counts, 0 or more, comma-separated: {value!r}")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.memory_floor",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--pages", type=positive, default=DEFAULT_PAGES, help="pages to extract")
    parser.add_argument(
        "--workers",
        type=_worker_counts,
        default=DEFAULT_WORKERS,
        help="EXTRACT_WORKERS values, comma-separated (default: 2,1,0)",
    )
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    directory = args.corpus or corpus_dir()
    if args.child:
        return child(args.workers[0], args.pages, directory)
    if corpus_missing(directory, "bench-memory-floor"):
        return EXIT_NO_CORPUS
    floors = [measure(workers, args.pages, directory) for workers in args.workers]
    text = render(floors, command_of("bench.memory_floor", argv), str(directory))
    publish(text, SECTION, write=args.write_results)
    return 0 if not any(floor.problems() for floor in floors) else 1


if __name__ == "__main__":
    sys.exit(main())
