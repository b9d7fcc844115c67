"""Discovery and incremental crawls of a whole site from its home page (``-a sites=``)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from demo.site import base_url, serve
from tests.conftest import ROOT, CrawlResult, dataset_rows, run_crawl
from tests.newssite import NewsSite

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def news_site() -> NewsSite:
    return NewsSite.build()


@pytest.fixture(scope="module")
def server(news_site: NewsSite) -> Iterator[Any]:
    with serve(news_site) as running:  # type: ignore[arg-type]
        yield running


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("discovery")


def _crawl(out: Path, server: Any) -> CrawlResult:
    before = len(server.requested)
    result = run_crawl(out, "-a", f"sites={base_url(server)}/")
    result.requested = server.requested[before:]
    return result


def _stored(out: Path, server: Any) -> list[str]:
    rows = dataset_rows(out)
    return [row["url"].removeprefix(base_url(server)) for row in rows]


@pytest.fixture(scope="module")
def first(out: Path, server: Any) -> CrawlResult:
    return _crawl(out, server)


def test_one_crawl_finds_every_article(
    first: CrawlResult, out: Path, server: Any, news_site: NewsSite
) -> None:
    assert first.returncode == 0, first.log[-3000:]
    assert sorted(_stored(out, server)) == sorted(a.path for a in news_site.articles)


def test_every_discovery_path_was_used(first: CrawlResult) -> None:
    requested = set(first.requested)
    assert {
        "/robots.txt",
        "/sitemap_index.xml",
        "/news-sitemap.xml",
        "/sitemap-archive.xml",
    } <= requested
    assert {"/rss.xml", "/atom.xml", "/world/", "/world/page/2/", "/tag/elections/"} <= requested
    assert first.stats["news/discovery/feeds"] == 2
    assert first.stats["news/discovery/sitemaps"] == 3


def test_listings_are_never_stored(first: CrawlResult, out: Path, server: Any) -> None:
    stored = set(_stored(out, server))
    assert not stored & {"/", "/world/", "/world/page/2/", "/tag/elections/", "/about/"}


def test_disallowed_path_is_never_requested(first: CrawlResult, news_site: NewsSite) -> None:
    assert news_site.private_path not in first.requested
    assert first.stats.get("robotstxt/forbidden", 0) >= 1


def test_source_column_carries_the_host(first: CrawlResult, out: Path) -> None:
    rows = dataset_rows(out)
    assert {row["source"] for row in rows} == {"127.0.0.1"}
    assert {row["source_name"] for row in rows} == {None}  # no named source (-a sites=)


@pytest.fixture(scope="module")
def second(first: CrawlResult, out: Path, server: Any) -> CrawlResult:
    return _crawl(out, server)


def test_second_crawl_downloads_no_known_article(
    second: CrawlResult, out: Path, server: Any, news_site: NewsSite
) -> None:
    assert second.returncode == 0, second.log[-3000:]
    assert not {a.path for a in news_site.articles} & set(second.requested)
    assert len(_stored(out, server)) == len(news_site.articles)
    assert second.stats.get("news/parquet/rows_written", 0) == 0


@pytest.fixture(scope="module")
def third(
    second: CrawlResult, out: Path, server: Any, news_site: NewsSite
) -> tuple[CrawlResult, list[str]]:
    new = news_site.publish(3)
    return _crawl(out, server), [a.path for a in new]


def test_third_crawl_adds_exactly_the_new_articles(
    third: tuple[CrawlResult, list[str]], out: Path, server: Any, news_site: NewsSite
) -> None:
    result, new = third
    assert result.returncode == 0, result.log[-3000:]
    article_requests = [p for p in result.requested if p in {a.path for a in news_site.articles}]
    assert sorted(article_requests) == sorted(new)
    stored = _stored(out, server)
    assert sorted(stored) == sorted(a.path for a in news_site.articles)
    assert result.stats["news/parquet/rows_written"] == len(new)


@pytest.fixture(scope="module")
def fourth(
    third: tuple[CrawlResult, list[str]], out: Path, server: Any, news_site: NewsSite
) -> tuple[CrawlResult, str, datetime]:
    revised = news_site.listed("archive-sitemap")[0]
    lastmod = datetime.now(UTC).replace(microsecond=0)
    news_site.revise(revised, lastmod.isoformat())
    return _crawl(out, server), revised.path, lastmod


def test_a_changed_article_is_stored_again_as_a_new_version(
    fourth: tuple[CrawlResult, str, datetime], out: Path, server: Any
) -> None:
    result, path, lastmod = fourth
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["news/incremental/refetched"] == 1
    assert result.stats["news/parquet/rows_written"] == 1
    rows = [row for row in dataset_rows(out) if row["url"].endswith(path)]
    assert len(rows) == 2
    old, new = sorted(rows, key=lambda row: row["fetched_at"])
    assert old["content_hash"] != new["content_hash"]
    assert new["text"].startswith("Update 1:")
    assert new["modified_at"] == lastmod  # the sitemap's lastmod, the page gives none


SOURCES = """
[[source]]
name = "fixture-news"
home = "{home}"
allow = ['/2024/05/']
"""


def test_a_sources_file_names_the_source(tmp_path: Path, server: Any, news_site: NewsSite) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(SOURCES.format(home=f"{base_url(server)}/"), encoding="utf-8")
    result = run_crawl(tmp_path / "out", "-a", f"sources={sources}")
    assert result.returncode == 0, result.log[-3000:]
    rows = dataset_rows(tmp_path / "out")
    assert len(rows) == len(news_site.articles)
    # the configured source's name, and the publishing host (what the summary counts)
    assert {row["source_name"] for row in rows} == {"fixture-news"}
    assert {row["source"] for row in rows} == {"127.0.0.1"}
    completed = subprocess.run(
        [sys.executable, "-m", "scrapy", "summary", "-s", f"OUTPUT_DIR={tmp_path / 'out'}"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    assert f"sources    1: 127.0.0.1 ({len(rows)})" in completed.stdout
