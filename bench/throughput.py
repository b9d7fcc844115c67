"""Crawl throughput benchmark: ``scrapy crawl news`` end to end over loopback, against a loop of
plain ``trafilatura.extract`` over the same bytes in the same run.

    .venv/bin/python -m bench.throughput [--sizes 2000[,10000,50000]] [--workers default,0]
        [--baseline-pages N] [--stage-pages N] [--no-profile] [--workdir DIR] [--write-results]

The pages: the throughput page set (``bench/harness/pages.py``: page ``i`` is a variant of the
corpus page ``i mod P``, its text redrawn so that no page is a copy of another;
``$NEWS_CORPUS_DIR``, else ``../shared/corpus``), served by the local page server
(``bench/harness/server.py``) and listed by a sitemap index.

Per size ``N`` (``--sizes``) and per ``EXTRACT_WORKERS`` value (``--workers``; ``default`` leaves
the setting out), the crawl in a fresh ``OUTPUT_DIR`` (``bench/harness/crawls.py``)::

    python -m scrapy crawl news -a sitemaps=<index> -s OUTPUT_DIR=... -s AUTOTHROTTLE_ENABLED=False
        -s DOWNLOAD_DELAY=0 -s CONCURRENT_REQUESTS_PER_DOMAIN=32 -s CONCURRENT_REQUESTS=32
        [-s EXTRACT_WORKERS=n] -s LOG_LEVEL=INFO --logfile ...

With ``--sampling apart`` (the default) each crawl runs twice: first timed, its process tree read
every 0.5 s for its processes and CPU alone; then sampled for memory, the RSS and PSS of every
process read every 0.2 s. Reading PSS walks the page tables of every process of the tree (~20 ms
of CPU a reading for a crawl with two workers), and that runs on the same cores as the crawl: in
four 2,000-page crawls taken in turn (2026-12-06), the cores were 1.75 and 1.77 busy with the
crawl under the memory sampler and 1.82 and 1.83 without it. So the times, pages/s and ratios
come from the timed crawls, the memory from the sampled ones. ``--sampling together`` runs each
crawl once, sampled for memory, its times showing that cost (``make bench-scale``: the crawls of
50,000 pages are long).

With ``--rounds N`` the timed crawls run N times more, each round between two short loops
of ``trafilatura.extract`` (``--round-pages``, two passes over the corpus by default): this
machine's speed moves by a fifth within minutes, so a ratio is taken against the loops just
before and after its crawl, and the target is judged on the median of the rounds.

Pages per second are the article responses (``news/fetch/pages``) over the wall time of the crawl
process, start-up included; the crawl's own ``elapsed_time_seconds`` is shown beside it. The ratio
is that rate over the rate of a single-process loop of ``trafilatura.extract(body)`` over the
first ``--baseline-pages`` pages (default: the smallest size, at most 2,000), run in this process
before the crawls (wall time of the calls alone). In the same loop, page by page (which goes
first alternates), the extraction workers' whole work on the page (``process_page``: extraction,
language, normalized text, signature) gives a second ratio, to our own work in one process: how
well the crawl uses the cores for it. Memory: every 0.2 s the RSS and PSS of the crawl process
and of all its descendants (extraction workers) are read from ``/proc``; the peaks are reported,
the sum over the tree and the main process alone (of the sampled crawls). CPU: of the crawl's
process tree and of the server, per page.

Then, on the smallest size: the per-stage costs (``bench/stage_costs.py``, on the first
``--stage-pages`` pages), the crawl once more with no item pipeline (what Scrapy's fetching
costs), which make the floor of what a page costs and what the target leaves for everything
else; and the crawl with ``EXTRACT_WORKERS=0`` under cProfile (``bench/crawl_profile.py``).

``make bench-throughput`` runs the defaults (2,000 pages; default workers and 0) with
``--rounds 3``: about 20 minutes on 2 quiet cores; ``make bench-scale`` the crawls of 2,000,
10,000 and 50,000 pages with the default workers only (about half an hour). ``--write-results``
writes the section ``throughput`` (``throughput-scale`` for several sizes) of
``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trafilatura

from bench.crawl_profile import ProfileSummary, profile_intro, profile_tables, profiled_crawl
from bench.harness.corpus import CORPUS_ENV, EXIT_NO_CORPUS, corpus_dir, corpus_missing
from bench.harness.crawls import STALL_SECONDS, CrawlRun, run_crawl
from bench.harness.pages import CONTENT_TYPE, PageSet, load_templates
from bench.harness.processes import TreeSampler
from bench.harness.report import (
    RESULTS_FILE,
    command_of,
    count,
    counts,
    durations_line,
    extract_workers_list,
    machine_line,
    markdown_table,
    mib,
    positive_list,
    publish,
    quiet_noisy_loggers,
    timed_step,
    work_dir,
    workers_label,
)
from bench.harness.server import serving
from bench.stage_costs import (
    StageCosts,
    floor_of,
    floor_section,
    run_stages,
    stage_intro,
    stage_table,
)
from extraction.worker import PageOptions, process_page

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bench.harness.server import RunningServer

SECTION = "throughput"
SCALE_SECTION = "throughput-scale"
DEFAULT_SIZES = (2000,)
DEFAULT_WORKERS: tuple[int | None, ...] = (None, 0)
MAX_DEFAULT_SAMPLE = 2000
"""Default of ``--baseline-pages`` and ``--stage-pages``: the smallest size, at most this."""
TARGET_RATIO = 1.4
"""Crawl pages/s over ``trafilatura.extract`` pages/s wanted with the default workers (2 cores):
issue 18's (the lean issue; the 1.6 of the throughput issue before it ended blocked)."""
SAMPLINGS = ("apart", "together")
TIMED_INTERVAL = 0.5
"""Seconds between the timed crawls' readings of their processes and CPU (no memory read)."""
MAX_RSS_GROWTH = 0.20
"""Peak RSS may grow this much from the second-largest size to the largest (10k to 50k)."""


