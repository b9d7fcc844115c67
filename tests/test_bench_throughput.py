"""The crawl throughput benchmark on a few pages of ``demo/pages`` (the corpus's format), so that
``make test`` runs it without the corpus: a real run (server, baseline, crawls inline and with
one worker, the crawl with no item pipeline, stage costs) on 30 pages, and its report."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from bench.harness.corpus import EXIT_NO_CORPUS
from bench.harness.report import mib
from bench.stage_costs import TRAFILATURA
from bench.throughput import (
    Options,
    Results,
    floor_lines,
    main,
    parse_args,
    render,
    run_benchmark,
    target_lines,
)
from demo.site import PAGES_DIR

if TYPE_CHECKING:
    from pathlib import Path

PAGES = 30
ROUND_PAGES = 8


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    options = Options(
        sizes=(PAGES,),
        workers=(0, 1),
        baseline_pages=PAGES,
        stage_pages=PAGES,
        profile=False,
        rounds=1,
        round_pages=ROUND_PAGES,
    )
    return run_benchmark(options, PAGES_DIR, tmp_path_factory.mktemp("throughput"))


def test_baseline_and_stage_costs(results: Results) -> None:
    assert results.baseline.pages == PAGES
    assert results.baseline.pages_per_second > 0
    assert results.baseline.ours_pages_per_second > 0
    stages = results.stages
    assert stages is not None
    assert stages.pages == PAGES
    extract_cpu = stages.cpu_seconds["extract"] + stages.cpu_seconds["decode"]
    assert 0 < stages.cpu_seconds[TRAFILATURA] < extract_cpu
    assert "DuplicateArticle" not in stages.drops


def test_every_crawl_fetches_and_stores_the_articles(results: Results) -> None:
    stages = results.stages
    assert stages is not None
    expected = stages.rows  # articles among the pages, by the stages in process
    assert expected >= PAGES - 2
    assert [run.workers for run in results.crawls] == [0, 1]
    assert [run.workers for run in results.timed] == [0, 1]
    for run in results.timed:  # timed apart: processes and CPU read, no memory
        assert run.finished, run.log_file.read_text()
        assert run.article_responses == PAGES
        assert run.rows == expected
        assert run.cpu_seconds > 0
        assert run.peak_tree_pss == 0
        assert run.max_processes > 0
    assert results.timed[1].max_processes > results.timed[0].max_processes
    for run in results.crawls:
        assert run.finished, run.log_file.read_text()
        assert run.article_responses == PAGES
        assert run.rows == expected
        assert "DuplicateArticle" not in run.drops
        assert run.pages_per_second > 0
        assert run.cpu_seconds > 0
        assert 0 < run.peak_main_rss <= run.peak_tree_rss
        assert 0 < run.peak_tree_pss <= run.peak_tree_rss
        assert not run.log_problems
    assert results.crawls[1].max_processes > results.crawls[0].max_processes  # the workers
    fetched = results.fetch_only
    assert fetched is not None
    assert not fetched.pipelines
    assert fetched.returncode == 0, fetched.log_file.read_text()
    assert fetched.article_responses == PAGES
    assert fetched.rows == 0  # fetched, handed to no pipeline


def test_report_has_every_section(results: Results) -> None:
    assert floor_lines(results)
    text = render(results, "python -m bench.throughput")
    for heading in (
        "## Crawl throughput benchmark",
        "### Throughput",
        "### What the target needs",
        "### Memory",
        "### Cost per stage",
        "ratio to our extraction loop",
        "| **floor** |",
        "Run times: baseline",
    ):
        assert heading in text
    assert "### Where the time goes" not in text  # no profile asked for
    rows = [line for line in text.splitlines() if line.startswith(f"| {PAGES} | ")]
    assert [row.split(" | ")[1] for row in rows] == ["0", "1", "0", "1"]  # throughput, memory


def test_times_come_from_the_timed_crawls_and_memory_from_the_sampled(results: Results) -> None:
    text = render(results, "python -m bench.throughput")
    throughput, memory = text.split("### Memory")
    rows = [
        line.split(" | ") for line in throughput.splitlines() if line.startswith(f"| {PAGES} | ")
    ]
    assert [row[6] for row in rows] == [f"{run.wall:.1f}" for run in results.timed]  # wall s
    rows = [line.split(" | ") for line in memory.splitlines() if line.startswith(f"| {PAGES} | ")]
    assert [row[3] for row in rows] == [mib(run.peak_tree_pss) for run in results.crawls]
    assert "timed apart from those sampled for memory" in throughput
    together = replace(
        results,
        options=replace(results.options, sampling="together"),
        timed=results.crawls,
    )
    text = render(together, "python -m bench.throughput")
    assert "sampled for memory as they ran" in text
    for sampled in results.crawls:
        assert f"| {sampled.wall:.1f} |" in text
    assert parse_args([]).sampling == "apart"
    assert parse_args(["--sampling", "together"]).sampling == "together"
    with pytest.raises(SystemExit):
        parse_args(["--sampling", "never"])


def test_a_round_is_judged_against_the_loops_around_it(results: Results) -> None:
    (one,) = results.rounds
    assert one.before.pages == one.after.pages == ROUND_PAGES
    assert one.before.ours_seconds == 0  # the rounds' loops are trafilatura's alone
    assert [run.workers for run in one.crawls] == [0, 1]
    for run in one.crawls:
        assert run.finished, run.log_file.read_text()
        assert run.article_responses == PAGES
        loops = (one.before.pages_per_second + one.after.pages_per_second) / 2
        assert one.ratio(run) == pytest.approx(run.pages_per_second / loops)
    text = render(results, "python -m bench.throughput")
    assert "### Rounds" in text
    assert f"{PAGES} pages, EXTRACT_WORKERS=1: median **{one.ratio(one.crawls[1]):.2f}**" in text
    # the target is judged on the rounds' median, not on the first timed crawl
    as_default = [replace(run, workers=None) if run.workers == 1 else run for run in results.timed]
    judged = replace(
        results,
        options=replace(results.options, workers=(0, None)),
        timed=tuple(as_default),
        rounds=(replace(one, crawls=(one.crawls[0], replace(one.crawls[1], workers=None))),),
    )
    (target,) = [line for line in target_lines(judged) if line.startswith("Target:")]
    expected = one.ratio(one.crawls[1])
    assert f": {expected:.2f} (the median of 1 rounds, below)" in target
    # a round's crawl that went wrong is said, as the first crawls are
    broken = replace(one, crawls=(one.crawls[0], replace(one.crawls[1], log_problems=("boom",))))
    assert "Log (30, 1): `boom`" in target_lines(replace(results, rounds=(broken,)))
    assert "Log (30, 1): `boom`" not in target_lines(results)
    assert parse_args(["--rounds", "3", "--round-pages", "100"]).rounds == 3
    assert parse_args([]).rounds == 0


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--sizes", "10"]) == EXIT_NO_CORPUS
    assert "No corpus found" in capsys.readouterr().err


def test_settings_for_every_crawl_are_parsed_and_named_in_the_report(results: Results) -> None:
    args = parse_args(["--set", "EXTRACT_COMMENTS=False", "--set", "EXTRACT_SECOND_OPINION=0"])
    assert args.set == [("EXTRACT_COMMENTS", "False"), ("EXTRACT_SECOND_OPINION", "0")]
    for bad in ("EXTRACT_COMMENTS", "=False", "extract_comments=False"):
        with pytest.raises(SystemExit):
            parse_args(["--set", bad])
    assert "Every crawl with" not in render(results, "python -m bench.throughput")
    lean = replace(results, options=replace(results.options, settings=tuple(args.set)))
    text = render(lean, "python -m bench.throughput")
    assert "Every crawl with `EXTRACT_COMMENTS=False`, `EXTRACT_SECOND_OPINION=0`." in text
