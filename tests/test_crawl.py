"""End to end: real ``scrapy crawl news`` runs against the local demo site, the dataset read
back with pyarrow and checked field by field."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset.layout import data_files
from dataset.schema import ARTICLE_SCHEMA
from demo.site import Response as Route
from tests.conftest import CrawlResult, dataset_rows, run_crawl
from tests.hostile_site import serve
from tests.newssite import Article
from tests.test_extractor import GOLDEN_DIR, SEED_BOILERPLATE, SEED_PARAGRAPHS

if TYPE_CHECKING:
    from pathlib import Path

    from demo.site import Site

# Fields that depend on the crawl (where and when), not on the page.
CRAWL_FIELDS = {"id", "url", "fetched_at", "discovered_via", "canonical_url", "source"}


@pytest.fixture(scope="module")
def crawl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crawl")


def _arguments(site_url: str) -> tuple[str, ...]:
    urls = [
        f"{site_url}/articles/seed/sputnik-africa-shoigu.html",
        f"{site_url}/",
        f"{site_url}/bad/photo.png",
        f"{site_url}/bad/report.pdf",
        f"{site_url}/bad/empty.html",
        f"{site_url}/bad/binary.html",
        f"{site_url}/bad/contact.html",
        f"{site_url}/bad/missing.html",
        f"{site_url}/bad/server-error.html",
        f"{site_url}/private/secret.html",
    ]
    return (
        "-a", "urls=" + ",".join(urls),
        "-a", f"feeds={site_url}/feed.xml,{site_url}/bad/not-a-feed.xml",
        "-a", f"sitemaps={site_url}/sitemap.xml,{site_url}/bad/not-a-sitemap.xml",
    )  # fmt: skip


REJECTED = {
    "/bad/photo.png": "NotHtml",
    "/bad/report.pdf": "NotHtml",
    "/bad/binary.html": "NotHtml",
    "/bad/contact.html": "NotAnArticle",
}
"""The pages of the first crawl dropped as no article, and why."""


@pytest.fixture(scope="module")
def first_crawl(crawl_dir: Path, site_url: str) -> CrawlResult:
    return run_crawl(crawl_dir, *_arguments(site_url))


@pytest.fixture(scope="module")
def dataset(first_crawl: CrawlResult, crawl_dir: Path) -> list[dict[str, Any]]:
    assert first_crawl.returncode == 0, first_crawl.log[-3000:]
    files = data_files(crawl_dir / "articles")
    return [row for path in files for row in pq.read_table(path).to_pylist()]


@pytest.fixture(scope="module")
def second_crawl(
    dataset: list[dict[str, Any]], crawl_dir: Path, site_url: str, site_server: Any
) -> CrawlResult:
    # Depends on `dataset` so that the first crawl's rows were read before this runs.
    before = len(site_server.requested)
    result = run_crawl(crawl_dir, *_arguments(site_url))
    result.requested = site_server.requested[before:]
    return result


def _path(row: dict[str, Any], site_url: str) -> str:
    return row["url"].removeprefix(site_url)


def test_crawl_succeeds_without_tracebacks(first_crawl: CrawlResult) -> None:
    assert first_crawl.returncode == 0
    assert "Traceback" not in first_crawl.log
    assert " ERROR: " not in first_crawl.log
    assert first_crawl.report["finish_reason"] == "finished"


def test_one_row_per_article(dataset: list[dict[str, Any]], site: Site, site_url: str) -> None:
    paths = [_path(row, site_url) for row in dataset]
    assert sorted(paths) == sorted(page.path for page in site.pages)


def test_files_have_the_declared_schema(crawl_dir: Path, first_crawl: CrawlResult) -> None:
    files = data_files(crawl_dir / "articles")
    assert files
    for path in files:
        assert path.parent.name.startswith("fetch_date=")
        schema = pq.read_schema(path)
        assert schema.equals(ARTICLE_SCHEMA, check_metadata=True)
    assert not list((crawl_dir / "state" / "tmp").iterdir()), "temporary files left behind"


def test_rows_match_the_golden_extraction(
    dataset: list[dict[str, Any]], site_url: str, first_crawl: CrawlResult
) -> None:
    started = datetime.fromisoformat(first_crawl.report["started_at"])
    finished = datetime.fromisoformat(first_crawl.report["finished_at"])
    for row in dataset:
        path = _path(row, site_url)
        golden = json.loads(
            (
                GOLDEN_DIR / (path.removeprefix("/articles/").removesuffix(".html") + ".json")
            ).read_text(encoding="utf-8")
        )
        for name, value in row.items():
            if name in CRAWL_FIELDS:
                continue
            expected = golden[name]
            if isinstance(value, datetime):
                expected = datetime.fromisoformat(expected)
            assert value == expected, f"{path}: {name}"
        assert row["url"] == site_url + path
        assert started <= row["fetched_at"] <= finished
        assert row["fetched_at"].tzinfo is not None
        if golden["canonical_url"].startswith("http://demo.test/"):
            # no canonical link on the page: the fetched URL stands in
            assert row["canonical_url"] == row["url"]
            assert row["source"] == "127.0.0.1"
        else:
            assert row["canonical_url"] == golden["canonical_url"]
            assert row["source"] == golden["source"]


def test_discovery_paths(dataset: list[dict[str, Any]], site: Site, site_url: str) -> None:
    via = {_path(row, site_url): row["discovered_via"] for row in dataset}
    assert via["/articles/seed/sputnik-africa-shoigu.html"] == "url"
    listed_twice = site.pages[0].path
    for page in site.feed_pages:
        if page.path != listed_twice:
            assert via[page.path] == "feed", page.path
    for page in site.sitemap_pages:
        if page.path != listed_twice:
            assert via[page.path] == "sitemap", page.path


def test_seed_acceptance_case(dataset: list[dict[str, Any]], site_url: str) -> None:
    rows = [r for r in dataset if _path(r, site_url) == "/articles/seed/sputnik-africa-shoigu.html"]
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == (
        "Russia to Expand Military Cooperation With African Countries: Defense Minister"
    )
    assert row["published_at"].date().isoformat() == "2023-08-15"
    assert row["language"] == "en"
    assert row["text"].startswith(SEED_PARAGRAPHS[0])
    for paragraph in SEED_PARAGRAPHS:
        assert paragraph in row["text"]
    for boilerplate in SEED_BOILERPLATE:
        assert boilerplate not in row["text"]


@pytest.mark.parametrize(
    ("stat", "value"),
    [
        ("item_dropped_reasons_count/NotHtml", 3),  # PNG, PDF, binary bytes labelled HTML
        ("item_dropped_reasons_count/EmptyPage", 1),
        ("item_dropped_reasons_count/NotAnArticle", 1),  # the contact page
        ("item_dropped_reasons_count/ListingPage", 1),  # the home page
        ("news/extract/dropped/NotHtml", 3),
        ("news/fetch/http_error/404", 1),
        ("news/fetch/http_error/500", 1),
        ("news/discovery/feed_invalid", 1),
        ("news/discovery/sitemap_invalid", 1),
        ("news/discovery/feeds", 1),
        ("news/discovery/sitemaps", 2),  # the index and the gzipped urlset
        ("robotstxt/forbidden", 1),
    ],
)
def test_bad_input_is_counted(first_crawl: CrawlResult, stat: str, value: int) -> None:
    assert first_crawl.stats.get(stat) == value


@pytest.mark.parametrize(
    "line",
    [
        "Dropped: NotHtml: content type 'image/png' is not HTML",
        "Dropped: NotHtml: content type 'application/pdf' is not HTML",
        "Dropped: NotHtml: binary content",
        "Dropped: EmptyPage: empty body",
        "Dropped: NotAnArticle:",
        "Dropped: ListingPage:",
        "HTTP 404, skipped:",
        "HTTP 500, skipped:",
        "Not a feed, ignored:",
        "Not a sitemap, ignored:",
        "Forbidden by robots.txt",
    ],
)
def test_bad_input_is_logged_in_one_line(first_crawl: CrawlResult, line: str) -> None:
    assert line in first_crawl.log


def test_robots_disallowed_page_is_never_requested(
    first_crawl: CrawlResult, site_server: Any
) -> None:
    assert "/private/secret.html" not in site_server.requested


def test_second_crawl_adds_nothing(
    second_crawl: CrawlResult, dataset: list[dict[str, Any]], crawl_dir: Path, site_url: str
) -> None:
    assert second_crawl.returncode == 0, second_crawl.log[-3000:]
    rows = sum(pq.read_metadata(path).num_rows for path in data_files(crawl_dir / "articles"))
    assert rows == len(dataset)
    # every stored article is known before its request is sent: none is downloaded again
    # (an article listed twice, in the feed and a sitemap, is skipped twice)
    assert second_crawl.stats.get("news/incremental/known_skipped") >= len(dataset)
    stored = {row["url"].removeprefix(site_url) for row in dataset}
    assert not stored & set(second_crawl.requested)
    # what is not stored is asked for again (an empty page or a server error may be mended by
    # the next run), but for the pages dropped as no article: remembered, with their reason
    assert {"/bad/empty.html", "/bad/server-error.html"} <= set(second_crawl.requested)
    assert not set(REJECTED) & set(second_crawl.requested)
    for reason in ("NotHtml", "NotAnArticle"):
        count = sum(1 for why in REJECTED.values() if why == reason)
        assert second_crawl.stats.get(f"news/incremental/rejected_pages/{reason}") == count
    assert second_crawl.stats.get("news/parquet/rows_written", 0) == 0
    assert "Traceback" not in second_crawl.log


def test_pages_dropped_as_no_article_are_asked_for_again_when_due(
    second_crawl: CrawlResult, crawl_dir: Path, site_url: str, site_server: Any
) -> None:
    assert second_crawl.returncode == 0
    before = len(site_server.requested)
    third = run_crawl(crawl_dir, *_arguments(site_url), "-s", "INCREMENTAL_NOT_ARTICLE_RECHECK=0")
    assert third.returncode == 0, third.log[-3000:]
    assert set(REJECTED) <= set(site_server.requested[before:])
    assert not any(name.startswith("news/incremental/rejected_") for name in third.stats)


def test_second_crawl_revalidates_feeds_and_sitemaps(
    second_crawl: CrawlResult, site_server: Any
) -> None:
    # the feed and the sitemaps were asked for with their ETag and came back 304, unsent
    assert {"/feed.xml", "/sitemap.xml", "/sitemap-articles.xml.gz"} <= set(
        site_server.not_modified
    )
    assert second_crawl.stats.get("httpcache/revalidate", 0) >= 3


def test_no_remote_control_service_runs(first_crawl: CrawlResult) -> None:
    enabled = first_crawl.log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "crawler.corestats.CoreStats" in enabled
    assert "TelnetConsole" not in enabled
    assert "RemoteControl" not in enabled


DECLARED_ACCESS = {
    # JSON-LD, the article and its paywalled part (as Google asks of a paywalled page)
    '"isAccessibleForFree": false, "hasPart": {"@type": "WebPageElement", '
    '"isAccessibleForFree": false, "cssSelector": ".paywall"}, ': False,
    '"isAccessibleForFree": "https://schema.org/True", ': True,
    "": None,  # the page does not say
}


def test_the_access_a_page_declares_is_written(tmp_path: Path) -> None:
    # a paywall's teaser was stored as an ordinary row: nothing in it said that it may hold
    # only a part of the article (twelfth fault hunt, F6)
    expected = {}
    with serve() as server:
        for number, (declaration, free) in enumerate(DECLARED_ACCESS.items()):
            article = Article(60 + number, "x")
            page = article.html().replace(
                b'{"@type": "NewsArticle", ', b'{"@type": "NewsArticle", ' + declaration.encode()
            )
            server.routes[article.path] = Route(200, {"Content-Type": "text/html"}, page)
            expected[server.url(article.path)] = free
        # microdata, on a page without JSON-LD
        article = Article(70, "x")
        page = article.html().replace(
            b"<article>", b'<article><meta itemprop="isAccessibleForFree" content="False">'
        )
        page = page.split(b'<script type="application/ld+json">')[0] + page.split(b"</script>")[1]
        server.routes[article.path] = Route(200, {"Content-Type": "text/html"}, page)
        expected[server.url(article.path)] = False
        result = run_crawl(tmp_path, "-a", "urls=" + ",".join(expected))
    assert result.returncode == 0, result.log[-3000:]
    assert {row["url"]: row["accessible_for_free"] for row in dataset_rows(tmp_path)} == expected
    (path,) = data_files(tmp_path / "articles")
    assert pq.read_schema(path).field("accessible_for_free").type == pa.bool_()
