"""Nothing-new benchmark: a scheduled crawl that finds nothing new (every article it lists is
stored already), its memory, CPU, wall time and processes, in this checkout and (``--baseline
DIR``, a ``git worktree`` of an older commit) in another, the runs of the two taken in turn.

    .venv/bin/python -m bench.nothing_new [--rounds 3] [--baseline DIR] [--workdir DIR]
        [--write-results]

The site: the bundled demo site (``demo/site.py``), served by this process. A first crawl of
its RSS feed and sitemap index (the demo's command, ``demo/__main__.py``, without its given
URLs: those include a missing article, whose request every run sends again and which would
start the extraction workers) stores its 41 articles, from this checkout, with
``EXTRACT_WORKERS=0`` (it only prepares the state: inline is quicker for 41 pages). Then each
round copies that ``OUTPUT_DIR`` once per checkout and crawls the same feed and sitemaps into
the copy, run from the checkout's directory (``python -m scrapy`` puts it first on
``sys.path``: its code is imported), the baseline first. That is the common case of a crawl
scheduled every few minutes. Since the extraction workers start with the first article page
requested (``pipelines/extract.py``), such a run is the crawl process alone.

Each run's process tree is sampled every 0.05 s (``bench/harness/processes.py``): the peak of
its PSS summed over its processes, the most processes at once, and its CPU seconds. Reported:
medians over the rounds (and the range), the ratio of this checkout's medians to the
baseline's, and from each run's crawl report (``OUTPUT_DIR/state/crawls/``) what it found:
known articles skipped, article pages fetched, articles extracted, rows written. A run that
found something new (no known article skipped, or an article page fetched, extracted or
written: a baseline that cannot read this checkout's state, say) is named below the table and
the benchmark exits with status 1.

Each checkout's packages are byte-compiled first, as in ``bench/startup.py``. The machine's
speed of the hour is noted beside the results: the wall time of a 20,000,000-step Python loop,
before the runs and after them.

``make bench-nothing-new BASELINE=/tmp/before`` runs the defaults; ``--write-results`` writes
the section ``nothing-new`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness.corpus import ROOT
from bench.harness.crawls import crawl_reports, run_processes
from bench.harness.processes import TreeSampler
from bench.harness.report import (
    MIB,
    command_of,
    machine_line,
    markdown_table,
    mib,
    positive,
    progress,
    publish,
    work_dir,
)
from bench.startup import byte_compile
from bench.worker_memory import Checkout, describe
from demo.__main__ import crawl_command as demo_command
from demo.site import base_url, load_site, serve
from pipelines.stats import (
    EXTRACT_ARTICLES,
    FETCH_PAGES,
    INCREMENTAL_KNOWN_SKIPPED,
    PARQUET_ROWS_WRITTEN,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

SECTION = "nothing-new"
DEFAULT_ROUNDS = 3
SAMPLE_SECONDS = 0.05
"""A run is ~2 s: the sampler's default 0.2 s would miss a short-lived process."""
TIMEOUT = 300.0
FIRST_CRAWL_SETTINGS = ("EXTRACT_WORKERS=0",)
SPEED_LOOP = "s = 0\nfor i in range(20_000_000): s += i"
"""The machine's speed of the hour: its wall time in a fresh interpreter."""


class FirstCrawlFailed(Exception):
    """The first crawl stored nothing: there is no state for the runs to find known."""


def crawl_command(base: str, output_dir: Path, log_file: Path) -> list[str]:
    """The demo's crawl of the site's feed and sitemap index, without its given URLs."""
    command = demo_command(base, output_dir, log_file)
    given = command.index("-a")
    if not command[given + 1].startswith("urls="):
        raise ValueError(f"the demo's first argument is not its URLs: {command[given + 1]}")
    del command[given : given + 2]
    return command


# --- the runs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One crawl that should find nothing new."""

    status: int | None
    wall: float
    cpu_seconds: float
    peak_pss: int
    """Peak of the process tree's PSS, in bytes."""
    processes: int
    """The most processes of its tree at once."""
    stats: dict[str, Any] = field(default_factory=dict)
    """Its crawl report's stats."""
    log_file: Path | None = None

    def count(self, name: str) -> int:
        return int(self.stats.get(name, 0))

    @property
    def known_skipped(self) -> int:
        return self.count(INCREMENTAL_KNOWN_SKIPPED.name)

    @property
    def found(self) -> dict[str, int]:
        """What it found new: article pages fetched, articles extracted, rows written."""
        return {
            "article pages fetched": self.count(FETCH_PAGES.name),
            "articles extracted": self.count(EXTRACT_ARTICLES.name),
            "rows written": self.count(PARQUET_ROWS_WRITTEN.name),
        }

    @property
    def nothing_new(self) -> bool:
        return self.status == 0 and self.known_skipped > 0 and not any(self.found.values())