# --- the baseline -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    pages: int
    seconds: float
    cpu_seconds: float
    ours_seconds: float = 0.0
    """:func:`extraction.worker.process_page` on the same pages: the extraction worker's whole
    work on a page (extraction, language, normalized text, MinHash signature)."""
    ours_cpu_seconds: float = 0.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def ours_pages_per_second(self) -> float:
        return self.pages / self.ours_seconds if self.ours_seconds else 0.0


def run_baseline(
    pages: PageSet, count: int, base_url: str = "http://127.0.0.1", *, ours: bool = True
) -> Baseline:
    """``trafilatura.extract(body)`` and (with ``ours``) our worker's ``process_page`` on pages
    ``0 .. count-1``, one page after the other, each page through both (which goes first
    alternates); only the calls are timed (making the variant bytes is not)."""
    options = PageOptions()

    def ours_call(index: int, body: bytes) -> Any:
        return process_page(body, base_url + pages.path(index), CONTENT_TYPE, options)

    def theirs(index: int, body: bytes) -> Any:
        return trafilatura.extract(body)

    calls = (theirs, ours_call) if ours else (theirs,)
    wall, cpu = dict.fromkeys(calls, 0.0), dict.fromkeys(calls, 0.0)
    for call in calls:  # warm-up: lazy imports and first-call set-up
        call(0, pages.body(0))
    for index in range(count):
        body = pages.body(index)
        for call in calls if index % 2 == 0 else calls[::-1]:
            started, started_cpu = time.perf_counter(), time.process_time()
            call(index, body)
            wall[call] += time.perf_counter() - started
            cpu[call] += time.process_time() - started_cpu
    return Baseline(
        pages=count,
        seconds=wall[theirs],
        cpu_seconds=cpu[theirs],
        ours_seconds=wall.get(ours_call, 0.0),
        ours_cpu_seconds=cpu.get(ours_call, 0.0),
    )


@dataclass(frozen=True)
class Round:
    """The timed crawls once more, between two loops of ``trafilatura.extract``."""

    before: Baseline
    crawls: tuple[CrawlRun, ...]
    after: Baseline

    @property
    def loop_pages_per_second(self) -> float:
        """The loops' pages/s, their mean: the machine's speed around the crawls."""
        return (self.before.pages_per_second + self.after.pages_per_second) / 2

    def ratio(self, run: CrawlRun) -> float:
        loop = self.loop_pages_per_second
        return run.pages_per_second / loop if loop else 0.0


