"""The crawl throughput benchmark on a few pages of ``demo/pages`` (the corpus's format), so that
``make test`` runs it without the corpus: the page variants, and a real benchmark run (server,
baseline, crawls inline and with one worker, stage costs) on 30 pages."""

from __future__ import annotations

import cProfile
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from bench.extraction import EXIT_NO_CORPUS, load_pages
from bench.throughput import (
    TRAFILATURA,
    Options,
    PageSet,
    floor_of,
    load_templates,
    main,
    package_group,
    read_body,
    render,
    run_benchmark,
    serving,
    sitemap_index_path,
    summarize_profile,
)
from demo.site import PAGES_DIR
from pipelines.extract import extract_article
from pipelines.language import LanguageDetector
from pipelines.near_duplicates import Signer, similarity
from pipelines.record import article_record

if TYPE_CHECKING:
    from pathlib import Path

PAGES = 30


@pytest.fixture(scope="module")
def pages() -> PageSet:
    return PageSet(load_templates(PAGES_DIR))


def test_variants_keep_the_page_but_not_its_text(pages: PageSet) -> None:
    signer, detector = Signer(), LanguageDetector()
    originals = load_pages(PAGES_DIR)
    count = len(pages.templates)
    assert count == len(originals)
    for index in range(0, count, 4):
        original = read_body(originals[index].file)
        first, second = pages.body(index), pages.body(index + count)  # two variants of one page
        assert pages.template(index) is pages.template(index + count)
        assert pages.path(index) != pages.path(index + count)
        assert first != second
        assert 0.9 < len(first) / len(original) < 1.1  # same markup, about the same size
        rows = [
            article_record(body, f"http://127.0.0.1/a/{n}.html", detector=detector)
            for n, body in enumerate((original, first, second))
        ]
        assert len({row["content_hash"] for row in rows}) == 3
        assert len({row["canonical_url"] for row in rows}) == 3
        assert rows[1]["language"] == rows[0]["language"]
        signatures = [signer.signature(row["text"]) for row in rows]
        assert all(signature is not None for signature in signatures)
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert similarity(signatures[a], signatures[b]) < 0.5, (originals[index].id, a, b)


def test_server_lists_and_serves_the_pages(pages: PageSet) -> None:
    with serving(pages, 45) as server:
        with urllib.request.urlopen(server.base_url + "/robots.txt") as response:
            assert b"Allow: /" in response.read()
        with urllib.request.urlopen(server.base_url + sitemap_index_path(45)) as response:
            index = response.read().decode()
        assert index.count("<sitemap>") == 1
        with urllib.request.urlopen(f"{server.base_url}/sitemaps/45/0.xml") as response:
            sitemap = response.read().decode()
        assert sitemap.count("<url>") == 45
        assert f"{server.base_url}{pages.path(44)}" in sitemap
        with urllib.request.urlopen(server.base_url + pages.path(44)) as response:
            assert response.read() == pages.body(44)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(server.base_url + pages.path(45))  # beyond the set
        assert missing.value.code == 404
        missing.value.close()


def test_benchmark_run_on_a_few_pages(tmp_path: Path) -> None:
    options = Options(
        sizes=(PAGES,), workers=(0, 1), baseline_pages=PAGES, stage_pages=PAGES, profile=False
    )
    results = run_benchmark(options, PAGES_DIR, tmp_path)
    assert results.baseline.pages == PAGES
    assert results.baseline.pages_per_second > 0
    assert results.baseline.ours_pages_per_second > 0
    assert results.stages is not None
    # trafilatura's work is part of extract, and most of it
    extract_cpu = results.stages.cpu_seconds["extract"] + results.stages.cpu_seconds["decode"]
    assert 0.3 * extract_cpu < results.stages.cpu_seconds[TRAFILATURA] < extract_cpu
    expected = results.stages.rows  # articles among the pages, by the stages in process
    assert expected >= PAGES - 2
    assert "DuplicateArticle" not in results.stages.drops
    assert [run.workers for run in results.crawls] == [0, 1]
    for run in results.crawls:
        assert run.returncode == 0, run.log_file.read_text()
        assert run.report["finish_reason"] == "finished"
        assert run.article_responses == PAGES
        assert run.rows == expected
        assert "DuplicateArticle" not in run.drops
        assert run.pages_per_second > 0
        assert run.cpu_seconds > 0
        assert 0 < run.peak_main_rss <= run.peak_tree_rss
        assert not run.log_problems
    fetched = results.fetch_only
    assert fetched is not None
    assert not fetched.pipelines
    assert fetched.returncode == 0, fetched.log_file.read_text()
    assert fetched.article_responses == PAGES
    assert fetched.rows == 0  # fetched, handed to no pipeline
    floor = floor_of(results)
    assert floor is not None
    assert floor.trafilatura > 0
    assert floor.language > 0
    assert floor.fetching > 0
    assert floor.total == floor.trafilatura + floor.language + floor.fetching + floor.server
    text = render(results, "python -m bench.throughput")
    for heading in (
        "### Throughput",
        "### Memory",
        "### Cost per stage",
        "### What the target needs",
        "ratio to our extraction loop",
        "ratio to",
    ):
        assert heading in text


def test_profile_summary_groups_by_package(pages: PageSet, tmp_path: Path) -> None:
    body = pages.body(3)
    profiler = cProfile.Profile()
    profiler.runcall(extract_article, body, "http://127.0.0.1/a/3.html", "text/html")
    profiler.dump_stats(tmp_path / "extract.prof")
    summary = summarize_profile(tmp_path / "extract.prof")
    assert summary.total_seconds > 0
    assert {"trafilatura, lxml, htmldate", "ours (crawler/, pipelines/)"} <= set(summary.groups)
    assert package_group("~", "<method 'execute' of 'sqlite3.Connection' objects>") == "sqlite3"
    assert package_group("~", "<method 'poll' of 'select.epoll' objects>").startswith("waiting")


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--sizes", "10"]) == EXIT_NO_CORPUS
    assert "No corpus found" in capsys.readouterr().err
