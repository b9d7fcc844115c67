"""Worker memory benchmark: the memory of the crawl's processes, above all of its extraction
workers, in this checkout and in a baseline checkout, crawling the same pages in the same run.

    .venv/bin/python -m bench.worker_memory [--baseline DIR] [--pages 500] [--workers default]
        [--workdir DIR] [--write-results]

The pages: the first ``--pages`` pages of the throughput page set (``bench/harness/pages.py``),
served by the local page server (``bench/harness/server.py``). Each checkout crawls them once,
the baseline first, with the ``scrapy`` console script of this environment as users run it::

    .venv/bin/scrapy crawl news -a sitemaps=<index> -s OUTPUT_DIR=... (loopback settings)

run from the checkout's directory: Scrapy puts the project directory (the one holding
``scrapy.cfg``) on ``sys.path``, where the checkout's packages are found before the editable
install of this one (a finder that Python asks last). The baseline is a ``git worktree`` of an
older commit, e.g. ``git worktree add /tmp/before 970ffcb``; without ``--baseline``, this
checkout alone is measured.

Every 0.2 s the RSS and the PSS (``/proc/<pid>/smaps_rollup``) of every process of the crawl's
tree are read; each process has a role by its command line: the crawl process, the fork server
(``-c 'from multiprocessing.forkserver import main ...'``), the resource tracker, and the
extraction workers (the fork server's children). Reported per role: peak PSS and peak RSS; for
the tree: the peak of the sum of PSS over its processes (RSS counts the pages forked processes
share once per process; PSS shares them out).

Which packages a worker has loaded: the crawls run with a probe on ``PYTHONPATH`` (a
``sitecustomize`` module, ``PROBE``) that does nothing until a process gets ``SIGUSR2``; then it
writes the top-level modules of its ``sys.modules``, with the file of each, to
``$BENCH_MODULES_DIR/<pid>``. The benchmark signals the fork server and the workers every
``PROBE_SECONDS`` (only a process whose handler is installed: ``SigCgt`` in ``/proc``), so the
last answer of each is from late in its life. The same probe runs in both checkouts.

``make bench-worker-memory BASELINE=/tmp/before`` runs the defaults; ``--write-results`` writes
the section ``worker-memory`` of ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.corpus import CORPUS_ENV, EXIT_NO_CORPUS, ROOT, corpus_dir, corpus_missing
from bench.harness.crawls import console_scrapy, run_crawl
from bench.harness.pages import PageSet, load_templates
from bench.harness.processes import TreeSampler, caught_signals, memory_by_cause
from bench.harness.report import (
    command_of,
    counts,
    durations_line,
    extract_workers_list,
    machine_line,
    markdown_table,
    mib,
    positive,
    publish,
    quiet_noisy_loggers,
    timed_step,
    work_dir,
    workers_label,
)
from bench.harness.server import serving

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bench.harness.crawls import CrawlRun
    from bench.harness.processes import ProcessSeen
    from bench.harness.server import RunningServer

SECTION = "worker-memory"
DEFAULT_PAGES = 500
PROBE_SECONDS = 2.0
MODULES_ENV = "BENCH_MODULES_DIR"
PROBE_SIGNAL = signal.SIGUSR2
FORK_SERVER = "multiprocessing.forkserver"
RESOURCE_TRACKER = "multiprocessing.resource_tracker"
PROJECT = ("crawler", "pipelines", "extraction", "dataset")
OF_NOTE = ("scrapy", "twisted", "itemadapter", "parsel", "pyarrow", "redis")
"""Packages an extraction worker has no use for."""
PROBE = ROOT / "bench" / "probe"
"""The folder of the probe module (``sitecustomize.py``), put on ``PYTHONPATH``."""
_PURELIB = sysconfig.get_paths()["purelib"]


# --- the probe ----------------------------------------------------------------------------------


def probe_env(modules: Path) -> dict[str, str]:
    """This process's environment with the probe on ``PYTHONPATH``, writing into ``modules``."""
    modules.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROBE), env.get("PYTHONPATH")]))
    env[MODULES_ENV] = str(modules)
    return env