def round_ratios(rounds: Sequence[Round], size: int, workers: int | None) -> list[float]:
    """The ratio of the timed crawl of ``size`` pages with ``workers`` in each round."""
    return [
        one.ratio(run)
        for one in rounds
        for run in one.crawls
        if run.size == size and run.workers == workers
    ]


# --- the run ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    sizes: tuple[int, ...] = DEFAULT_SIZES
    workers: tuple[int | None, ...] = DEFAULT_WORKERS
    baseline_pages: int | None = None
    stage_pages: int | None = None
    profile: bool = True
    settings: tuple[tuple[str, str], ...] = ()
    """Scrapy settings given to every crawl (``--set``), on top of the loopback ones."""
    rounds: int = 0
    """How many times more the timed crawls run, each round between two loops (``--rounds``)."""
    round_pages: int = 0
    """Pages of each round's loops; 0: two passes over the corpus pages."""
    sampling: str = "apart"
    """``apart``: each crawl timed, then run again for its memory; ``together``: once, for both
    (``--sampling``)."""

    @property
    def sample(self) -> int:
        return min(*self.sizes, MAX_DEFAULT_SAMPLE)


@dataclass(frozen=True)
class Results:
    options: Options
    corpus: Path
    corpus_pages: int
    baseline: Baseline
    crawls: tuple[CrawlRun, ...]
    """The crawls sampled for memory, one per size and workers value."""
    timed: tuple[CrawlRun, ...]
    """The crawls timed, in the same order: with ``sampling="together"``, :attr:`crawls`."""
    rounds: tuple[Round, ...]
    """Each round of the timed crawls (``rounds`` of them), after the first timed crawls."""
    stages: StageCosts | None
    fetch_only: CrawlRun | None
    """The smallest crawl once more with no item pipeline: what fetching costs."""
    profile: ProfileSummary | None
    profile_run: CrawlRun | None
    durations: dict[str, float]


def _crawl(
    server: RunningServer,
    size: int,
    workers: int | None,
    work_dir: Path,
    options: Options,
    *,
    label: str = "",
    timed: bool = False,
) -> Callable[[], CrawlRun]:
    """The crawl of ``size`` pages with ``workers``, to run; ``timed``: its processes and their
    CPU read, not their memory."""
    return partial(
        run_crawl,
        server,
        size,
        workers,
        work_dir,
        timeout=300 + size * 0.5,
        settings=dict(options.settings),
        label=label,
        sampler=TreeSampler([], interval=TIMED_INTERVAL, memory=False) if timed else None,
    )