def first_crawl(base: str, folder: Path) -> Path:
    """Store the site's articles into ``folder/first``, with this checkout."""
    output = folder / "first"
    command = crawl_command(base, output, folder / "first.log")
    for setting in FIRST_CRAWL_SETTINGS:
        command += ["-s", setting]
    done = run_processes([command], [folder / "first.out"], timeout=TIMEOUT)
    reports = crawl_reports(output)
    rows = int(reports[-1].get("stats", {}).get(PARQUET_ROWS_WRITTEN.name, 0)) if reports else 0
    if done.returncodes[0] != 0 or not rows:
        raise FirstCrawlFailed(
            f"the first crawl ended with status {done.returncodes[0]}, {rows} rows written: "
            f"see {folder / 'first.log'}"
        )
    return output


def second_crawl(checkout: Path, base: str, first: Path, folder: Path, label: str) -> Run:
    """A crawl of the site from ``checkout`` into a copy of the first crawl's ``OUTPUT_DIR``."""
    output = folder / label
    shutil.copytree(first, output)
    reports = len(crawl_reports(output))
    log_file = folder / f"{label}.log"
    sampler = TreeSampler([], interval=SAMPLE_SECONDS)
    done = run_processes(
        [crawl_command(base, output, log_file)],
        [folder / f"{label}.out"],
        timeout=TIMEOUT,
        cwd=checkout,
        sampler=sampler,
    )
    now = crawl_reports(output)
    stats = now[-1].get("stats", {}) if len(now) > reports else {}  # none: it wrote no report
    return Run(
        status=done.returncodes[0],
        wall=done.wall,
        cpu_seconds=done.cpu_seconds,
        peak_pss=sampler.peak("tree_pss"),
        processes=sampler.max_processes,
        stats=stats,
        log_file=log_file,
    )


def run_benchmark(
    checkouts: Sequence[Checkout], rounds: int, folder: Path
) -> dict[Checkout, list[Run]]:
    """One first crawl, then ``rounds`` rounds of one run per checkout, in turn."""
    results: dict[Checkout, list[Run]] = {checkout: [] for checkout in checkouts}
    with serve(load_site()) as server:
        base = base_url(server)
        progress("first crawl (stores the site's articles) ...")
        first = first_crawl(base, folder)
        for number in range(1, rounds + 1):
            for checkout in checkouts:
                slug = checkout.name.split()[0]
                run = second_crawl(checkout.path, base, first, folder, f"{slug}-{number}")
                progress(
                    f"round {number}, {checkout.name}: status {run.status}, {run.wall:.1f} s, "
                    f"CPU {run.cpu_seconds:.1f} s, {mib(run.peak_pss)} MiB, "
                    f"{run.processes} processes, {run.known_skipped} known skipped"
                )
                results[checkout].append(run)
    return results