def read_modules(folder: Path) -> dict[int, dict[str, str]]:
    """What the probe wrote: per pid, its top-level modules and their files."""
    found: dict[int, dict[str, str]] = {}
    for path in folder.iterdir():
        if path.name.isdigit():
            lines = path.read_text(encoding="utf-8").splitlines()
            found[int(path.name)] = dict(line.split("\t", 1) for line in lines if "\t" in line)
    return found


def fork_servers(processes: Sequence[ProcessSeen]) -> set[int]:
    """The fork servers among ``processes``: started with the fork server's command line by a
    process that was not one (the workers it forks keep that command line)."""
    commands = {seen.pid: seen.command for seen in processes}
    return {
        seen.pid
        for seen in processes
        if FORK_SERVER in seen.command and FORK_SERVER not in commands.get(seen.parent, "")
    }


@dataclass
class ProbingSampler(TreeSampler):
    """A :class:`TreeSampler` that also asks the fork server and the extraction workers for
    their modules every ``probe_every`` seconds."""

    probe_every: float = PROBE_SECONDS
    causes: dict[int, dict[str, int]] = field(default_factory=dict)
    """Each process's PSS by cause (:func:`memory_by_cause`) when its PSS was highest."""
    _probed: dict[int, float] = field(default_factory=dict)
    _peak_read: dict[int, int] = field(default_factory=dict)

    def sample(self) -> None:
        super().sample()
        for pid, seen in list(self.processes.items()):
            if seen.pss > self._peak_read.get(pid, 0):
                found = memory_by_cause(pid)
                if found:
                    self._peak_read[pid], self.causes[pid] = seen.pss, found
        servers = fork_servers(list(self.processes.values()))
        now = time.perf_counter() - self._started
        for pid, seen in self.processes.items():
            due = now - self._probed.get(pid, -self.probe_every) >= self.probe_every
            if (pid in servers or seen.parent in servers) and due and _handles_probe(pid):
                self._probed[pid] = now
                with contextlib.suppress(OSError):  # gone
                    os.kill(pid, PROBE_SIGNAL)


def _handles_probe(pid: int) -> bool:
    return bool(caught_signals(pid) & (1 << (PROBE_SIGNAL - 1)))


# --- what a crawl's processes were --------------------------------------------------------------


@dataclass(frozen=True)
class Process:
    role: str
    pid: int
    peak_pss: int
    peak_rss: int
    modules: dict[str, str]
    """Top-level module -> its file (empty when the probe did not answer)."""
    causes: dict[str, int] = field(default_factory=dict)
    """PSS by cause at its peak (:func:`memory_by_cause`)."""

    def third_party(self) -> list[str]:
        """Installed packages (not their private helpers: ``_brotli``, ``.pth`` hooks ...)."""
        return sorted(
            name
            for name, file in self.modules.items()
            if file.startswith(_PURELIB) and not name.startswith("_")
        )

    def project(self) -> dict[str, str]:
        return {name: file for name, file in self.modules.items() if name in PROJECT}

    def of_note(self) -> list[str]:
        return [name for name in OF_NOTE if name in self.modules]


def roles(
    seen: Sequence[ProcessSeen],
    modules: dict[int, dict[str, str]],
    causes: dict[int, dict[str, int]] | None = None,
) -> list[Process]:
    """A crawl's processes (the crawl process first) by role, workers in the order seen."""
    servers = fork_servers(seen)
    found, workers = [], 0
    for process in seen:
        if process is seen[0]:
            role = "crawl process"
        elif process.pid in servers:
            role = "fork server"
        elif RESOURCE_TRACKER in process.command:
            role = "resource tracker"
        elif process.parent in servers:
            workers += 1
            role = f"extraction worker {workers}"
        else:
            role = f"other: `{process.command[:60]}`"
        found.append(
            Process(
                role,
                process.pid,
                process.pss,
                process.rss,
                modules.get(process.pid, {}),
                (causes or {}).get(process.pid, {}),
            )
        )
    return found


@dataclass(frozen=True)
class Checkout:
    name: str
    """``baseline`` or ``this checkout``."""
    path: Path
    commit: str

    @property
    def the(self) -> str:
        """The name in a sentence."""
        return self.name if self.name.startswith("this") else f"the {self.name}"


