"""Container check: a crawl of 2,000 pages at default settings under a memory limit of 512 MiB
(a common default for a scheduled job's container) completes: exit status 0, every article
stored, nothing killed.

    .venv/bin/python -m bench.container [--pages 2000] [--limit-mib 512] [--write-results]

The limit is enforced as a container's is, by a memory cgroup the crawl is started in (the
page server stays outside): cgroup version 2 (``memory.max``, swap off with
``memory.swap.max``), else version 1 (``memory.limit_in_bytes``, and ``memory.memsw`` where
the kernel accounts swap), which needs root and a writable cgroup file system; else
``systemd-run --scope -p MemoryMax=...`` where systemd runs. Where none of them is at hand, the
limit is only accounted: the crawl's process tree is sampled and its peak PSS compared with the
limit, and the report says so. A crawl killed by the kernel for its memory shows as an exit by
``SIGKILL`` and an ``oom_kill`` count above zero.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.corpus import EXIT_NO_CORPUS, corpus_dir, corpus_missing
from bench.harness.crawls import console_scrapy, run_crawl
from bench.harness.pages import PageSet, load_templates
from bench.harness.processes import TreeSampler
from bench.harness.report import (
    command_of,
    counts,
    machine_line,
    markdown_table,
    mib,
    positive,
    publish,
    quiet_noisy_loggers,
    work_dir,
)
from bench.harness.server import serving
from extraction.resources import read_value

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from bench.harness.crawls import CrawlRun

SECTION = "container"
DEFAULT_PAGES = 2000
DEFAULT_LIMIT_MIB = 512
CGROUP_ROOT = Path("/sys/fs/cgroup")
MIB = 1024 * 1024


@dataclass
class Cage:
    """Where a command runs under the memory limit, and what the limit saw."""

    how: str
    """``cgroup v2``, ``cgroup v1``, ``systemd-run`` or ``accounted only``."""
    prefix: list[str]
    """Put before a command to start it inside."""
    folder: Path | None = None
    """The cgroup's folder (cgroups only)."""

    @property
    def enforced(self) -> bool:
        return self.how != "accounted only"

    def peak(self) -> int | None:
        """The highest memory use the cgroup saw (page cache included), in bytes."""
        if self.folder is None:
            return None
        for name in ("memory.peak", "memory.max_usage_in_bytes"):
            value = read_value(self.folder / name)
            if value and value.isdigit():
                return int(value)
        return None

    def oom_kills(self) -> int | None:
        """Processes the kernel killed for the cgroup's memory."""
        if self.folder is None:
            return None
        for name in ("memory.events", "memory.oom_control"):
            for line in (read_value(self.folder / name) or "").splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and value.strip().isdigit():
                    return int(value)
        return None


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
    except OSError:
        return False
    return True


def _enter(procs: Path) -> list[str]:
    """A prefix that moves the command's process into the cgroup of ``procs``, then runs it
    (same process: its children are born inside)."""
    return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh"]


@contextlib.contextmanager
def memory_cage(limit: int, root: Path = CGROUP_ROOT) -> Iterator[Cage]:
    """The best way at hand to run commands under ``limit`` bytes of memory (see above)."""
    name = f"news-crawler-bench-{os.getpid()}"
    v2 = root / name
    controllers = read_value(root / "cgroup.subtree_control") or ""
    if "memory" in controllers.split() and _mkdir(v2):
        try:
            _write(v2 / "memory.swap.max", "0")
            if _write(v2 / "memory.max", str(limit)):
                yield Cage("cgroup v2", _enter(v2 / "cgroup.procs"), v2)
                return
        finally:
            _rmdir(v2)
    v1 = root / "memory" / name
    if (root / "memory" / "memory.limit_in_bytes").exists() and _mkdir(v1):
        try:
            if _write(v1 / "memory.limit_in_bytes", str(limit)):
                _write(v1 / "memory.memsw.limit_in_bytes", str(limit))  # where swap is counted
                yield Cage("cgroup v1", _enter(v1 / "cgroup.procs"), v1)
                return
        finally:
            _rmdir(v1)
    systemd_run = ["systemd-run", "--quiet", "--scope", "-p", f"MemoryMax={limit}"]
    systemd_run += ["-p", "MemorySwapMax=0", "--"]
    if shutil.which("systemd-run") and _runs([*systemd_run, "true"]):
        yield Cage("systemd-run", systemd_run)
        return
    yield Cage("accounted only", [])


def _mkdir(path: Path) -> bool:
    try:
        path.mkdir()
    except OSError:
        return False
    return True