def run_benchmark(options: Options, corpus: Path, work_dir: Path) -> Results:
    """Everything, in this order: baseline, crawls, fetch-only crawl, stage costs, profiled
    crawl."""
    quiet_noisy_loggers()
    templates = load_templates(corpus)
    pages = PageSet(templates)
    baseline_pages = options.baseline_pages or options.sample
    stage_pages = options.sample if options.stage_pages is None else options.stage_pages
    smallest = min(options.sizes)
    durations: dict[str, float] = {}
    stages = profile = profile_run = None
    with serving(pages, max(options.sizes)) as server:
        baseline = timed_step(
            durations,
            f"baseline: trafilatura.extract on {baseline_pages:,} pages",
            lambda: run_baseline(pages, baseline_pages),
        )
        crawls, timed = [], []
        for size in options.sizes:
            for workers in options.workers:
                name = f"crawl of {size:,} pages, EXTRACT_WORKERS={workers_label(workers)}"
                if options.sampling == "apart":
                    label = f"crawl-{size}-w{workers_label(workers)}-timed"
                    crawl = _crawl(
                        server, size, workers, work_dir, options, label=label, timed=True
                    )
                    timed.append(timed_step(durations, f"{name}, timed", crawl))
                crawl = _crawl(server, size, workers, work_dir, options)
                crawls.append(timed_step(durations, name, crawl))
        rounds = []
        if options.rounds:
            loop_pages = options.round_pages or 2 * len(templates)
            loops = [
                timed_step(
                    durations,
                    f"round loop 1: trafilatura.extract on {loop_pages:,} pages",
                    partial(run_baseline, pages, loop_pages, ours=False),
                )
            ]
            for number in range(1, options.rounds + 1):
                runs = tuple(
                    timed_step(
                        durations,
                        f"round {number}: crawl of {size:,} pages, "
                        f"EXTRACT_WORKERS={workers_label(workers)}",
                        _crawl(
                            server,
                            size,
                            workers,
                            work_dir,
                            options,
                            label=f"round-{number}-{size}-w{workers_label(workers)}",
                            timed=True,
                        ),
                    )
                    for size in options.sizes
                    for workers in options.workers
                )
                loops.append(
                    timed_step(
                        durations,
                        f"round loop {number + 1}: trafilatura.extract on {loop_pages:,} pages",
                        partial(run_baseline, pages, loop_pages, ours=False),
                    )
                )
                rounds.append(Round(loops[-2], runs, loops[-1]))
        fetch_only = timed_step(
            durations,
            f"crawl of {smallest:,} pages, no item pipeline",
            partial(
                run_crawl,
                server,
                smallest,
                None,
                work_dir,
                timeout=300,
                pipelines=False,
                settings=dict(options.settings),
            ),
        )
        if stage_pages:
            stages = timed_step(
                durations,
                f"stage costs on {stage_pages:,} pages",
                lambda: run_stages(pages, stage_pages, work_dir / "stages", server.base_url),
            )
        if options.profile:
            profile_run, profile = timed_step(
                durations,
                f"profiled crawl of {smallest:,} pages, EXTRACT_WORKERS=0",
                lambda: profiled_crawl(server, smallest, work_dir),
            )
    return Results(
        options=options,
        corpus=corpus,
        corpus_pages=len(templates),
        baseline=baseline,
        crawls=tuple(crawls),
        timed=tuple(timed) if options.sampling == "apart" else tuple(crawls),
        rounds=tuple(rounds),
        stages=stages,
        fetch_only=fetch_only,
        profile=profile,
        profile_run=profile_run,
        durations=durations,
    )


# --- the report ---------------------------------------------------------------------------------


def throughput_table(results: Results) -> str:
    base = results.baseline.pages_per_second
    ours = results.baseline.ours_pages_per_second
    rows = []
    for run in results.timed:
        elapsed = run.elapsed
        rows.append(
            [
                f"{run.size:,}",
                workers_label(run.workers),
                str(run.max_processes),
                f"{run.article_responses:,}",
                f"{run.rows:,}",
                counts(run.drops),
                f"{run.wall:.1f}",
                f"{elapsed:.1f}" if elapsed is not None else "-",
                f"{run.pages_per_second:.1f}",
                f"{run.article_responses / elapsed:.1f}" if elapsed else "-",
                f"**{run.pages_per_second / base:.2f}**" if base else "-",
                f"{run.pages_per_second / ours:.2f}" if ours else "-",
                f"{1000 * run.cpu_seconds / max(run.article_responses, 1):.1f}",
                f"{run.cpu_seconds / run.wall:.2f}" if run.wall else "-",
                f"{1000 * run.server_cpu_seconds / max(run.article_responses, 1):.1f}",
            ]
        )
    headers = [
        "pages",
        "EXTRACT_WORKERS",
        "processes",
        "article responses",
        "rows written",
        "dropped",
        "wall s",
        "crawl elapsed s",
        "pages/s (wall)",
        "pages/s (elapsed)",
        "ratio to trafilatura.extract",
        "ratio to our extraction loop",
        "crawl CPU ms/page",
        "cores busy (crawl CPU / wall)",
        "server CPU ms/page",
    ]
    return markdown_table(headers, rows)


