"""Redis mode scaling benchmark: one crawl split over 1, 2 and 4 ``scrapy crawl news`` worker
processes that share a Redis server, against one embedded-mode crawl, over loopback.

    .venv/bin/python -m bench.workers [--pages 2000] [--workers 1,2,4]
        [--extract-workers default,1] [--no-embedded] [--workdir DIR] [--write-results]

The pages are the throughput page set (``bench/harness/pages.py``: page ``i`` is a variant of
the corpus page ``i mod P``, ``$NEWS_CORPUS_DIR``, else ``../shared/corpus``, its text redrawn so
that no page is a copy of another), served by the local page server (``bench/harness/server.py``)
extended to count the requests it answers for every path. Here the ``--pages`` pages are listed
by ``SITEMAPS`` sitemaps behind one sitemap index, so that the listings, too, are shared out
among the workers.

Measurements, one after the other, each into a fresh ``OUTPUT_DIR`` (and, in Redis mode, with a
fresh ``redis-server``, no persistence, on 127.0.0.1):

* embedded mode (no ``REDIS_URL``): one ``scrapy crawl news -a sitemaps=<index>``, the baseline;
* Redis mode, for every ``--extract-workers`` value and every ``--workers`` count ``N``: ``N``
  identical commands started together with ``-s REDIS_URL=... -s REDIS_KEY_PREFIX=bench`` and
  one ``OUTPUT_DIR``.

Every command has the loopback settings of ``bench/harness/crawls.py``
(``AUTOTHROTTLE_ENABLED=False DOWNLOAD_DELAY=0 CONCURRENT_REQUESTS=32
CONCURRENT_REQUESTS_PER_DOMAIN=32``: one host serves everything), and ``EXTRACT_WORKERS`` unset
(``default``: one extraction process per usable core, in every worker) or as given.

Pages per second: article responses (``news/fetch/pages``, summed over the workers' crawl reports
in ``OUTPUT_DIR/state/crawls/``) over the wall time from the first worker's start to the last
worker's exit, start-up included; it is split into start-up (to the server's first answer),
fetching (the server's first to last answer) and the tail (from the last answer to the last
exit: extraction, the last commits, and the wait until the shared work is done). Ratios are
against the Redis run with one worker (with the same ``EXTRACT_WORKERS``) and against the
embedded run. CPU per article response: the workers and their descendants (the
larger of ``RUSAGE_CHILDREN`` and the sum of the last ``/proc`` reading of every process seen in
their trees every 0.5 s), ``redis-server`` (``INFO cpu``) and the page server (``/proc``); and
what the rest of the machine used meanwhile (``/proc/stat`` less all those and this process), so
that a measurement disturbed by other programs shows it.

Checks, per measurement: every process exited 0 with ``finish_reason`` ``finished``; the
server answered every article path exactly once, and every sitemap once; the dataset holds one
row per distinct URL, and the same URLs as the first measurement (the embedded one); no fetch
error; nothing left in Redis (no queued, in-flight or parsed request, no claim, no registered
worker). Reported beside them, not failed: a process that finished (its crawl report's
``finished_at``) before the server's last answer, i.e. while another one was still fetching.
Redis at the end of the run: ``used_memory`` (and over an empty server's) per stored
article, commands processed per article response, and memory by key family (``MEMORY USAGE``).

``make bench-workers`` runs the defaults (2,000 pages; embedded, and 1, 2 and 4 workers with
``EXTRACT_WORKERS`` default and 1: seven crawls, about 7 minutes on 2 cores). ``--write-results``
writes the section ``workers`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness.corpus import CORPUS_ENV, EXIT_NO_CORPUS, corpus_dir, corpus_missing
from bench.harness.crawls import (
    crawl_command,
    crawl_reports,
    drops,
    run_processes,
    stored_urls,
)
from bench.harness.pages import PageSet, load_templates
from bench.harness.processes import (
    TreeSampler,
    busy_processes,
    command_line,
    own_cpu,
    process_trees,
    system_cpu,
)
from bench.harness.report import (
    RESULTS_FILE,
    command_of,
    counts,
    durations_line,
    extract_workers_list,
    machine_line,
    markdown_table,
    positive,
    positive_list,
    progress,
    publish,
    quiet_noisy_loggers,
    work_dir,
    workers_label,
)
from bench.harness.server import (
    PAGE_PATH,
    SITEMAP_PATH,
    CountingPageServer,
    Requests,
    read_requests,
    serving,
)
from bench.redis_usage import (
    KEY_PREFIX,
    REDIS_SERVER_ENV,
    Measured,
    RedisUsage,
    commands_line,
    families_table,
    info_cpu,
    redis_server,
    redis_server_binary,
    redis_usage,
    redis_version,
    usage_table,
)
from crawler.progress import fetch_errors
from pipelines.stats import FETCH_PAGES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench.harness.server import RunningServer

SECTION = "workers"
DEFAULT_PAGES = 2000
DEFAULT_WORKERS = (1, 2, 4)
DEFAULT_EXTRACT_WORKERS: tuple[int | None, ...] = (None, 1)
SITEMAPS = 8
"""Sitemaps behind the index (the pages split evenly among them)."""
EXIT_NO_REDIS = 3
CPU_SAMPLE_SECONDS = 0.5


def sitemap_urls(pages: int) -> int:
    """URLs per sitemap so that ``pages`` are listed by ``SITEMAPS`` sitemaps."""
    return max(1, -(-pages // SITEMAPS))


# --- one measurement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    workers: int | None
    """Worker processes in Redis mode; ``None``: embedded mode (one process, no Redis)."""
    extract_workers: int | None
    """``EXTRACT_WORKERS`` of every worker; ``None``: the default."""

    @property
    def redis(self) -> bool:
        return self.workers is not None

    @property
    def processes(self) -> int:
        return self.workers or 1

    @property
    def mode(self) -> str:
        return "Redis" if self.redis else "embedded"

    @property
    def label(self) -> str:
        extract = f"EXTRACT_WORKERS={workers_label(self.extract_workers)}"
        if not self.redis:
            return f"embedded, {extract}"
        return f"Redis, {self.workers} worker{'s' if self.processes > 1 else ''}, {extract}"

    @property
    def slug(self) -> str:
        head = f"redis-{self.workers}" if self.redis else "embedded"
        return f"{head}-x{workers_label(self.extract_workers)}"


@dataclass(frozen=True)
class Run:
    setup: Setup
    pages: int
    started_at: float
    """Epoch seconds when the first process was started."""
    wall: float
    returncodes: tuple[int | None, ...]
    reports: tuple[dict[str, Any], ...]
    cpu_seconds: float
    """The workers and their descendants."""
    server_cpu_seconds: float
    other_cpu_seconds: float
    """CPU the rest of the machine used meanwhile (``/proc/stat`` less the measured processes
    and this one): other programs, and kernel work charged to none."""
    max_processes: int
    requests: Requests
    urls: Counter[str]
    """Stored rows by URL."""
    redis: RedisUsage | None
    log_files: tuple[Path, ...]

    def _stat(self, key: str) -> int:
        return sum(int(report.get("stats", {}).get(key, 0)) for report in self.reports)

    @property
    def article_responses(self) -> int:
        return self._stat(FETCH_PAGES.name)

    @property
    def pages_by_worker(self) -> list[int]:
        return sorted(
            (int(report.get("stats", {}).get(FETCH_PAGES.name, 0)) for report in self.reports),
            reverse=True,
        )

    @property
    def early_exits(self) -> list[tuple[int, float]]:
        """Processes that finished while the server was still answering (another process was
        fetching: the shared work was not done): pages each fetched, and how many seconds
        before the last answer it finished."""
        found = []
        for report in self.reports:
            finished = report.get("finished_at")
            if not finished or not self.requests.last:
                continue
            early = self.requests.last - datetime.fromisoformat(finished).timestamp()
            if early > 0:
                pages = int(report.get("stats", {}).get(FETCH_PAGES.name, 0))
                found.append((pages, early))
        return sorted(found, key=lambda exit_: -exit_[1])

    @property
    def startup(self) -> float:
        """From the first process's start to the server's first answer."""
        return self.requests.first - self.started_at if self.requests.first else 0.0

    @property
    def tail(self) -> float:
        """From the server's last answer to the last process's exit."""
        return self.started_at + self.wall - self.requests.last if self.requests.last else 0.0

    @property
    def rows(self) -> int:
        return sum(self.urls.values())

    @property
    def pages_per_second(self) -> float:
        return self.article_responses / self.wall if self.wall else 0.0

    @property
    def drops(self) -> dict[str, int]:
        found: Counter[str] = Counter()
        for report in self.reports:
            found.update(drops(report.get("stats", {})))
        return dict(sorted(found.items()))

    @property
    def fetch_errors(self) -> int:
        return sum(fetch_errors(report.get("stats", {})) for report in self.reports)

    @property
    def redis_cpu_seconds(self) -> float:
        return self.redis.cpu_seconds if self.redis else 0.0

    @property
    def total_cpu_seconds(self) -> float:
        return self.cpu_seconds + self.redis_cpu_seconds + self.server_cpu_seconds

    def per_page_ms(self, seconds: float) -> float:
        return 1000 * seconds / max(self.article_responses, 1)

    def problems(self, reference: set[str] | None) -> list[str]:
        """What went wrong: nothing when every check holds."""
        found = []
        failed = [code for code in self.returncodes if code != 0]
        if failed:
            found.append(f"exit statuses {failed}")
        if len(self.reports) != self.setup.processes:
            found.append(f"{len(self.reports)} crawl reports for {self.setup.processes} processes")
        reasons = [report.get("finish_reason") for report in self.reports]
        if any(reason != "finished" for reason in reasons):
            found.append(f"finish reasons {reasons}")
        articles = self.requests.matching(PAGE_PATH)
        if len(articles) != self.pages:
            found.append(f"{len(articles)} of the {self.pages} article pages fetched")
        twice = sum(1 for count in articles.values() if count > 1)
        if twice:
            found.append(f"{twice} article pages fetched more than once")
        sitemaps = self.requests.matching(SITEMAP_PATH)
        if len(sitemaps) != SITEMAPS + 1 or any(count != 1 for count in sitemaps.values()):
            found.append(f"sitemaps fetched: {sorted(sitemaps.values())}")
        doubled = sum(1 for count in self.urls.values() if count > 1)
        if doubled:
            found.append(f"{doubled} URLs stored more than once")
        if reference is not None and set(self.urls) != reference:
            missing, extra = len(reference - set(self.urls)), len(set(self.urls) - reference)
            found.append(f"stored URLs differ from the reference: {missing} missing, {extra} more")
        if self.rows + sum(self.drops.values()) != self.article_responses:
            found.append(
                f"{self.rows} rows and {sum(self.drops.values())} drops for "
                f"{self.article_responses} article responses"
            )
        if self.fetch_errors:
            found.append(f"{self.fetch_errors} fetch errors")
        if self.redis is not None and any(self.redis.left.values()):
            left = ", ".join(f"{name} {n}" for name, n in self.redis.left.items() if n)
            found.append(f"left in Redis: {left}")
        return found


def run_setup(
    setup: Setup,
    server: RunningServer,
    pages: int,
    work_dir: Path,
    redis_binary: str | None,
    *,
    timeout: float,
) -> Run:
    """One measurement: the setup's processes crawl the first ``pages`` pages into a fresh
    ``OUTPUT_DIR`` (with a fresh Redis server in Redis mode)."""
    output_dir = work_dir / setup.slug
    output_dir.mkdir(parents=True)
    sitemap = server.sitemap_url(pages)
    log_files = [work_dir / f"{setup.slug}-{n}.log" for n in range(setup.processes)]
    commands = [crawl_command(sitemap, output_dir, log, setup.extract_workers) for log in log_files]
    with contextlib.ExitStack() as stack:
        handle = None
        if setup.redis:
            assert redis_binary is not None
            handle = stack.enter_context(redis_server(redis_binary, work_dir / f"{setup.slug}-r"))
            settings = [f"REDIS_URL={handle.url}", f"REDIS_KEY_PREFIX={KEY_PREFIX}"]
            commands = [
                [*command, *(part for s in settings for part in ("-s", s))] for command in commands
            ]
            empty_memory = int(handle.client.info("memory")["used_memory"])
            redis_cpu_before = info_cpu(handle.client)
        read_requests(server)  # resets the counts
        server_before = server.cpu_seconds()
        system_before, own_before = system_cpu(), own_cpu()
        done = run_processes(
            commands,
            [log.with_suffix(".out") for log in log_files],
            timeout=timeout,
            sampler=TreeSampler([], interval=CPU_SAMPLE_SECONDS, memory=False),
        )
        server_cpu = server.cpu_seconds() - server_before
        redis_cpu = info_cpu(handle.client) - redis_cpu_before if handle is not None else 0.0
        system, own = system_cpu() - system_before, own_cpu() - own_before
        requests = read_requests(server)
        usage = None
        if handle is not None:
            usage = redis_usage(handle.client, empty_memory, redis_cpu)
    return Run(
        setup=setup,
        pages=pages,
        started_at=done.started_at,
        wall=done.wall,
        returncodes=done.returncodes,
        reports=crawl_reports(output_dir),
        cpu_seconds=done.cpu_seconds,
        server_cpu_seconds=server_cpu,
        other_cpu_seconds=max(system - done.cpu_seconds - server_cpu - redis_cpu - own, 0.0),
        max_processes=done.sampler.max_processes,
        requests=requests,
        urls=stored_urls(output_dir),
        redis=usage,
        log_files=tuple(log_files),
    )


# --- the benchmark ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    pages: int = DEFAULT_PAGES
    workers: tuple[int, ...] = DEFAULT_WORKERS
    extract_workers: tuple[int | None, ...] = DEFAULT_EXTRACT_WORKERS
    embedded: bool = True

    def setups(self) -> list[Setup]:
        found = [Setup(None, self.extract_workers[0])] if self.embedded else []
        found += [Setup(n, x) for x in self.extract_workers for n in self.workers]
        return found


@dataclass(frozen=True)
class Results:
    options: Options
    corpus: Path
    corpus_pages: int
    runs: tuple[Run, ...]
    durations: dict[str, float]
    cores: int
    busy: tuple[str, ...] = ()
    """Other processes that used the CPU during the benchmark (a note for the reader)."""

    @property
    def reference(self) -> Run | None:
        return self.runs[0] if self.runs else None

    def problems(self, run: Run) -> list[str]:
        reference = self.reference
        if reference is None or reference is run:
            return run.problems(None)
        return run.problems(set(reference.urls))

    def one_worker(self, run: Run) -> Run | None:
        for other in self.runs:
            if other.setup == Setup(1, run.setup.extract_workers):
                return other
        return None

    def embedded(self) -> Run | None:
        return next((run for run in self.runs if not run.setup.redis), None)


def _own_tree() -> set[int]:
    return set(process_trees([os.getpid()]))


def run_benchmark(
    options: Options, corpus: Path, work_dir: Path, redis_binary: str | None
) -> Results:
    """Every measurement of ``options``, one after the other, against one page server."""
    quiet_noisy_loggers()
    templates = load_templates(corpus)
    pages = PageSet(templates)
    durations: dict[str, float] = {}
    runs = []
    before = busy_processes(_own_tree())
    with serving(
        pages,
        options.pages,
        server_class=CountingPageServer,
        sitemap_urls=sitemap_urls(options.pages),
    ) as server:
        for setup in options.setups():
            progress(f"{setup.label}: {options.pages:,} pages ...")
            started = time.perf_counter()
            run = run_setup(
                setup,
                server,
                options.pages,
                work_dir,
                redis_binary,
                timeout=300 + options.pages * 0.5,
            )
            durations[setup.label] = time.perf_counter() - started
            progress(
                f"{setup.label}: {run.wall:.1f} s, {run.pages_per_second:.1f} pages/s, "
                f"pages per worker {run.pages_by_worker}"
            )
            runs.append(run)
    after = busy_processes(_own_tree())
    busy = tuple(
        f"{command_line(pid, 80)} ({seconds - before.get(pid, 0.0):.0f} s CPU)"
        for pid, seconds in sorted(after.items())
        if seconds - before.get(pid, 0.0) >= 1.0
    )
    return Results(
        options=options,
        corpus=corpus,
        corpus_pages=len(templates),
        runs=tuple(runs),
        durations=durations,
        cores=len(os.sched_getaffinity(0)),
        busy=busy,
    )


# --- the report ---------------------------------------------------------------------------------


def _ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base else "-"


def throughput_table(results: Results) -> str:
    embedded = results.embedded()
    rows = []
    for run in results.runs:
        one = results.one_worker(run)
        total_ms = run.per_page_ms(run.total_cpu_seconds)
        rows.append(
            [
                run.setup.mode,
                str(run.setup.processes),
                workers_label(run.setup.extract_workers),
                str(run.max_processes),
                f"{run.article_responses:,}",
                " / ".join(f"{n:,}" for n in run.pages_by_worker),
                f"{run.rows:,}",
                f"{run.wall:.1f}",
                f"{run.startup:.1f} / {run.requests.span:.1f} / {run.tail:.1f}",
                f"**{run.pages_per_second:.1f}**",
                _ratio(run.pages_per_second, one.pages_per_second) if one else "-",
                _ratio(run.pages_per_second, embedded.pages_per_second if embedded else None),
                f"{run.per_page_ms(run.cpu_seconds):.1f}",
                f"{run.per_page_ms(run.redis_cpu_seconds):.1f}" if run.redis else "-",
                f"{run.per_page_ms(run.server_cpu_seconds):.1f}",
                f"{total_ms:.1f}",
                f"{run.total_cpu_seconds / run.wall:.2f}" if run.wall else "-",
                f"{run.other_cpu_seconds:.1f}",
            ]
        )
    headers = [
        "mode",
        "crawl processes",
        "EXTRACT_WORKERS (each)",
        "processes (peak, extraction included)",
        "article responses",
        "pages per crawl process",
        "rows",
        "wall s",
        "of which start-up / fetching / after the last fetch, s",
        "pages/s (wall)",
        "× Redis, 1 worker",
        "× embedded",
        "CPU ms/page: crawl",
        "Redis",
        "page server",
        "all",
        "cores busy (all CPU / wall)",
        "CPU s of the rest of the machine meanwhile",
    ]
    return markdown_table(headers, rows)


def checks_table(results: Results) -> str:
    rows = []
    for run in results.runs:
        articles = run.requests.matching(PAGE_PATH)
        sitemaps = run.requests.matching(SITEMAP_PATH)
        problems = results.problems(run)
        left = "-"
        if run.redis is not None:
            left = ", ".join(f"{n}" for n in run.redis.left.values())
        rows.append(
            [
                run.setup.label,
                f"{len(articles):,} / {run.pages:,}",
                str(sum(1 for count in articles.values() if count > 1)),
                f"{sum(sitemaps.values())} ({len(sitemaps)} distinct)",
                str(run.requests.counts.get("/robots.txt", 0)),
                f"{run.rows:,}",
                f"{len(run.urls):,}",
                counts(run.drops),
                left,
                "; ".join(
                    f"**one after {pages:,} pages, {early:.1f} s before the last fetch**"
                    for pages, early in run.early_exits
                )
                or "none",
                "ok" if not problems else "**" + "; ".join(problems) + "**",
            ]
        )
    headers = [
        "measurement",
        "article pages fetched",
        "fetched twice",
        "sitemap fetches",
        "robots.txt fetches",
        "rows",
        "distinct URLs",
        "dropped",
        "left in Redis (queued, in flight, parsed, claims, workers)",
        "processes that finished while others still fetched",
        "checks",
    ]
    return markdown_table(headers, rows)


def measured(run: Run) -> Measured:
    assert run.redis is not None
    return Measured(run.setup.label, run.redis, run.rows, run.article_responses)


def scaling_lines(results: Results) -> list[str]:
    """The CPU ceiling of every run: how fast the cores could go at its CPU per page."""
    lines = []
    for run in results.runs:
        total_ms = run.per_page_ms(run.total_cpu_seconds)
        if not total_ms or not run.wall:
            continue
        ceiling = results.cores * 1000 / total_ms
        lines.append(
            f"- {run.setup.label}: {total_ms:.1f} ms of CPU per page, so {results.cores} cores "
            f"busy all the time would give {ceiling:.1f} pages/s; it reached "
            f"{run.pages_per_second:.1f} ({run.pages_per_second / ceiling:.0%} of that)."
        )
    return lines


def render(results: Results, command: str) -> str:
    options = results.options
    sections = [
        "## Redis mode: worker processes",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: {options.pages:,} variants of the "
            f"{results.corpus_pages} pages of `{results.corpus}` (as in the crawl throughput "
            f"benchmark), listed by {SITEMAPS} sitemaps behind one index, served over loopback "
            "by a threaded server in its own process that counts its requests. Every "
            "measurement: a fresh `OUTPUT_DIR`, and in Redis mode a fresh `redis-server` "
            f"({redis_version()}); the crawl processes are identical `scrapy crawl news "
            "-a sitemaps=<index>` commands with `AUTOTHROTTLE_ENABLED=False DOWNLOAD_DELAY=0 "
            "CONCURRENT_REQUESTS=32 CONCURRENT_REQUESTS_PER_DOMAIN=32` (and `REDIS_URL`, "
            f"`REDIS_KEY_PREFIX={KEY_PREFIX}`), started together."
        ),
        (
            "### Throughput\n\nPages/s: article responses (summed over the crawl reports) over "
            "the wall time from the first process's start to the last one's exit, start-up "
            "included, split into start-up (to the server's first answer), fetching (the "
            "server's first to last answer) and what follows the last fetch (extraction, the "
            "last commits, and the wait for the other workers to be done). × Redis, 1 worker: over "
            "the one-worker Redis run with the same `EXTRACT_WORKERS`. CPU per article "
            "response: the crawl processes with their extraction workers, `redis-server` "
            "(`INFO cpu`) and the page server; the rest of the machine: `/proc/stat` less those "
            "and this benchmark's process (other programs, kernel work charged to no process)."
        ),
        throughput_table(results),
    ]
    sections.append(
        "What bounds it: the CPU per page, on the cores there are.\n\n"
        + "\n".join(scaling_lines(results))
    )
    sections += [
        (
            "### Checks\n\nThe server's request counts and the dataset, per measurement: every "
            "article page fetched once, every sitemap once (the index and its "
            f"{SITEMAPS}), robots.txt at most once per process (before its first request); one "
            "row per URL, and the same URLs as the first measurement "
            f"({results.reference.setup.label if results.reference else '-'}); nothing left in "
            "Redis. Not counted as a failed check, but a defect of the shared end of the crawl: "
            "a process whose crawl report says it finished before the server's last answer "
            "(it stopped while another one was still fetching)."
        ),
        checks_table(results),
    ]
    redis_runs = [run for run in results.runs if run.redis is not None]
    if redis_runs:
        largest = max(redis_runs, key=lambda run: (run.setup.processes, run.rows))
        sections += [
            (
                "### Redis\n\nAt the end of each Redis run (the workers gone): `INFO memory` "
                "`used_memory` per stored article, and the commands processed (`INFO stats`: "
                "a Lua script counts once, and once more for every call it makes) per article "
                "response."
            ),
            usage_table([measured(run) for run in redis_runs]),
            f"By key family, {largest.setup.label} (`MEMORY USAGE ... SAMPLES 0` of every key):",
            families_table(measured(largest)),
            commands_line(measured(largest)),
        ]
    busy = "; ".join(results.busy) if results.busy else "nothing else measurable"
    sections.append(
        f"Other processes using the CPU meanwhile: {busy}. {durations_line(results.durations)}"
    )
    return "\n\n".join(sections) + "\n"


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.workers",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus next to the repository; "
        f"redis-server is ${REDIS_SERVER_ENV}, else the one on the PATH.",
    )
    parser.add_argument("--pages", type=positive, default=DEFAULT_PAGES, help="article pages")
    parser.add_argument(
        "--workers",
        type=positive_list,
        default=DEFAULT_WORKERS,
        metavar="N,N",
        help="crawl processes of the Redis runs (default: 1,2,4)",
    )
    parser.add_argument(
        "--extract-workers",
        type=extract_workers_list,
        default=DEFAULT_EXTRACT_WORKERS,
        metavar="W,W",
        help="EXTRACT_WORKERS of every crawl process, 'default' to leave it unset; one set of "
        "Redis runs per value (default: default,1); the embedded run takes the first",
    )
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded run")
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument(
        "--write-results",
        action="store_true",
        help=f"also write the tables into {RESULTS_FILE}",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-workers"):
        return EXIT_NO_CORPUS
    binary = redis_server_binary()
    if binary is None:
        print(
            "No redis-server found: looked for "
            + (
                f"${REDIS_SERVER_ENV} ({os.environ[REDIS_SERVER_ENV]}, not an executable)"
                if os.environ.get(REDIS_SERVER_ENV)
                else "redis-server on the PATH"
            )
            + ".\nInstall it (Debian: apt-get install redis-server) or set "
            f"{REDIS_SERVER_ENV} to the binary, e.g. {REDIS_SERVER_ENV}=/usr/bin/redis-server "
            "make bench-workers",
            file=sys.stderr,
        )
        return EXIT_NO_REDIS
    options = Options(
        pages=args.pages,
        workers=args.workers,
        extract_workers=args.extract_workers,
        embedded=not args.no_embedded,
    )
    with work_dir(args.workdir, "workers") as folder:
        results = run_benchmark(options, directory, folder, binary)
    publish(render(results, command_of("bench.workers", argv)), SECTION, write=args.write_results)
    failed = [run for run in results.runs if results.problems(run)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
