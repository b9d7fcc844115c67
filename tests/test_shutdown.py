"""SIGTERM or Ctrl-C: the crawl stops gracefully and writes every article it accepted."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from dataset.layout import data_files
from demo.site import Response, Site, base_url, load_site, serve
from tests.conftest import FAST_SETTINGS, ROOT

if TYPE_CHECKING:
    from pathlib import Path

DELAY = 0.25


@dataclass
class SlowSite:
    """The demo site, answering each article page after a delay."""

    site: Site

    def resolve(self, path: str, base: str) -> Response:
        if path.startswith("/articles/"):
            time.sleep(DELAY)
        return self.site.resolve(path, base)


def test_sigterm_writes_every_accepted_article(tmp_path: Path) -> None:
    with serve(SlowSite(load_site())) as server:  # type: ignore[arg-type]
        command = [sys.executable, "-m", "scrapy", "crawl", "news",
                   "-a", f"sitemaps={base_url(server)}/sitemap.xml",
                   "-s", f"OUTPUT_DIR={tmp_path}", "-s", "CONCURRENT_REQUESTS=1",
                   "--logfile", str(tmp_path / "crawl.log")]  # fmt: skip
        for setting in FAST_SETTINGS:
            command += ["-s", setting]
        crawl = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 60
        # wait until some articles were fetched, then ask the crawl to stop
        while len([p for p in server.requested if p.startswith("/articles/")]) < 5:
            assert time.monotonic() < deadline, "the crawl never got going"
            time.sleep(0.1)
        crawl.send_signal(signal.SIGTERM)
        assert crawl.wait(timeout=60) == 1  # stopped early: a failed crawl for a scheduler
    [report_file] = (tmp_path / "state" / "crawls").glob("*.json")
    report: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["finish_reason"] == "shutdown"
    stats = report["stats"]
    files = data_files(tmp_path / "articles")
    rows = sum(pq.read_metadata(path).num_rows for path in files)
    assert rows >= 1
    assert rows == stats["news/parquet/rows_buffered"] == stats["news/parquet/rows_written"]
    assert rows < 21  # it did stop early
    assert not list((tmp_path / "state" / "tmp").iterdir())
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert "Traceback" not in log
