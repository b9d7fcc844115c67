"""SIGTERM or Ctrl-C: the crawl stops gracefully and writes every article it accepted, also
when asked while it is still opening."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from crawler import settings as project_settings
from dataset.layout import data_files
from demo.site import Response, Site, base_url, load_site, serve
from tests.conftest import FAST_SETTINGS, ROOT, run_crawl, session_processes

if TYPE_CHECKING:
    from collections.abc import Iterator
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


@contextmanager
def _crawl(tmp_path: Path, server: Any, *settings: str) -> Iterator[subprocess.Popen[str]]:
    """``scrapy crawl news`` of the site's sitemap into ``tmp_path`` (its log in ``crawl.log``),
    started as the leader of a session: a signal can go to its whole process group, and what is
    still running when the test ends (a hang, a failed test) is killed with its session."""
    command = [sys.executable, "-m", "scrapy", "crawl", "news",
               "-a", f"sitemaps={base_url(server)}/sitemap.xml",
               "--logfile", str(tmp_path / "crawl.log")]  # fmt: skip
    for setting in (f"OUTPUT_DIR={tmp_path}", *FAST_SETTINGS, *settings):
        command += ["-s", setting]
    crawl = subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        yield crawl
    finally:
        if crawl.poll() is None:
            os.killpg(crawl.pid, signal.SIGKILL)
            crawl.wait()


def _after_the_stop(tmp_path: Path) -> tuple[dict[str, Any], int]:
    """The stopped crawl's report and the rows of its dataset; nothing of it is left in the
    temporary folder, and its log holds no traceback."""
    [report_file] = (tmp_path / "state" / "crawls").glob("*.json")
    report: dict[str, Any] = json.loads(report_file.read_text(encoding="utf-8"))
    rows = sum(pq.read_metadata(path).num_rows for path in data_files(tmp_path / "articles"))
    assert not list((tmp_path / "state" / "tmp").iterdir())
    assert "Traceback" not in (tmp_path / "crawl.log").read_text(encoding="utf-8")
    return report, rows


@pytest.mark.parametrize(
    ("stop_signal", "to_the_group"),
    [
        (signal.SIGTERM, False),
        # systemd's default (KillMode=control-group) sends it to every process: the extraction
        # workers and their fork server end at once, and the crawl process extracts the pages
        # left (a worker that ended cannot be replaced, or is replaced by a fork server made again)
        (signal.SIGTERM, True),
        # a closed terminal or ssh session, to the process group: it ended the crawl at once
        # (exit 129), its accepted articles not written, no report
        (signal.SIGHUP, True),
    ],
    ids=["to-the-crawl-process", "to-the-process-group", "hang-up"],
)
def test_sigterm_writes_every_accepted_article(
    tmp_path: Path, stop_signal: signal.Signals, to_the_group: bool
) -> None:
    with (
        serve(SlowSite(load_site())) as server,  # type: ignore[arg-type]
        _crawl(tmp_path, server, "CONCURRENT_REQUESTS=1") as crawl,
    ):
        deadline = time.monotonic() + 60
        # wait until some articles were fetched, then ask the crawl to stop
        while len([p for p in server.requested if p.startswith("/articles/")]) < 5:
            assert time.monotonic() < deadline, "the crawl never got going"
            time.sleep(0.1)
        (os.killpg if to_the_group else os.kill)(crawl.pid, stop_signal)
        _, errors = crawl.communicate(timeout=60)
    assert crawl.returncode == 1  # stopped early: a failed crawl for a scheduler
    assert "Traceback" not in errors
    assert session_processes(crawl.pid) == []
    report, rows = _after_the_stop(tmp_path)
    assert report["finish_reason"] == "shutdown"
    stats = report["stats"]
    assert rows >= 1
    assert rows == stats["news/parquet/rows_buffered"] == stats["news/parquet/rows_written"]
    assert rows < 21  # it did stop early


def _holding(tmp_path: Path, phase: str) -> list[str]:
    """The settings that hold the spider ``opening`` or ``closing`` (tests/slow_spider.py),
    touching ``tmp_path/held`` once it is held."""
    held = [f"SLOW_SPIDER_MARK={tmp_path / 'held'}", "SLOW_SPIDER_SECONDS=1"]
    if phase == "opening":
        extensions = {**project_settings.EXTENSIONS, "tests.slow_spider.SlowOpening": 0}
        return [*held, f"EXTENSIONS={json.dumps(extensions)}"]
    pipelines = {**project_settings.ITEM_PIPELINES, "tests.slow_spider.SlowClosing": 900}
    return [*held, f"ITEM_PIPELINES={json.dumps(pipelines)}"]


def _wait_until_held(crawl: subprocess.Popen[str], tmp_path: Path, phase: str) -> None:
    deadline = time.monotonic() + 60
    while not (tmp_path / "held").exists():
        if crawl.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the crawl was never held {phase}: {crawl.communicate()}")
        time.sleep(0.005)


@dataclass(frozen=True)
class Stop:
    phase: str
    """When: the spider ``opening`` or ``closing``."""
    signal: signal.Signals
    to_the_group: bool
    status: int
    """The crawl's exit status."""
    reason: str
    """Its finish reason."""


