"""The nothing-new benchmark (bench/nothing_new.py): one real round in this checkout, and its
table from made-up runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.harness.report import MIB
from bench.nothing_new import Run, crawl_command, problem_lines, render, run_benchmark, table
from bench.worker_memory import Checkout, describe
from pipelines.stats import (
    EXTRACT_ARTICLES,
    FETCH_PAGES,
    INCREMENTAL_KNOWN_SKIPPED,
    PARQUET_ROWS_WRITTEN,
)
from tests.conftest import ROOT

BASELINE = Checkout("baseline", Path("/tmp/before"), "7de0d9c")
THIS = Checkout("this checkout", ROOT, "4d8df55")
NOTHING_NEW = {INCREMENTAL_KNOWN_SKIPPED.name: 42}


def _run(wall: float, cpu: float, pss_mib: int, processes: int, **stats: int) -> Run:
    return Run(0, wall, cpu, pss_mib * MIB, processes, {**NOTHING_NEW, **stats})


def test_a_run_that_finds_nothing_new_is_the_crawl_process_alone(tmp_path: Path) -> None:
    # what commit 4d8df55 changed: no extraction worker (nor fork server) until an article
    # page is requested, and a run that finds nothing new requests none
    checkout = describe(ROOT, "this checkout")
    results = run_benchmark([checkout], 1, tmp_path)
    [run] = results[checkout]
    assert run.status == 0, run.log_file
    assert run.processes == 1
    assert run.known_skipped >= 41  # the site's 41 articles (a sitemap lists one twice)
    assert run.found == {"article pages fetched": 0, "articles extracted": 0, "rows written": 0}
    assert run.nothing_new
    assert 0 < run.peak_pss < 400 * MIB
    assert run.cpu_seconds > 0
    assert not problem_lines(results)


def test_the_runs_crawl_the_feed_and_sitemaps_alone() -> None:
    # the demo's given URLs include a missing article, fetched again by every run
    command = crawl_command("http://127.0.0.1:1", Path("out"), Path("log"))
    arguments = [command[i + 1] for i, part in enumerate(command) if part == "-a"]
    assert arguments == [
        "feeds=http://127.0.0.1:1/feed.xml",
        "sitemaps=http://127.0.0.1:1/sitemap.xml",
    ]


def test_the_table_shows_medians_ranges_and_the_ratio() -> None:
    results = {
        BASELINE: [_run(3.0, 4.0, 221, 5), _run(2.8, 3.0, 219, 4), _run(4.1, 4.2, 230, 5)],
        THIS: [_run(2.0, 2.0, 120, 1), _run(1.7, 1.8, 118, 1), _run(2.3, 2.2, 121, 1)],
    }
    shown = table(results)
    assert (
        "| baseline (`7de0d9c`) | 3 | 0 | 3.00 (2.80–4.10) | 4.00 (3.00–4.20) | **221 (219–230)** "
        "| 4, 5 | 42 | 0 | 0 |"
    ) in shown
    assert (
        "| this checkout (`4d8df55`) | 3 | 0 | 2.00 (1.70–2.30) | 2.00 (1.80–2.20) "
        "| **120 (118–121)** | 1 | 42 | 0 | 0 |"
    ) in shown
    assert (
        "| **ratio** of the medians, this checkout / baseline |  |  | × 0.67 | × 0.50 | **× 0.54** "
        "|  |  |  |  |"
    ) in shown
    assert len(shown.splitlines()) == 5


def test_one_checkout_has_no_ratio() -> None:
    shown = table({THIS: [_run(2.0, 2.0, 120, 1)]})
    assert "| this checkout (`4d8df55`) | 1 | 0 | 2.00 | 2.00 | **120** | 1 | 42 | 0 | 0 |" in shown
    assert "ratio" not in shown


@pytest.mark.parametrize(
    ("run", "said"),
    [
        (_run(2.0, 2.0, 120, 3, **{FETCH_PAGES.name: 1}), "article pages fetched 1"),
        (
            _run(2.0, 2.0, 120, 3, **{EXTRACT_ARTICLES.name: 41, PARQUET_ROWS_WRITTEN.name: 41}),
            "articles extracted 41, rows written 41",
        ),
        (_run(2.0, 2.0, 120, 1, **{INCREMENTAL_KNOWN_SKIPPED.name: 0}), "skipped 0"),
        (Run(1, 2.0, 2.0, 120 * MIB, 1, NOTHING_NEW), "exit status 1"),
    ],
)
def test_a_run_that_found_something_is_named(run: Run, said: str) -> None:
    results = {BASELINE: [_run(3.0, 4.0, 221, 5), run], THIS: [_run(2.0, 2.0, 120, 1)]}
    [line] = problem_lines(results)
    assert line.startswith("**Run 2 of the baseline did not find nothing new**")
    assert said in line
    text = render(results, "python -m bench.nothing_new", "2 CPUs", [1.8, 1.9])
    assert line in text
    assert "Every run found nothing new" not in text


def test_the_report_says_how_it_was_run() -> None:
    text = render(
        {THIS: [_run(2.0, 2.0, 120, 1)]}, "python -m bench.nothing_new", "2 CPUs", [1.8, 1.9]
    )
    assert text.startswith(
        "## A crawl that finds nothing new\n\nCommand: `python -m bench.nothing_new` ("
    )
    assert "machine: 2 CPUs; its speed of the hour:" in text
    assert "took 1.80, 1.90 s (before the runs, after them)" in text
    assert text.rstrip().endswith(
        "Every run found nothing new: known articles skipped, no article page fetched, nothing "
        "extracted or written."
    )