def target_lines(results: Results) -> list[str]:
    """The target's verdict, and every crawl that failed, missed pages or stalled (the rounds'
    crawls too)."""
    lines = _verdict(results)
    apart = results.options.sampling == "apart"
    named = [("timed ", run) for run in results.timed] if apart else []
    named += [("", run) for run in results.crawls]
    named += [
        (f"round {number} ", run)
        for number, one in enumerate(results.rounds, 1)
        for run in one.crawls
    ]
    for kind, run in named:
        name = (
            f"The {kind}crawl of {run.size:,} pages (EXTRACT_WORKERS={workers_label(run.workers)})"
        )
        if not run.finished:
            lines.append(
                f"{name} ended with status {run.returncode}, reason "
                f"{run.report.get('finish_reason')!r}: see {run.log_file}."
            )
        if run.article_responses < run.size or run.fetch_errors:
            lines.append(
                f"{name} got {run.article_responses:,} article responses and {run.fetch_errors} "
                "fetch errors."
            )
        silence, since = run.longest_silence
        if silence > STALL_SECONDS and since is not None:
            lines.append(
                f"{name} logged no progress for {silence:.0f} s from {since:%H:%M:%S} (it logs "
                "a progress line every 30 s): its reactor was blocked."
            )
        lines += [
            f"Log ({run.size:,}, {workers_label(run.workers)}): `{problem}`"
            for problem in run.log_problems
        ]
    return lines


def _verdict(results: Results) -> list[str]:
    """The target's line: the timed crawl of the smallest size with the default workers, its
    ratio the median of the rounds when there are rounds."""
    base = results.baseline.pages_per_second
    smallest = min(results.options.sizes)
    judged = [run for run in results.timed if run.workers is None and run.size == smallest]
    if not judged or not base:
        return []
    run = judged[0]
    ratios = round_ratios(results.rounds, run.size, run.workers)
    ratio = statistics.median(ratios) if ratios else run.pages_per_second / base
    verdict = "met" if ratio >= TARGET_RATIO else "**not met**"
    cores = len(os.sched_getaffinity(0))
    cpu_ms = 1000 * (run.cpu_seconds + run.server_cpu_seconds) / max(run.article_responses, 1)
    ceiling = cores * 1000 / cpu_ms / base if cpu_ms else 0.0
    return [
        f"Target: ratio at least {TARGET_RATIO} with the default workers on {cores} "
        f"cores: {ratio:.2f}"
        + (f" (the median of {len(ratios)} rounds, below)" if ratios else "")
        + f", {verdict}. At {cpu_ms:.1f} ms of CPU per page (crawl and "
        f"server), {cores} cores kept busy all the time would reach {ceiling:.2f}."
    ]


def rounds_section(results: Results) -> list[str]:
    """The rounds, each crawl's ratio against the loops around it, and the medians."""
    if not results.rounds:
        return []
    rows = [
        [
            str(number),
            f"{run.size:,}",
            workers_label(run.workers),
            f"{1000 * one.before.cpu_seconds / one.before.pages:.1f}",
            f"{1000 * one.after.cpu_seconds / one.after.pages:.1f}",
            f"{run.pages_per_second:.1f}",
            f"{1000 * run.cpu_seconds / max(run.article_responses, 1):.1f}",
            f"{run.cpu_seconds / run.wall:.2f}" if run.wall else "-",
            f"**{one.ratio(run):.2f}**",
        ]
        for number, one in enumerate(results.rounds, 1)
        for run in one.crawls
    ]
    headers = [
        "round",
        "pages",
        "EXTRACT_WORKERS",
        "loop before, CPU ms/page",
        "loop after, CPU ms/page",
        "crawl pages/s (wall)",
        "crawl CPU ms/page",
        "cores busy",
        "ratio to the loops around it",
    ]
    medians = []
    for size in results.options.sizes:
        for workers in results.options.workers:
            ratios = round_ratios(results.rounds, size, workers)
            medians.append(
                f"{size:,} pages, EXTRACT_WORKERS={workers_label(workers)}: median "
                f"**{statistics.median(ratios):.2f}** ({min(ratios):.2f}–{max(ratios):.2f})"
            )
    one = results.rounds[0]
    return [
        (
            f"### Rounds\n\nThe timed crawls {len(results.rounds)} times more, each round "
            f"between two loops of `trafilatura.extract` over the first {one.before.pages:,} "
            "pages (the loop after a round is the loop before the next); a crawl's ratio is its "
            "pages/s over the mean pages/s of the two loops around it (the throughput table's "
            "ratio is against the first loop alone)."
        ),
        markdown_table(headers, rows),
        "Ratios over the rounds: " + "; ".join(medians) + ".",
    ]


