"""Kill -9 at random moments: nothing committed is damaged, nothing is lost or doubled.

The demo site is served on 127.0.0.1; ``scrapy crawl news`` over its feed and sitemap is killed
with SIGKILL at a random moment, ``--runs`` times in a row into the same output directory
(files are committed every few articles, so kills land before, during and after commits).
After each kill every committed Parquet file must read, and nothing but committed files may be
visible under ``articles/``. Then the same crawl runs to its end, and its dataset must hold
exactly the articles of an uninterrupted reference crawl, each once, and the crawl state must
list exactly the files on disk.

    python -m bench.kill_crawl [--runs 5] [--seed 1] [--write-results]
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from bench.harness.corpus import ROOT
from bench.harness.crawls import stored_urls
from bench.harness.report import machine_line, publish
from dataset.layout import DATA_SUFFIX, data_files
from demo.site import base_url, load_site, serve

SECTION = "kill_crawl"
SETTINGS = (
    "AUTOTHROTTLE_ENABLED=False",
    "DOWNLOAD_DELAY=0",
    # commit often, so that kills land around commits
    "PARQUET_ROW_GROUP_ROWS=2",
    "PARQUET_FILE_ROWS=4",
    "LOG_LEVEL=INFO",
)


@dataclass
class KillRun:
    after: float
    """Seconds after the start when the crawl was killed."""
    killed: bool
    """Whether it was still running then (else it had finished)."""
    committed_files: int
    rows: int
    unreadable: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    """Entries under ``articles/`` that are not committed data files."""


@dataclass
class Outcome:
    runs: list[KillRun]
    reference_urls: int
    final_urls: int
    missing: list[str]
    doubled: list[str]
    extra: list[str]
    state_matches_files: bool

    @property
    def ok(self) -> bool:
        return (
            not self.missing
            and not self.doubled
            and not self.extra
            and self.state_matches_files
            and all(not run.unreadable and not run.stray for run in self.runs)
        )


def crawl_command(output_dir: Path, site: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    command += ["-a", f"feeds={site}/feed.xml", "-a", f"sitemaps={site}/sitemap.xml"]
    for setting in (f"OUTPUT_DIR={output_dir}", *SETTINGS):
        command += ["-s", setting]
    return [*command, "--logfile", str(output_dir / "crawl.log")]


def run_to_end(output_dir: Path, site: str) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(crawl_command(output_dir, site), cwd=ROOT, check=True, timeout=600)


def kill_after(output_dir: Path, site: str, seconds: float) -> bool:
    """Start the crawl and SIGKILL it after ``seconds``; whether it was still running."""
    output_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(crawl_command(output_dir, site), cwd=ROOT)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True
    return False


def inspect(output_dir: Path, after: float, killed: bool) -> KillRun:
    articles = output_dir / "articles"
    files = data_files(articles)
    run = KillRun(after=after, killed=killed, committed_files=len(files), rows=0)
    for path in files:
        try:
            run.rows += pq.read_table(path).num_rows
        except Exception as exc:
            run.unreadable.append(f"{path.name}: {exc}")
    if articles.is_dir():
        run.stray = sorted(
            str(path.relative_to(articles))
            for path in articles.rglob("*")
            if path.is_file() and not path.name.endswith(DATA_SUFFIX)
        )
    return run


def state_matches_files(output_dir: Path) -> bool:
    with sqlite3.connect(output_dir / "state" / "crawl-state.sqlite3") as db:
        recorded = {name for (name,) in db.execute("SELECT name FROM files")}
    articles = output_dir / "articles"
    return recorded == {path.relative_to(articles).as_posix() for path in data_files(articles)}


def run(runs: int, seed: int, workdir: Path) -> Outcome:
    generator = random.Random(seed)
    with serve(load_site()) as server:
        site = base_url(server)
        reference = workdir / "reference"
        started = time.monotonic()
        run_to_end(reference, site)
        full = time.monotonic() - started
        killed_dir = workdir / "killed"
        results = []
        for _ in range(runs):
            after = generator.uniform(0.3, max(full * 0.9, 1.0))
            killed = kill_after(killed_dir, site, after)
            results.append(inspect(killed_dir, after, killed))
        run_to_end(killed_dir, site)
    expected, found = stored_urls(reference), stored_urls(killed_dir)
    return Outcome(
        runs=results,
        reference_urls=len(expected),
        final_urls=len(found),
        missing=sorted(set(expected) - set(found)),
        doubled=sorted(url for url, count in found.items() if count > 1),
        extra=sorted(set(found) - set(expected)),
        state_matches_files=state_matches_files(killed_dir),
    )


def report(outcome: Outcome, command: str) -> str:
    lines = [
        "## Kill -9 during crawls",
        "",
        (
            f"Command: `{command}`; machine: {machine_line()}. The demo site's feed and "
            "sitemap, crawled into one output directory, the crawl killed with SIGKILL at a "
            "random moment each run (files committed every 4 articles), then run to its end; "
            "compared with an uninterrupted crawl of the same site."
        ),
        "",
        (
            "| run | killed after s | still running | committed files | rows | unreadable files"
            " | stray entries under articles/ |"
        ),
        "|---|---|---|---|---|---|---|",
    ]
    for number, kill in enumerate(outcome.runs, 1):
        lines.append(
            f"| {number} | {kill.after:.2f} | {'yes' if kill.killed else 'no'} | "
            f"{kill.committed_files} | {kill.rows} | {len(kill.unreadable)} | {len(kill.stray)} |"
        )
    lines += [
        "",
        (
            f"Final dataset: {outcome.final_urls} articles, reference {outcome.reference_urls}; "
            f"missing {len(outcome.missing)}, stored twice {len(outcome.doubled)}, unexpected "
            f"{len(outcome.extra)}; crawl state lists exactly the files on disk: "
            f"{'yes' if outcome.state_matches_files else 'no'}."
        ),
        "",
        "**Nothing lost or duplicated.**" if outcome.ok else "**FAILED.**",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5, help="kills in a row (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the kill times")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kill-crawl-") as folder:
        outcome = run(args.runs, args.seed, Path(folder))
    command = "python -m bench.kill_crawl " + " ".join(argv if argv is not None else sys.argv[1:])
    publish(report(outcome, command.strip()), SECTION, write=args.write_results)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
