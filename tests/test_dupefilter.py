"""The request dupefilter that keeps its fingerprints on disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.dupefilter import SEEN_FILE, DiskDupeFilter

if TYPE_CHECKING:
    from pathlib import Path


def build(tmp_path: Path, **settings: object) -> DiskDupeFilter:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path / "out"), **settings})
    return DiskDupeFilter.from_crawler(crawler)


def test_a_request_is_seen_the_second_time_and_memory_holds_nothing(tmp_path: Path) -> None:
    dupefilter = build(tmp_path)
    urls = [f"https://news.test/{n}" for n in range(2500)]
    assert not any(dupefilter.request_seen(Request(url)) for url in urls)
    assert all(dupefilter.request_seen(Request(url)) for url in urls)
    # canonical URL: the same request with its query in another order
    assert not dupefilter.request_seen(Request("https://news.test/a?x=1&y=2"))
    assert dupefilter.request_seen(Request("https://news.test/a?y=2&x=1"))
    assert not dupefilter.request_seen(Request("https://news.test/a?y=2&x=1", method="POST"))
    assert dupefilter._fingerprints == set()  # Scrapy's in-memory set stays empty
    scratch = dupefilter.database
    assert scratch.parent == tmp_path / "out" / "state" / "tmp"
    dupefilter.close("finished")
    assert not scratch.exists()


def test_a_new_crawl_starts_empty(tmp_path: Path) -> None:
    first = build(tmp_path)
    assert not first.request_seen(Request("https://news.test/1"))
    first.close("finished")
    second = build(tmp_path)
    assert not second.request_seen(Request("https://news.test/1"))
    second.close("finished")


def test_jobdir_keeps_fingerprints_across_pause_and_resume(tmp_path: Path) -> None:
    jobdir = tmp_path / "job"
    first = build(tmp_path, JOBDIR=str(jobdir))
    assert not first.request_seen(Request("https://news.test/1"))
    first.close("shutdown")
    assert (jobdir / SEEN_FILE).is_file()
    resumed = build(tmp_path, JOBDIR=str(jobdir))
    assert resumed.request_seen(Request("https://news.test/1"))
    assert not resumed.request_seen(Request("https://news.test/2"))
    resumed.close("finished")