def floor_lines(results: Results) -> list[str]:
    """The floor against the crawl with the default workers (else the most workers) of the
    smallest size."""
    pooled = [run for run in results.timed if run.workers != 0]
    floor = floor_of(results.stages, results.fetch_only)
    base = results.baseline.pages_per_second
    if floor is None or results.fetch_only is None or not base or not pooled:
        return []
    run = min(pooled, key=lambda r: (r.size, r.workers is not None, -(r.workers or 0)))
    return floor_section(floor, results.fetch_only, run, base, TARGET_RATIO)


def memory_table(results: Results) -> str:
    rows = []
    for run in results.crawls:
        rates = run.rates
        rows.append(
            [
                f"{run.size:,}",
                workers_label(run.workers),
                mib(run.peak_tree_rss),
                mib(run.peak_tree_pss),
                mib(run.peak_main_rss),
                " / ".join(mib(size) for size in run.main_rss_quarters),
                f"{rates[0]:,.0f} → {min(rates):,.0f} → {rates[-1]:,.0f}" if rates else "-",
                f"{run.longest_silence[0]:.0f}" if len(run.progress) > 1 else "-",
            ]
        )
    headers = [
        "pages",
        "EXTRACT_WORKERS",
        "peak RSS, process tree (MiB)",
        "peak PSS, process tree (MiB)",
        "peak RSS, main process (MiB)",
        "main RSS at ¼ / ½ / ¾ / end of the crawl (MiB)",
        "pages/min between progress lines: first → lowest → last",
        "longest time between progress lines (s)",
    ]
    return markdown_table(headers, rows)


def growth_lines(results: Results) -> list[str]:
    """Peak RSS growth from the second-largest size to the largest, per workers value."""
    sizes = sorted(set(results.options.sizes))
    if len(sizes) < 2:
        return []
    small, large = sizes[-2], sizes[-1]
    lines = []
    for workers in results.options.workers:
        runs = {run.size: run for run in results.crawls if run.workers == workers}
        if small not in runs or large not in runs:
            continue
        parts = []
        for label, attribute in (
            ("process tree", "peak_tree_rss"),
            ("main process", "peak_main_rss"),
        ):
            before, after = getattr(runs[small], attribute), getattr(runs[large], attribute)
            if not before:
                continue
            growth = after / before - 1
            verdict = "within" if growth <= MAX_RSS_GROWTH else "**over**"
            parts.append(f"{label} {growth:+.0%} ({verdict} the {MAX_RSS_GROWTH:.0%} limit)")
        lines.append(
            f"Peak RSS from {small:,} to {large:,} pages, EXTRACT_WORKERS="
            f"{workers_label(workers)}: " + "; ".join(parts) + "."
        )
    return lines


def render(results: Results, command: str) -> str:
    base = results.baseline
    sections = [
        "## Crawl throughput benchmark",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: variants of the {results.corpus_pages} pages of "
            f"`{results.corpus}` (70% of the words of each page's visible text redrawn from "
            "its own text, canonical URL marked), served over loopback by a threaded server in "
            "its own process; crawled through a sitemap index."
            + (
                " Every crawl with "
                + ", ".join(f"`{name}={value}`" for name, value in results.options.settings)
                + "."
                if results.options.settings
                else ""
            )
        ),
        (
            f"### Throughput\n\nBaseline: `trafilatura.extract(body)` in a loop in one process "
            f"over the first {base.pages:,} of the same pages: {base.seconds:.1f} s, "
            f"**{base.pages_per_second:.1f} pages/s** ({1000 * base.seconds / base.pages:.1f} "
            f"ms/page wall, {1000 * base.cpu_seconds / base.pages:.1f} ms/page CPU). Our "
            "extraction loop: the extraction workers' whole work on a page "
            "(`extraction.worker.process_page`: extraction, language, normalized text, MinHash "
            f"signature) in the same loop, page by page with the baseline: "
            f"{base.ours_pages_per_second:.1f} pages/s "
            f"({1000 * base.ours_cpu_seconds / base.pages:.1f} ms/page CPU). Crawl "
            "pages/s: article responses over the wall time of the crawl process, start-up "
            "included; the ratio is that over the baseline's pages/s. CPU: the crawl's "
            "processes (workers included) and the page server's, per article response; cores "
            "busy: the crawl's CPU seconds over its wall time."
            + (
                " These crawls were timed apart from those sampled for memory (below): reading "
                "PSS costs CPU on the crawl's cores."
                if results.options.sampling == "apart"
                else " These crawls were sampled for memory as they ran (below), which costs "
                "CPU on the crawl's cores: their times are a few percent slower than timed apart."
            )
        ),
        throughput_table(results),
        *target_lines(results),
        *rounds_section(results),
        *floor_lines(results),
        (
            "### Memory\n\nSampled every 0.2 s from `/proc`: the crawl process and all its "
            "descendants (RSS counts pages shared by forked workers once per process; PSS "
            "shares them out)."
        ),
        memory_table(results),
        *growth_lines(results),
    ]
    if results.stages is not None:
        inline = [run for run in results.timed if run.workers == 0]
        sections += [
            stage_intro(results.stages),
            stage_table(
                results.stages,
                baseline=(base.pages, base.seconds, base.cpu_seconds),
                inline=min(inline, key=lambda r: r.size) if inline else None,
            ),
        ]
    if results.profile is not None and results.profile_run is not None:
        sections += [
            profile_intro(results.profile_run, results.profile),
            *profile_tables(results.profile),
        ]
    sections.append(durations_line(results.durations))
    return "\n\n".join(sections) + "\n"


