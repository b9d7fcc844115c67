"""One row per story: tracking-URL copies and syndicated copies of real articles."""

from __future__ import annotations

import html
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from demo.site import Page, Response, base_url, load_site, serve
from extraction.extractor import extract_article
from tests.conftest import CrawlResult, dataset_rows, run_crawl

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

COPIES = 10
TRACKING = "?utm_source=newsletter&utm_medium=email&fbclid=abc123"


def _syndicated(page: Page) -> bytes:
    """The article as another outlet republishes it: its own template, its own canonical URL,
    another headline, one sentence edited."""
    text = extract_article(page.body(), f"http://demo.test{page.path}").text
    paragraphs = text.split("\n\n")
    middle = len(paragraphs) // 2
    paragraphs[middle] = "The agency added in a later update that details are still emerging."
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        "<!DOCTYPE html><html><head><title>Wire: the story as syndicated</title>"
        f'<link rel="canonical" href="https://syndicator.example{page.path}"></head><body>'
        "<div class='site-header'><a href='/'>The Syndicator</a></div>"
        f"<main><h1>As reported by our partners</h1><div class='story'>{body}</div></main>"
        "<footer>The Syndicator, all rights reserved.</footer></body></html>"
    ).encode()


@dataclass
class CopySite:
    pages: list[Page]
    routes: dict[str, Response] = field(default_factory=dict)

    def resolve(self, path: str, base: str) -> Response:
        if path in self.routes:
            return self.routes[path]
        for page in self.pages:
            if page.path == path:
                return Response(200, {"Content-Type": "text/html"}, page.body())
        return Response(404, {"Content-Type": "text/html"}, b"")


@pytest.fixture(scope="module")
def stories() -> list[Page]:
    # real articles in several languages, with their own canonical URLs
    return [page for page in load_site().pages if page.record][:20]


@pytest.fixture(scope="module")
def copy_site(stories: list[Page]) -> Iterator[Any]:
    site = CopySite(pages=stories)
    for page in stories[:COPIES]:
        site.routes[f"/syndicated{page.path}"] = Response(
            200, {"Content-Type": "text/html"}, _syndicated(page)
        )
    with serve(site) as server:  # type: ignore[arg-type]
        yield server


def _urls(stories: list[Page], base: str) -> list[str]:
    originals = [base + page.path for page in stories]
    tracked = [base + page.path + TRACKING for page in stories[:COPIES]]
    syndicated = [f"{base}/syndicated{page.path}" for page in stories[:COPIES]]
    return [*originals, *tracked, *syndicated]


def _rows(out: Path) -> list[dict[str, Any]]:
    return dataset_rows(out)


@pytest.fixture(scope="module")
def crawl(
    tmp_path_factory: pytest.TempPathFactory, copy_site: Any, stories: list[Page]
) -> tuple[CrawlResult, Path]:
    out = tmp_path_factory.mktemp("copies")
    listing = out / "urls.txt"
    listing.write_text("\n".join(_urls(stories, base_url(copy_site))), encoding="utf-8")
    # one request at a time: originals first, as when the originals were crawled earlier
    result = run_crawl(out, "-a", f"urls=@{listing}", settings=("CONCURRENT_REQUESTS=1",))
    return result, out


def test_one_row_per_story(
    crawl: tuple[CrawlResult, Path], stories: list[Page], copy_site: Any
) -> None:
    result, out = crawl
    assert result.returncode == 0, result.log[-3000:]
    rows = _rows(out)
    base = base_url(copy_site)
    assert sorted(row["url"] for row in rows) == sorted(base + page.path for page in stories)
    assert result.stats["news/dedupe/duplicate/near"] == COPIES
    assert result.stats["news/dedupe/duplicate/url"] == COPIES


def test_copies_are_recorded_against_the_kept_rows(crawl: tuple[CrawlResult, Path]) -> None:
    _, out = crawl
    ids = {row["id"] for row in _rows(out)}
    with sqlite3.connect(out / "state" / "near-duplicates.sqlite3") as db:
        copies = db.execute("SELECT url, kept_id, kind, similarity FROM copies").fetchall()
    assert len(copies) == COPIES
    assert all("/syndicated/" in url and kept in ids for url, kept, _, _ in copies)
    assert all(kind == "near" and 0.5 <= similarity <= 1.0 for _, _, kind, similarity in copies)


def test_the_same_holds_across_runs(tmp_path: Path, copy_site: Any, stories: list[Page]) -> None:
    base = base_url(copy_site)
    originals = ",".join(base + page.path for page in stories)
    copies = ",".join(_urls(stories, base)[len(stories) :])
    first = run_crawl(tmp_path, "-a", f"urls={originals}")
    second = run_crawl(tmp_path, "-a", f"urls={copies}")
    assert first.returncode == second.returncode == 0
    assert len(_rows(tmp_path)) == len(stories)
    assert second.stats["news/dedupe/duplicate/near"] == COPIES
    # the tracking-URL copies are the stored URLs once normalized: never even fetched
    assert second.stats["news/incremental/known_skipped"] == COPIES


def test_flag_policy_keeps_copies_pointing_at_the_original(
    tmp_path: Path, copy_site: Any, stories: list[Page]
) -> None:
    base = base_url(copy_site)
    urls = [base + page.path for page in stories[:3]] + [
        f"{base}/syndicated{page.path}" for page in stories[:3]
    ]
    listing = tmp_path / "urls.txt"
    listing.write_text("\n".join(urls), encoding="utf-8")
    result = run_crawl(
        tmp_path / "out",
        "-a",
        f"urls=@{listing}",
        settings=("DEDUPE_POLICY=flag",),
    )
    assert result.returncode == 0
    rows = {row["url"]: row for row in _rows(tmp_path / "out")}
    assert len(rows) == 6
    for page in stories[:3]:
        pair = [rows[base + page.path], rows[f"{base}/syndicated{page.path}"]]
        # pages are extracted in parallel: within a run the kept row is the copy whose
        # extraction finished first, not necessarily the one fetched first (docs/dataset.md)
        kept = [row for row in pair if row["duplicate_of"] is None]
        assert len(kept) == 1
        (copy,) = [row for row in pair if row is not kept[0]]
        assert copy["duplicate_of"] == kept[0]["id"]