@dataclass(frozen=True)
class Measured:
    checkout: Checkout
    run: CrawlRun
    processes: list[Process]

    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.role.startswith("extraction worker")]

    def code_problems(self) -> list[str]:
        """Project packages a worker or the fork server imported from outside the checkout."""
        root = str(self.checkout.path.resolve()) + "/"
        return sorted(
            {
                f"{name} from {file}"
                for process in self.processes
                for name, file in process.project().items()
                if not file.startswith(root)
            }
        )


def describe(path: Path, label: str) -> Checkout:
    """A checkout, with its commit (``+`` when it has changes not committed)."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            # --no-optional-locks: a status that does not refresh (write) the index
            ["git", "--no-optional-locks", "-C", str(path), *arguments],  # noqa: S607 - on PATH
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += " + changes not committed"
    return Checkout(label, path, commit)


def measure(
    checkout: Checkout, server: RunningServer, options: Options, work_dir: Path
) -> Measured:
    """One crawl of the first ``options.pages`` pages from ``checkout``, its processes sampled
    and probed."""
    slug = checkout.name.split()[0]
    modules = work_dir / f"modules-{slug}"
    sampler = ProbingSampler([])
    run = run_crawl(
        server,
        options.pages,
        options.workers,
        work_dir,
        timeout=300 + options.pages * 0.5,
        scrapy=console_scrapy(),
        cwd=checkout.path,
        env=probe_env(modules),
        label=f"crawl-{slug}",
        sampler=sampler,
    )
    return Measured(checkout, run, roles(run.processes, read_modules(modules), sampler.causes))


# --- the report ---------------------------------------------------------------------------------


def _column_title(measured: Measured) -> str:
    return f"{measured.checkout.name} ({measured.checkout.commit})"


def crawl_table(results: Sequence[Measured]) -> str:
    rows = [
        [
            _column_title(m),
            f"`{m.checkout.path}`",
            str(m.run.returncode),
            f"{m.run.article_responses:,}",
            f"{m.run.rows:,}",
            counts(m.run.drops),
            f"{m.run.wall:.1f}",
            str(len(m.processes)),
            str(len(m.workers())),
            f"**{mib(m.run.peak_tree_pss)}**",
            mib(m.run.peak_tree_rss),
        ]
        for m in results
    ]
    headers = [
        "checkout",
        "code from",
        "exit status",
        "article responses",
        "rows written",
        "dropped",
        "wall s",
        "processes seen",
        "extraction workers",
        "peak PSS, process tree (MiB)",
        "peak RSS, process tree (MiB)",
    ]
    return markdown_table(headers, rows)


def memory_table(results: Sequence[Measured]) -> str:
    """Peak PSS and RSS per role, a column pair per checkout."""
    order = list(dict.fromkeys(p.role for m in results for p in m.processes))
    by_role = [{p.role: p for p in m.processes} for m in results]
    rows = []
    for role in order:
        row = [role]
        for found in by_role:
            process = found.get(role)
            row += [mib(process.peak_pss), mib(process.peak_rss)] if process else ["-", "-"]
        rows.append(row)
    tree = ["**process tree** (peak of the sum)"]
    for m in results:
        tree += [f"**{mib(m.run.peak_tree_pss)}**", mib(m.run.peak_tree_rss)]
    rows.append(tree)
    headers = ["process"]
    for m in results:
        headers += [f"{_column_title(m)}: peak PSS (MiB)", "peak RSS (MiB)"]
    return markdown_table(headers, rows)


CAUSE_ROWS = 8
"""Causes shown by name in :func:`causes_table`; the rest are summed in one row."""


def causes_table(measured: Measured) -> str:
    """One checkout's processes (not the resource tracker), PSS by cause at each one's peak:
    the causes that weigh most over the tree by name, the rest summed."""
    processes = [p for p in measured.processes if p.causes and p.role != "resource tracker"]
    totals: dict[str, int] = {}
    for process in processes:
        for cause, size in process.causes.items():
            totals[cause] = totals.get(cause, 0) + size
    named = sorted(totals, key=lambda cause: -totals[cause])[:CAUSE_ROWS]
    rows = [[cause, *(mib(p.causes.get(cause, 0)) for p in processes)] for cause in named]
    rest = [sum(size for c, size in p.causes.items() if c not in named) for p in processes]
    rows.append(["everything else", *(mib(size) for size in rest)])
    rows.append(
        [
            "**total** (PSS at the process's peak)",
            *(f"**{mib(sum(p.causes.values()))}**" for p in processes),
        ]
    )
    return markdown_table(["cause", *(p.role for p in processes)], rows)


def packages_table(results: Sequence[Measured]) -> str:
    rows = []
    for m in results:
        for process in m.processes:
            if not process.modules:
                continue
            project = sorted(process.project())
            rows.append(
                [
                    _column_title(m),
                    process.role,
                    str(len(process.modules)),
                    str(len(process.third_party())),
                    ", ".join(project) or "none",
                    ", ".join(process.of_note()) or "none",
                ]
            )
    headers = [
        "checkout",
        "process",
        "top-level modules",
        "of which third-party",
        "project packages",
        f"of {', '.join(OF_NOTE)}",
    ]
    return markdown_table(headers, rows)


def difference_lines(results: Sequence[Measured]) -> list[str]:
    """The third-party packages of each checkout's workers; what the first checkout's workers
    load that the last one's do not, and the reverse."""
    lines = [
        f"Third-party packages in the workers of {m.checkout.the}: "
        + ", ".join(sorted({n for w in m.workers() for n in w.third_party()}))
        + "."
        for m in results
        if any(w.modules for w in m.workers())
    ]
    if len(results) < 2:
        return lines
    first, last = results[0], results[-1]
    before = {n for w in first.workers() for n in w.third_party()}
    after = {n for w in last.workers() for n in w.third_party()}
    if not before or not after:
        return lines
    gone, new = sorted(before - after), sorted(after - before)
    return [
        *lines,
        (
            f"Third-party packages in the workers of {first.checkout.the}, not in those of "
            f"{last.checkout.the}: {', '.join(gone) or 'none'}."
        ),
        (
            f"In the workers of {last.checkout.the}, not in those of "
            f"{first.checkout.the}: {', '.join(new) or 'none'}."
        ),
    ]