# --- command line -------------------------------------------------------------------------------


def setting(value: str) -> tuple[str, str]:
    """A ``NAME=VALUE`` argument, as ``scrapy crawl -s`` takes it."""
    name, equals, setting_value = value.partition("=")
    if not equals or not name.strip() or not name.strip().isupper():
        raise argparse.ArgumentTypeError(
            f"NAME=VALUE with an upper-case setting name, not {value!r}"
        )
    return name.strip(), setting_value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus next to the repository.",
    )
    parser.add_argument(
        "--sizes", type=positive_list, default=DEFAULT_SIZES, metavar="N,N", help="pages per crawl"
    )
    parser.add_argument(
        "--workers",
        type=extract_workers_list,
        default=DEFAULT_WORKERS,
        metavar="W,W",
        help="EXTRACT_WORKERS values, 'default' to leave it unset (default: default,0)",
    )
    parser.add_argument(
        "--baseline-pages",
        type=count,
        help=f"pages of the trafilatura.extract loop (default: the smallest size, at most "
        f"{MAX_DEFAULT_SAMPLE:,})",
    )
    parser.add_argument(
        "--stage-pages",
        type=count,
        help="pages of the per-stage costs, 0 to skip them (default: as --baseline-pages)",
    )
    parser.add_argument("--no-profile", action="store_true", help="skip the crawl under cProfile")
    parser.add_argument(
        "--rounds",
        type=count,
        default=0,
        help="run the timed crawls this many times more, each round between two short "
        "trafilatura.extract loops, and judge the target on the median (default: 0)",
    )
    parser.add_argument(
        "--round-pages",
        type=count,
        default=0,
        help="pages of each round's loops (default: two passes over the corpus pages)",
    )
    parser.add_argument(
        "--sampling",
        choices=SAMPLINGS,
        default="apart",
        help="apart: each crawl timed, then run again sampled for memory (reading PSS costs the "
        "crawl CPU); together: once, sampled for memory as it is timed (default: apart)",
    )
    parser.add_argument(
        "--set",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting for every crawl (repeatable), e.g. EXTRACT_SECOND_OPINION=False",
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument(
        "--write-results", action="store_true", help=f"also write the tables into {RESULTS_FILE}"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-throughput"):
        return EXIT_NO_CORPUS
    options = Options(
        sizes=args.sizes,
        workers=args.workers,
        baseline_pages=args.baseline_pages or None,
        stage_pages=args.stage_pages,
        profile=not args.no_profile,
        settings=tuple(args.set),
        sampling=args.sampling,
        rounds=args.rounds,
        round_pages=args.round_pages,
    )
    with work_dir(args.workdir, "throughput") as folder:
        results = run_benchmark(options, directory, folder)
    section = SCALE_SECTION if len(set(options.sizes)) > 1 else SECTION
    publish(
        render(results, command_of("bench.throughput", argv)), section, write=args.write_results
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