def loop_seconds() -> float:
    """Wall seconds of :data:`SPEED_LOOP` in a fresh interpreter (start included)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", SPEED_LOOP], check=True)
    return time.perf_counter() - started


# --- the report ---------------------------------------------------------------------------------


def _spread(values: Sequence[float], digits: int = 2) -> str:
    """The median, and the range when the values differ."""
    median = f"{statistics.median(values):.{digits}f}"
    low, high = min(values), max(values)
    return median if low == high else f"{median} ({low:.{digits}f}–{high:.{digits}f})"


def _values(values: Iterable[int]) -> str:
    """The distinct values, in order."""
    return ", ".join(f"{value:,}" for value in sorted(set(values)))


def _statuses(runs: Sequence[Run]) -> str:
    return ", ".join(sorted({str(run.status) for run in runs}))


def _mib(runs: Sequence[Run]) -> list[float]:
    return [run.peak_pss / MIB for run in runs]


def _ratio(before: Sequence[float], after: Sequence[float]) -> str:
    median = statistics.median(before)
    return f"× {statistics.median(after) / median:.2f}" if median else "-"


HEADERS = (
    "checkout",
    "runs",
    "exit",
    "wall s",
    "CPU s",
    "peak PSS, process tree (MiB)",
    "processes (most at once)",
    "known articles skipped",
    "article pages fetched",
    "articles extracted",
)


def table(results: dict[Checkout, list[Run]]) -> str:
    """Medians (ranges) per checkout; with two checkouts, the last's medians over the first's."""
    rows = []
    for checkout, runs in results.items():
        rows.append(
            [
                f"{checkout.name} (`{checkout.commit}`)",
                str(len(runs)),
                _statuses(runs),
                _spread([run.wall for run in runs]),
                _spread([run.cpu_seconds for run in runs]),
                f"**{_spread(_mib(runs), 0)}**",
                _values(run.processes for run in runs),
                _values(run.known_skipped for run in runs),
                _values(run.found["article pages fetched"] for run in runs),
                _values(run.found["articles extracted"] for run in runs),
            ]
        )
    if len(results) > 1:
        first, *_, last = results.values()
        rows.append(
            [
                "**ratio** of the medians, this checkout / baseline",
                "",
                "",
                _ratio([run.wall for run in first], [run.wall for run in last]),
                _ratio([run.cpu_seconds for run in first], [run.cpu_seconds for run in last]),
                f"**{_ratio(_mib(first), _mib(last))}**",
                "",
                "",
                "",
                "",
            ]
        )
    return markdown_table(HEADERS, rows)


def problem_lines(results: dict[Checkout, list[Run]]) -> list[str]:
    """A line for each run that failed or found something new."""
    lines = []
    for checkout, runs in results.items():
        for number, run in enumerate(runs, 1):
            if run.nothing_new:
                continue
            found = ", ".join(f"{what} {count:,}" for what, count in run.found.items())
            lines.append(
                f"**Run {number} of {checkout.the} did not find nothing new**: exit status "
                f"{run.status}, known articles skipped {run.known_skipped:,}, {found} "
                f"(its log: `{run.log_file}`)."
            )
    return lines


def render(
    results: dict[Checkout, list[Run]], command: str, machine: str, speed: Sequence[float]
) -> str:
    """The section: how it was run, the table, and what went wrong."""
    loop = ", ".join(f"{seconds:.2f}" for seconds in speed)
    problems = problem_lines(results)
    verdict = (
        "Every run found nothing new: known articles skipped, no article page fetched, "
        "nothing extracted or written."
    )
    sections = [
        "## A crawl that finds nothing new",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine}; its speed of the hour: a 20,000,000-step Python loop (`s += i`, "
            f"interpreter start included) took {loop} s (before the runs, after them). The "
            "demo site's feed and sitemap index, every article stored by a first crawl; each "
            "round crawls them again into a copy of its output from each checkout in turn (the "
            "baseline first), as a crawl scheduled every few minutes does. Medians over the "
            f"rounds (range); the process tree sampled every {SAMPLE_SECONDS} s."
        ),
        table(results),
        *(problems or [verdict]),
    ]
    return "\n\n".join(sections) + "\n"


# --- command line -------------------------------------------------------------------------------


def _checkout(value: str) -> Path:
    path = Path(value).resolve()
    if not (path / "scrapy.cfg").is_file():
        raise argparse.ArgumentTypeError(f"{path} is no checkout of the crawler (no scrapy.cfg)")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.nothing_new",
        description=" ".join(__doc__.split("\n\n")[0].split()) if __doc__ else None,
        epilog="A baseline: git worktree add /tmp/before <commit>.",
    )
    parser.add_argument(
        "--baseline", type=_checkout, metavar="DIR", help="a checkout of an older commit"
    )
    parser.add_argument(
        "--rounds", type=positive, default=DEFAULT_ROUNDS, help="runs of each checkout"
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    checkouts = [describe(ROOT, "this checkout")]
    if args.baseline is not None:
        checkouts.insert(0, describe(args.baseline, "baseline"))
    for checkout in checkouts:
        byte_compile(checkout.path)
    speed = [loop_seconds()]
    with work_dir(args.workdir, "nothing-new") as folder:
        try:
            results = run_benchmark(checkouts, args.rounds, folder)
        except FirstCrawlFailed as exc:
            print(f"No benchmark: {exc}", file=sys.stderr)
            return 1
    speed.append(loop_seconds())
    text = render(results, command_of("bench.nothing_new", argv), machine_line(), speed)
    publish(text, SECTION, write=args.write_results)
    return 1 if problem_lines(results) else 0


if __name__ == "__main__":
    sys.exit(main())