def _change(before: int, after: int) -> str:
    return f"{mib(before)} → {mib(after)} ({after / before - 1:+.0%})" if before else "-"


def change_lines(results: Sequence[Measured]) -> list[str]:
    """The peaks of the first checkout against the last one's, for the tree and per role."""
    if len(results) < 2:
        return []
    first, last = results[0], results[-1]
    tree_pss = _change(first.run.peak_tree_pss, last.run.peak_tree_pss)
    tree_rss = _change(first.run.peak_tree_rss, last.run.peak_tree_rss)
    parts = [f"process tree: PSS {tree_pss}, RSS {tree_rss}"]
    now = {process.role: process for process in last.processes}
    for before in first.processes:
        after = now.get(before.role)
        if after is not None and before.role != "resource tracker":
            parts.append(
                f"{before.role}: PSS {_change(before.peak_pss, after.peak_pss)}, "
                f"RSS {_change(before.peak_rss, after.peak_rss)}"
            )
    return [f"Peaks in MiB, {first.checkout.the} → {last.checkout.the}: " + "; ".join(parts) + "."]


def problem_lines(results: Sequence[Measured]) -> list[str]:
    lines = []
    for m in results:
        if not m.run.finished or m.run.article_responses < m.run.size:
            lines.append(
                f"**The crawl of {m.checkout.the} ended with status {m.run.returncode}, "
                f"reason {m.run.report.get('finish_reason')!r}, {m.run.article_responses} "
                f"article responses: see {m.run.log_file}.**"
            )
        problems = m.code_problems()
        if problems:
            lines.append(
                f"**{m.checkout.the.capitalize()} ran code from outside `{m.checkout.path}`: "
                + "; ".join(problems)
                + ".**"
            )
        if not any(p.modules for p in m.workers()):
            lines.append(f"The workers of {m.checkout.the} did not answer the probe.")
    return lines


