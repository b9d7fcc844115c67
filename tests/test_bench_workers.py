"""The Redis-mode worker benchmark on a few dozen pages of ``demo/pages`` (the corpus's format),
so that ``make test`` runs it without the corpus: one embedded crawl and Redis crawls with one
and two workers, each fresh, with the bench's own checks; and the messages when the corpus or
redis-server is missing. Skipped without redis-server (``tests/redis_server.py``)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from bench.harness.corpus import EXIT_NO_CORPUS
from bench.workers import (
    EXIT_NO_REDIS,
    SITEMAPS,
    Options,
    Requests,
    Results,
    Setup,
    main,
    render,
    run_benchmark,
    sitemap_urls,
)
from demo.site import PAGES_DIR
from tests.redis_server import find_redis_server

if TYPE_CHECKING:
    from pathlib import Path

PAGES = 24


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    binary = find_redis_server()
    if binary is None:
        pytest.skip(
            "redis-server is not installed (Debian package redis-server; .ci/run installs it)"
        )
    options = Options(pages=PAGES, workers=(1, 2), extract_workers=(None,), embedded=True)
    return run_benchmark(options, PAGES_DIR, tmp_path_factory.mktemp("workers"), binary)


def test_every_run_fetches_and_stores_every_article_once(results: Results) -> None:
    assert [run.setup for run in results.runs] == [
        Setup(None, None),
        Setup(1, None),
        Setup(2, None),
    ]
    embedded = results.runs[0]
    expected = set(embedded.urls)
    assert len(expected) >= PAGES - 2  # articles among the pages (a demo page may not be one)
    for run in results.runs:
        logs = "\n".join(log.read_text()[-2000:] for log in run.log_files if log.exists())
        assert not results.problems(run), (run.setup, results.problems(run), logs)
        assert all(code == 0 for code in run.returncodes)
        assert len(run.reports) == run.setup.processes
        assert run.article_responses == PAGES
        assert sum(run.pages_by_worker) == PAGES
        # the server's counts: every article page once, every sitemap once
        articles = {p: n for p, n in run.requests.counts.items() if p.startswith("/a/")}
        assert len(articles) == PAGES
        assert set(articles.values()) == {1}
        sitemaps = {p: n for p, n in run.requests.counts.items() if p.startswith("/sitemaps/")}
        assert len(sitemaps) == SITEMAPS + 1
        assert set(sitemaps.values()) == {1}
        # robots.txt: once by every process that fetched anything
        fetching = sum(1 for pages in run.pages_by_worker if pages)
        assert fetching <= run.requests.counts["/robots.txt"] <= run.setup.processes
        # the dataset: every article once, the same ones in every mode
        assert run.rows == len(run.urls) == len(expected)
        assert set(run.urls) == expected
        assert run.pages_per_second > 0
        assert run.cpu_seconds > 0
        assert run.other_cpu_seconds >= 0
        assert run.startup > 0
        assert run.requests.span >= 0
        assert run.tail > 0
        assert 0 < run.startup + run.requests.span + run.tail <= run.wall + 0.5


def test_redis_is_measured_and_left_clean(results: Results) -> None:
    assert results.runs[0].redis is None  # embedded mode
    for run in results.runs[1:]:
        usage = run.redis
        assert usage is not None
        assert usage.used_memory > usage.empty_memory > 0
        assert usage.peak_memory >= usage.used_memory
        assert usage.commands > PAGES  # several per page
        assert usage.cpu_seconds > 0
        assert {"state:urls", "state:hashes", "near:signatures", "near:bands:*"} <= set(
            usage.families
        )
        assert usage.command_calls["evalsha"] > 0  # the frontier's and the claims' scripts
        keys, size = usage.families["state:urls"]
        assert keys == 1
        assert size > 0
        assert usage.left == {
            "queued": 0,
            "in flight": 0,
            "parsed": 0,
            "claims": 0,
            "workers": 0,
        }


def test_checks_catch_doubles_and_misses(results: Results) -> None:
    run = results.runs[2]
    counts = dict(run.requests.counts)
    article = next(path for path in counts if path.startswith("/a/"))
    counts[article] = 2
    url = next(iter(run.urls))
    doubled = dataclasses.replace(
        run,
        requests=Requests(counts, run.requests.first, run.requests.last),
        urls=Counter({**run.urls, url: 2}),
    )
    problems = results.problems(doubled)
    assert "1 article pages fetched more than once" in problems
    assert "1 URLs stored more than once" in problems
    missing = dataclasses.replace(run, urls=Counter(dict(list(run.urls.items())[1:])))
    assert any("1 missing" in problem for problem in results.problems(missing))


def test_report_has_a_row_per_run_and_the_ratios(results: Results) -> None:
    text = render(results, "python -m bench.workers --pages 24")
    for heading in ("## Redis mode: worker processes", "### Throughput", "### Checks", "### Redis"):
        assert heading in text
    lines = text.splitlines()
    throughput = [line for line in lines if line.startswith(("| embedded | 1 |", "| Redis | "))]
    assert [line.split(" | ")[:3] for line in throughput] == [
        ["| embedded", "1", "default"],
        ["| Redis", "1", "default"],
        ["| Redis", "2", "default"],
    ]
    # ratios: the one-worker Redis run against itself, the embedded run against itself
    assert throughput[1].split(" | ")[10] == "1.00"
    assert throughput[0].split(" | ")[11] == "1.00"
    checks = [line for line in lines if line.endswith("| ok |")]
    assert len(checks) == 3
    assert "`bench:near:bands:*`" in text
    assert "processes that finished while others still fetched" in text
    assert "ms of CPU per page" in text
    assert "Commands per article response, Redis, 2 workers" in text


def test_helpers() -> None:
    assert sitemap_urls(2000) == 250
    assert sitemap_urls(24) == 3
    assert sitemap_urls(3) == 1


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--pages", "10"]) == EXIT_NO_CORPUS
    error = capsys.readouterr().err
    assert "No corpus found" in error
    assert "NEWS_CORPUS_DIR" in error


def test_missing_redis_server_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(PAGES_DIR))
    monkeypatch.setenv("REDIS_SERVER", str(tmp_path / "no-redis-server"))
    assert main(["--pages", "10"]) == EXIT_NO_REDIS
    error = capsys.readouterr().err
    assert "No redis-server found" in error
    assert "apt-get install redis-server" in error
