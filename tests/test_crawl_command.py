"""``scrapy crawl``: argument errors, exit status, and pause/resume with JOBDIR."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from crawler.commands.crawl import crawl_failed
from dataset.layout import data_files
from tests.conftest import ROOT, run_crawl

if TYPE_CHECKING:
    from pathlib import Path

    from demo.site import Site


def test_bad_arguments_exit_2_with_one_line(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "urls=file:///etc/passwd",
         "-s", f"OUTPUT_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert "unsupported scheme" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_crawl_that_reaches_nothing_fails(tmp_path: Path) -> None:
    # port 9 (discard) on loopback: nothing listens, every connection is refused
    result = run_crawl(
        tmp_path, "-a", "urls=http://127.0.0.1:9/a.html", settings=("RETRY_TIMES=0",)
    )
    assert result.returncode == 1
    assert "crawl failed: every request failed" in result.log


def test_a_normal_crawl_succeeds(tmp_path: Path, site_url: str) -> None:
    result = run_crawl(tmp_path, "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html")
    assert result.returncode == 0


def test_crawl_failed_reasons() -> None:
    ok = {"finish_reason": "finished", "downloader/response_count": 3}
    assert crawl_failed(ok) is None
    assert "shutdown" in (crawl_failed({**ok, "finish_reason": "shutdown"}) or "")
    assert "errors" in (crawl_failed({**ok, "log_count/ERROR": 2}) or "")
    refused: dict[str, Any] = {
        "finish_reason": "finished",
        "downloader/exception_type_count/twisted.internet.error.ConnectionRefusedError": 2,
    }
    assert crawl_failed(refused) == "every request failed"


def test_pause_and_resume_with_jobdir(tmp_path: Path, site_url: str, site: Site) -> None:
    output, jobdir = tmp_path / "out", tmp_path / "job"
    arguments = ("-a", f"sitemaps={site_url}/sitemap.xml")
    settings = (f"JOBDIR={jobdir}", "CONCURRENT_REQUESTS=1")
    paused = run_crawl(output, *arguments, settings=(*settings, "CLOSESPIDER_PAGECOUNT=6"))
    assert paused.report["finish_reason"] == "closespider_pagecount"
    assert paused.returncode == 1  # not finished: a scheduler sees it
    resumed = run_crawl(output, *arguments, settings=settings)
    assert resumed.returncode == 0, resumed.log[-2000:]
    assert "Resuming crawl" in resumed.log
    urls = [
        row["url"]
        for path in data_files(output / "articles")
        for row in pq.read_table(path).to_pylist()
    ]
    expected = {site_url + page.path for page in site.sitemap_pages}
    assert sorted(urls) == sorted(expected)  # every sitemap article, each once


def test_an_unwritable_output_dir_is_refused_at_start(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    completed = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "urls=http://127.0.0.1:9/a",
         "-s", f"OUTPUT_DIR={blocker / 'out'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert f"OUTPUT_DIR {blocker / 'out'} is not writable: Not a directory" in completed.stderr
    assert "Traceback" not in completed.stderr