@pytest.mark.parametrize(
    "stop",
    [
        # a scheduler cancelling the job: SIGTERM to the crawl process
        Stop("opening", signal.SIGTERM, to_the_group=False, status=1, reason="shutdown"),
        # Ctrl-C in a terminal: SIGINT to the whole process group, the extraction workers'
        # fork server too, which is then importing the extraction library
        Stop("opening", signal.SIGINT, to_the_group=True, status=1, reason="shutdown"),
        # while the pipelines write what they hold: the crawl had finished, and it still has
        Stop("closing", signal.SIGTERM, to_the_group=False, status=0, reason="finished"),
        Stop("closing", signal.SIGINT, to_the_group=True, status=0, reason="finished"),
    ],
    ids=lambda stop: f"{stop.phase}-{stop.signal.name}",
)
def test_a_stop_asked_while_the_spider_opens_or_closes_waits_for_it(
    tmp_path: Path, stop: Stop
) -> None:
    holding = _holding(tmp_path, stop.phase)
    with serve(load_site()) as server, _crawl(tmp_path, server, *holding) as crawl:
        _wait_until_held(crawl, tmp_path, stop.phase)
        (os.killpg if stop.to_the_group else os.kill)(crawl.pid, stop.signal)
        # Scrapy took the stop for done and stopped under the spider; the process then
        # waited forever for the threads of the extraction pool or of the reactor
        output, errors = crawl.communicate(timeout=60)
    assert crawl.returncode == stop.status, errors[-3000:]
    if stop.status:
        failed = f"crawl failed: the crawl did not finish normally ({stop.reason})"
        assert output.splitlines()[-1] == failed
    assert "Traceback" not in errors  # the fork server's KeyboardInterrupt, once
    assert session_processes(crawl.pid) == []
    report, rows = _after_the_stop(tmp_path)
    assert report["finish_reason"] == stop.reason
    stats = report["stats"]
    assert rows == stats.get("news/parquet/rows_buffered", 0)
    if stop.phase == "closing":
        assert rows == stats["news/parquet/rows_written"] > 0


def test_a_stage_that_cannot_open_ends_the_crawl_instead_of_hanging_it(tmp_path: Path) -> None:
    # The Parquet stage, never opened, awaited a commit from a writer thread that never
    # started: the crawl hung after "Closing spider (shutdown)", the run lock held.
    pipelines = {**project_settings.ITEM_PIPELINES, "tests.slow_spider.FailingOpen": 450}
    result = run_crawl(  # a hang fails it: run_crawl's time-out
        tmp_path / "out",
        "-a",
        "urls=http://127.0.0.1:9/never-fetched",
        settings=(f"ITEM_PIPELINES={json.dumps(pipelines)}",),
    )
    assert result.returncode == 1, result.log[-3000:]
    assert "this stage cannot open" in result.log
    last = result.log.strip().splitlines()[-1]
    assert last == "crawl failed: the crawl could not start (its error is above)"