def render(results: Sequence[Measured], options: Options, command: str, corpus: str) -> str:
    sections = [
        "## Worker memory",
        (
            f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
            f"{machine_line()}. Pages: the first {options.pages:,} pages of the throughput page "
            f"set (variants of the pages of `{corpus}`), served over loopback; each checkout "
            "crawls them once, the baseline first, with `.venv/bin/scrapy crawl news -a "
            "sitemaps=<index>` run from the checkout's directory (its code is imported), "
            f"EXTRACT_WORKERS={workers_label(options.workers)} and the loopback settings of "
            "the throughput benchmark."
        ),
        crawl_table(results),
        *problem_lines(results),
        (
            "### Memory per process\n\nSampled every 0.2 s from `/proc`: the peak RSS and the "
            "peak PSS (`smaps_rollup`) of each process of the crawl's tree, by role (the fork "
            "server's children are the extraction workers), and the peak of the tree's PSS "
            "summed over its processes (RSS counts the pages forked processes share once per "
            "process; PSS shares them out)."
        ),
        memory_table(results),
        *change_lines(results),
        (
            f"### Where the memory of {results[-1].checkout.the} goes\n\nEach process's PSS "
            "by what its memory pages hold (`/proc/<pid>/smaps`, read when its PSS was "
            "highest): anonymous memory is what the process made (Python objects, buffers, "
            "the C libraries' heaps); a library's row is its code and data as mapped from its "
            "files (a wheel's bundled `.libs` with it), shared out among the processes that "
            "map it."
        ),
        causes_table(results[-1]),
        (
            "### What the workers load\n\nTop-level modules in `sys.modules`, late in each "
            "process's life (asked with a signal every 2 s by a `sitecustomize` probe, the "
            "same in both checkouts); third-party: installed in the environment's "
            "site-packages."
        ),
        packages_table(results),
        *difference_lines(results),
    ]
    return "\n\n".join(sections) + "\n"


# --- command line -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    pages: int = DEFAULT_PAGES
    workers: int | None = None
    baseline: Path | None = None


def run_benchmark(options: Options, corpus: Path, folder: Path) -> list[Measured]:
    """The baseline's crawl (when there is one), then this checkout's."""
    quiet_noisy_loggers()
    checkouts = [describe(ROOT, "this checkout")]
    if options.baseline is not None:
        checkouts.insert(0, describe(options.baseline, "baseline"))
    pages = PageSet(load_templates(corpus))
    durations: dict[str, float] = {}
    with serving(pages, options.pages) as server:
        results = [
            timed_step(
                durations,
                f"crawl of {options.pages:,} pages, {checkout.name} ({checkout.path})",
                partial(measure, checkout, server, options, folder),
            )
            for checkout in checkouts
        ]
    print(durations_line(durations), file=sys.stderr)
    return results


def _workers(value: str) -> int | None:
    workers = extract_workers_list(value)
    if len(workers) != 1:
        raise argparse.ArgumentTypeError("one EXTRACT_WORKERS value")
    return workers[0]


def _checkout(value: str) -> Path:
    path = Path(value).resolve()
    if not (path / "scrapy.cfg").is_file():
        raise argparse.ArgumentTypeError(f"{path} is no checkout of the crawler (no scrapy.cfg)")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.worker_memory",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus next to the repository. "
        "A baseline: git worktree add /tmp/before <commit>.",
    )
    parser.add_argument(
        "--baseline", type=_checkout, metavar="DIR", help="a checkout of an older commit"
    )
    parser.add_argument("--pages", type=positive, default=DEFAULT_PAGES, help="pages to crawl")
    parser.add_argument(
        "--workers",
        type=_workers,
        default=None,
        metavar="W",
        help="EXTRACT_WORKERS, 'default' to leave it unset (default: default)",
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawls' outputs and logs here")
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-worker-memory"):
        return EXIT_NO_CORPUS
    options = Options(pages=args.pages, workers=args.workers, baseline=args.baseline)
    with work_dir(args.workdir, "worker-memory") as folder:
        results = run_benchmark(options, directory, folder)
    text = render(results, options, command_of("bench.worker_memory", argv), str(directory))
    publish(text, SECTION, write=args.write_results)
    return 0 if not problem_lines(results) else 1


if __name__ == "__main__":
    sys.exit(main())