def _rmdir(path: Path) -> None:
    # the crawl's processes have exited: an empty cgroup is removed like a folder
    with contextlib.suppress(OSError):
        path.rmdir()


def _runs(command: list[str]) -> bool:
    try:
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# --- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    cage: str
    enforced: bool
    limit: int
    run: CrawlRun
    cgroup_peak: int | None
    oom_kills: int | None

    @property
    def expected_rows(self) -> int:
        return self.run.article_responses - sum(self.run.drops.values())

    def problems(self) -> list[str]:
        found = []
        if self.run.returncode != 0:
            found.append(f"the crawl exited with status {self.run.returncode}")
        if self.run.article_responses < self.run.size:
            found.append(f"{self.run.article_responses} of {self.run.size} pages fetched")
        if self.run.rows != self.expected_rows:
            found.append(f"{self.run.rows} rows written, {self.expected_rows} expected")
        if self.oom_kills:
            found.append(f"{self.oom_kills} processes killed for memory")
        if not self.enforced and self.run.peak_tree_pss > self.limit:
            found.append(f"peak PSS {mib(self.run.peak_tree_pss)} MiB above the limit")
        return found


def check(pages: int, limit: int, corpus: Path, folder: Path) -> Checked:
    """One crawl of ``pages`` pages at default settings under ``limit`` bytes."""
    page_set = PageSet(load_templates(corpus))
    with serving(page_set, pages) as server, memory_cage(limit) as cage:
        run = run_crawl(
            server,
            pages,
            None,  # EXTRACT_WORKERS as a user leaves it: sized to the cores and the limit
            folder,
            timeout=600 + pages * 0.5,
            scrapy=[*cage.prefix, *console_scrapy()],
            label=f"crawl-{pages}-under-{limit // MIB}MiB",
            sampler=TreeSampler([]),
        )
        return Checked(cage.how, cage.enforced, limit, run, cage.peak(), cage.oom_kills())


def render(checked: Checked, command: str, corpus: str) -> str:
    run = checked.run
    verdict = (
        "**completes**" if not checked.problems() else "**fails**: " + "; ".join(checked.problems())
    )
    table = markdown_table(
        [
            "limit (MiB)",
            "enforced by",
            "exit status",
            "pages",
            "rows written",
            "dropped",
            "wall s",
            "peak PSS, process tree (MiB)",
            "peak RSS, crawl process (MiB)",
            "cgroup's peak, page cache included (MiB)",
            "killed for memory",
        ],
        [
            [
                str(checked.limit // MIB),
                checked.cage,
                str(run.returncode),
                f"{run.article_responses:,}",
                f"{run.rows:,}",
                counts(run.drops),
                f"{run.wall:.1f}",
                f"**{mib(run.peak_tree_pss)}**",
                mib(run.peak_main_rss),
                mib(checked.cgroup_peak) if checked.cgroup_peak is not None else "-",
                str(checked.oom_kills) if checked.oom_kills is not None else "-",
            ]
        ],
    )
    how = (
        "in a memory cgroup of its own, the page server outside it"
        if checked.enforced
        else "**not enforced** (no cgroup or systemd at hand): the tree's peak PSS compared "
        "with the limit"
    )
    return "\n\n".join(
        [
            "## A 512 MiB container",
            (
                f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); machine: "
                f"{machine_line()}. A crawl of {run.size:,} pages of the throughput page set "
                f"(variants of the pages of `{corpus}`) over loopback, at default settings "
                "(`EXTRACT_WORKERS` unset: sized to the usable cores and the memory limit) "
                f"with the loopback settings of the throughput benchmark, under a memory "
                f"limit of {checked.limit // MIB} MiB, {how}."
            ),
            table,
            f"Under the limit the crawl {verdict}.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.container",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--pages", type=positive, default=DEFAULT_PAGES, help="pages to crawl")
    parser.add_argument(
        "--limit-mib", type=positive, default=DEFAULT_LIMIT_MIB, help="the memory limit"
    )
    parser.add_argument("--workdir", type=Path, help="keep the crawl's output and log here")
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-container"):
        return EXIT_NO_CORPUS
    quiet_noisy_loggers()
    with work_dir(args.workdir, "container") as folder:
        checked = check(args.pages, args.limit_mib * MIB, directory, folder)
    text = render(checked, command_of("bench.container", argv), str(directory))
    publish(text, SECTION, write=args.write_results)
    return 0 if not checked.problems() else 1


if __name__ == "__main__":
    sys.exit(main())
