"""SIGTERM or Ctrl-C: the crawl stops gracefully and writes every article it accepted, also
when asked while it is still opening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from crawler import settings as project_settings
from dataset.layout import data_files
from demo.site import Response, Site, base_url, load_site, serve
from tests.conftest import FAST_SETTINGS, ROOT, session_processes

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


@pytest.mark.parametrize(
    ("stop", "to_the_group"),
    [
        # a scheduler cancelling the job: SIGTERM to the crawl process
        (signal.SIGTERM, False),
        # Ctrl-C in a terminal: SIGINT to the whole process group, the extraction workers'
        # fork server too, which is then importing the extraction library
        (signal.SIGINT, True),
    ],
)
def test_a_stop_asked_while_the_crawl_opens_stops_it(
    tmp_path: Path, stop: signal.Signals, to_the_group: bool
) -> None:
    mark = tmp_path / "opening"
    extensions = {**project_settings.EXTENSIONS, "tests.slow_opening.SlowOpening": 0}
    with serve(load_site()) as server:
        command = [sys.executable, "-m", "scrapy", "crawl", "news",
                   "-a", f"sitemaps={base_url(server)}/sitemap.xml",
                   "-s", f"OUTPUT_DIR={tmp_path}", "-s", f"EXTENSIONS={json.dumps(extensions)}",
                   "-s", f"SLOW_OPENING_MARK={mark}", "-s", "SLOW_OPENING_SECONDS=1",
                   "--logfile", str(tmp_path / "crawl.log")]  # fmt: skip
        for setting in FAST_SETTINGS:
            command += ["-s", setting]
        crawl = subprocess.Popen(
            command, cwd=ROOT, start_new_session=True, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not mark.exists():
                assert crawl.poll() is None, crawl.communicate()
                assert time.monotonic() < deadline, "the crawl never opened"
                time.sleep(0.005)
            (os.killpg if to_the_group else os.kill)(crawl.pid, stop)
            # Scrapy took the stop for done, stopped under the opening spider, and the process
            # then waited forever for the extraction pool's threads
            output, errors = crawl.communicate(timeout=60)
        finally:
            if crawl.poll() is None:
                os.killpg(crawl.pid, signal.SIGKILL)
                crawl.wait()
    assert crawl.returncode == 1, errors[-3000:]
    assert output.splitlines()[-1] == "crawl failed: the crawl did not finish normally (shutdown)"
    assert "Traceback" not in errors  # the fork server's KeyboardInterrupt, once
    assert session_processes(crawl.pid) == []
    [report_file] = (tmp_path / "state" / "crawls").glob("*.json")
    report: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["finish_reason"] == "shutdown"
    stats = report["stats"]
    rows = sum(pq.read_metadata(path).num_rows for path in data_files(tmp_path / "articles"))
    assert rows == stats.get("news/parquet/rows_buffered", 0)
    assert "Traceback" not in (tmp_path / "crawl.log").read_text(encoding="utf-8")
