"""Progress a person can follow (crawler/progress.py, crawler/live_progress.py): the line and its
figures, the settings, a real crawl logging plain lines, and real crawls on a pseudo-terminal
drawing the live display and leaving the terminal as they found it."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.addon import effective_settings
from crawler.live_progress import LiveProgress
from crawler.progress import (
    CrawlProgress,
    Progress,
    figures,
    progress_line,
    progress_of,
    rate_per_minute,
    rate_text,
    shows_live,
)
from crawler.settings_check import settings_problem
from demo.site import Response, Site, base_url, serve
from pipelines.setting import SettingError
from tests.conftest import FAST_SETTINGS, ROOT, CrawlResult, run_crawl
from tests.markdown import code_under

if TYPE_CHECKING:
    from collections.abc import Iterator

OPERATIONS = ROOT / "docs" / "operations.md"
LINE = re.compile(
    r"progress: discovered (?P<discovered>\d+|-), queued (?P<queued>\d+|-), "
    r"fetched (?P<fetched>\d+) \((?P<rate>[\d.]+|-)/min\), stored (?P<stored>\d+), "
    r"dropped (?P<dropped>\d+), errors (?P<errors>\d+); rows committed (?P<committed>\d+)$"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
SLOW = 3.0
"""Seconds the slow page takes: the crawl lasts at least that long (progress every second)."""


def _progress(**given: Any) -> Progress:
    values = {"elapsed": 60.0, "discovered": 120, "queued": 14, "fetched": 98, "stored": 80,
              "dropped": 12, "errors": 3, "committed": 64}  # fmt: skip
    return Progress(**(values | given))


# --- the line ---------------------------------------------------------------------------------


def test_the_documented_line_is_the_line() -> None:
    (block,) = code_under(OPERATIONS, "Following a crawl", "text")
    documented = block.strip().partition(" INFO: ")[2]
    assert documented == progress_line(_progress(), 45.0)
    assert LINE.fullmatch(documented)


def test_figures_not_counted_are_dashes() -> None:
    line = progress_line(_progress(discovered=None, queued=None), None)
    assert line == (
        "progress: discovered -, queued -, fetched 98 (-/min), stored 80, dropped 12, "
        "errors 3; rows committed 64"
    )
    assert LINE.fullmatch(line)


@pytest.mark.parametrize(
    ("rate", "text"),
    [(None, "-/min"), (0.0, "0.0/min"), (0.5, "0.5/min"), (9.94, "9.9/min"), (9.96, "10/min"),
     (45.4, "45/min"), (1234.6, "1235/min")],
)  # fmt: skip
def test_rate_text(rate: float | None, text: str) -> None:
    assert rate_text(rate) == text


def test_the_rate_is_over_the_interval() -> None:
    before = _progress(elapsed=30.0, fetched=10)
    assert rate_per_minute(before, _progress(elapsed=60.0, fetched=40)) == 60.0
    assert rate_per_minute(before, _progress(elapsed=40.0, fetched=10)) == 0.0
    assert rate_per_minute(before, before) == 0.0  # no time passed


def test_the_figures_come_from_the_stats() -> None:
    stats = {
        "news/fetch/pages": 98,
        "item_scraped_count": 80,
        "item_dropped_count": 12,
        "item_dropped_reasons_count/NotAnArticle": 12,
        "news/fetch/http_error/404": 2,
        "news/fetch/error/timeout": 1,
        "news/fetch/error/robots_forbidden": 1,
        "news/parquet/rows_written": 64,
        "news/parquet/rows_buffered": 80,
        "response_received_count": 130,
    }
    got = progress_of(stats, elapsed=60.0, discovered=120, queued=14)
    assert got == _progress(errors=4)
    empty = progress_of({}, elapsed=0.0, discovered=None, queued=0)
    assert (empty.fetched, empty.stored, empty.dropped, empty.errors, empty.committed) == (
        0, 0, 0, 0, 0,
    )  # fmt: skip


# --- where the display goes, the settings -----------------------------------------------------


@dataclass
class _Stream:
    terminal: bool

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize(
    ("display", "terminal", "term", "live"),
    [
        ("auto", True, "xterm-256color", True),
        ("auto", True, "dumb", False),  # a terminal that cannot move the cursor
        ("auto", False, "xterm-256color", False),  # cron, Scrapyd, a pipe
        ("live", False, "", True),
        ("lines", True, "xterm-256color", False),
    ],
)
def test_when_the_live_display_is_shown(
    display: str, terminal: bool, term: str, live: bool
) -> None:
    assert shows_live(display, _Stream(terminal), {"TERM": term}) is live


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        ("PROGRESS_INTERVAL=0", "PROGRESS_INTERVAL='0': must be more than 0"),
        ("PROGRESS_INTERVAL=0s", "PROGRESS_INTERVAL='0s': must be more than 0"),
        ("PROGRESS_INTERVAL=-5",
         "PROGRESS_INTERVAL='-5': '-5' is negative; durations cannot be negative"),
        ("PROGRESS_INTERVAL=soon",
         ("PROGRESS_INTERVAL='soon': 'soon' is not a duration; use e.g. '90m', '12h', '3d', "
          "'1w' or seconds")),
        ("PROGRESS_DISPLAY=fancy", "PROGRESS_DISPLAY='fancy': must be one of auto, live, lines"),
        ("PROGRESS_ENABLED=maybe", "PROGRESS_ENABLED='maybe': must be True or False (or 1 or 0)"),
    ],
)  # fmt: skip
def test_a_value_a_setting_cannot_take_is_one_line(setting: str, line: str) -> None:
    name, _, value = setting.partition("=")
    settings = Settings()
    settings.set(name, value, priority="cmdline")
    assert settings_problem(effective_settings(settings)) == line


def test_a_bad_interval_stops_the_crawl_with_status_2(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "news",
         "-a", "urls=http://127.0.0.1:9/a.html", "-s", f"OUTPUT_DIR={tmp_path / 'out'}",
         "-s", "PROGRESS_INTERVAL=0"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        "scrapy: error: PROGRESS_INTERVAL='0': must be more than 0"
    ]
    assert not (tmp_path / "out").exists()


def test_the_extension_reads_its_settings() -> None:
    with pytest.raises(NotConfigured):
        CrawlProgress.from_crawler(get_crawler(settings_dict={"PROGRESS_ENABLED": False}))
    with pytest.raises(SettingError, match="PROGRESS_INTERVAL"):  # a crawl started from Python
        CrawlProgress.from_crawler(get_crawler(settings_dict={"PROGRESS_INTERVAL": "0"}))
    progress = CrawlProgress.from_crawler(
        get_crawler(settings_dict={"PROGRESS_INTERVAL": "2m", "PROGRESS_DISPLAY": "live"})
    )
    assert (progress.interval, progress.live) == (120.0, True)


def test_rich_is_imported_only_for_the_live_display() -> None:
    """What ``scrapy crawl`` imports (and the extension, up to choosing the plain lines) does
    not load rich: start-up time and memory are not paid for a display nobody sees."""
    code = (
        "import sys\n"
        "import scrapy.cmdline, crawler.settings, crawler.commands.crawl, crawler.progress\n"
        "from scrapy.utils.test import get_crawler\n"
        "progress = crawler.progress.CrawlProgress.from_crawler(get_crawler())\n"
        "print(progress.live, 'rich' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert completed.stdout.split() == ["False", "False"]


# --- the live display, offline ----------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_lines_written_while_live_go_above_the_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    handler = logging.StreamHandler(terminal)
    logging.root.addHandler(handler)
    try:
        display = LiveProgress(force_terminal=True)
        display.start("0:00:01", figures(_progress(), None))
        assert handler.stream is not terminal  # through rich's console
        logging.getLogger("tests.progress").warning("a line logged while the display is on")
        display.show("0:00:02", figures(_progress(), 45.0))
        display.stop()
    finally:
        logging.root.removeHandler(handler)
    assert handler.stream is terminal
    assert sys.stderr is terminal
    shown = terminal.getvalue()
    assert shown.startswith(HIDE_CURSOR)
    assert SHOW_CURSOR in shown[shown.index("0:00:02") :]
    plain = ANSI.sub("", shown)
    assert "a line logged while the display is on\n" in plain
    assert "crawl progress, 0:00:02 elapsed" in plain
    assert re.search(r"discovered .* rows committed\n─+\n +120 +14 +98 +45/min +80 +12 +3 +64\n",
                     plain)  # fmt: skip


# --- real crawls --------------------------------------------------------------------------------


@dataclass
class _SlowPage:
    """The test site, one of its pages answered after ``SLOW`` seconds."""

    site: Site
    slow: str

    def resolve(self, path: str, base: str) -> Response:
        if path == self.slow:
            time.sleep(SLOW)
        return self.site.resolve(path, base)


@pytest.fixture(scope="module")
def slow_url(site: Site) -> Iterator[str]:
    with serve(_SlowPage(site, site.pages[0].path)) as server:  # type: ignore[arg-type]
        yield base_url(server)


def _urls(site: Site, base: str) -> str:
    """The slow page, another article, and a page that fails (HTTP 500, after retries)."""
    return ",".join(base + path for path in (site.pages[0].path, site.pages[1].path,
                                             "/bad/server-error.html"))  # fmt: skip


@pytest.fixture(scope="module")
def lines_crawl(tmp_path_factory: pytest.TempPathFactory, site: Site, slow_url: str) -> CrawlResult:
    out = tmp_path_factory.mktemp("progress-lines")
    urls = _urls(site, slow_url)
    return run_crawl(out, "-a", f"urls={urls}", settings=("PROGRESS_INTERVAL=1",))


def test_a_crawl_logs_plain_progress_lines(lines_crawl: CrawlResult) -> None:
    assert lines_crawl.returncode == 0, lines_crawl.log[-3000:]
    lines = [
        line.partition(" INFO: ")[2]
        for line in lines_crawl.log.splitlines()
        if "[crawler.progress] INFO: " in line
    ]
    assert len(lines) >= 2  # one a second, for the slow page's SLOW seconds at least
    matches = [LINE.fullmatch(line) for line in lines]
    assert all(matches), lines
    counts = [{k: int(v) for k, v in m.groupdict().items() if k != "rate"} for m in matches if m]
    for name in ("fetched", "stored", "dropped", "errors", "committed"):
        assert [c[name] for c in counts] == sorted(c[name] for c in counts), name
    last = counts[-1]  # every request sent by then, the failing one given up on
    assert (last["discovered"], last["queued"], last["errors"]) == (3, 0, 1)
    stats = lines_crawl.stats
    assert last["fetched"] <= stats["news/fetch/pages"] == 2
    assert last["committed"] <= stats["news/parquet/rows_written"] == 2
    # no terminal: no live display, nothing but plain text, and no Scrapy "Crawled N pages"
    assert "\x1b" not in lines_crawl.log
    assert "crawl progress," not in lines_crawl.log
    assert "Crawled " not in lines_crawl.log


def _on_terminal(command: list[str], interrupt: bool = False) -> tuple[int, str]:
    """Run ``command`` with its stdout and stderr on a pseudo-terminal (100 columns); its exit
    status and what it wrote there. ``interrupt``: Ctrl-C once the first progress line is
    written."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"):
        env.pop(name, None)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower
    )
    os.close(follower)
    written = bytearray()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: every process holding the terminal has closed it
                    break
                if not chunk:
                    break
                written += chunk
            # under way: a Ctrl-C while the crawl still starts leaves it hanging at its exit
            # (Scrapy's thread pool is never stopped), with or without a terminal
            if interrupt and b"[crawler.progress] INFO: progress:" in written:
                process.send_signal(signal.SIGINT)
                interrupt = False
        returncode = process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        os.close(leader)
        if process.poll() is None:
            process.kill()
            process.wait()
    return returncode, written.decode("utf-8", errors="replace")


def _crawl_on_terminal(out: Path, urls: str, *, interrupt: bool = False) -> tuple[int, str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={urls}"]
    for setting in (f"OUTPUT_DIR={out}", *FAST_SETTINGS, "PROGRESS_INTERVAL=1"):
        command += ["-s", setting]
    return _on_terminal(command, interrupt=interrupt)


def _left_clean(shown: str) -> str:
    """What follows the live display, once it was cleared and the cursor shown again."""
    assert shown.count(HIDE_CURSOR) == shown.count(SHOW_CURSOR) == 1
    after = shown[shown.index(SHOW_CURSOR) :]
    assert "crawl progress," not in after  # never drawn again
    return ANSI.sub("", after)


def test_on_a_terminal_the_live_display_is_drawn_and_cleared(
    tmp_path: Path, site: Site, slow_url: str, lines_crawl: CrawlResult
) -> None:
    returncode, shown = _crawl_on_terminal(tmp_path, _urls(site, slow_url))
    assert returncode == lines_crawl.returncode == 0, shown[-3000:]
    plain = ANSI.sub("", shown[shown.index(HIDE_CURSOR) : shown.index(SHOW_CURSOR)])
    # the table, redrawn every second: the figures by name, with the time elapsed
    assert re.search(r"crawl progress, 0:00:0[2-9] elapsed", plain)
    assert re.search(r"discovered +queued +fetched +rate +stored +dropped +errors +rows committed",
                     plain)  # fmt: skip
    assert re.search(r"^ +3 +0 +\d+ +[\d.]+/min +\d+ +\d+ +1 +\d+\s*$", plain, re.M)
    # the log lines written meanwhile, whole, above it
    logged = [line for line in plain.splitlines() if "[crawler.progress] INFO: " in line]
    assert logged
    assert all(LINE.fullmatch(line.partition(" INFO: ")[2].rstrip()) for line in logged), logged
    # then the terminal as it was: Scrapy's stats and the run summary below, the cursor shown
    after = _left_clean(shown)
    assert "Dumping Scrapy stats" in after
    assert re.search(r"^Run finished in [\d.]+ s: 3 articles found", after, re.M)


def test_ctrl_c_clears_the_live_display_too(tmp_path: Path, site: Site, slow_url: str) -> None:
    returncode, shown = _crawl_on_terminal(tmp_path, _urls(site, slow_url), interrupt=True)
    assert returncode == 1, shown[-3000:]  # stopped early: failed, as without a terminal
    after = _left_clean(shown)
    assert after.rstrip().endswith("crawl failed: the crawl did not finish normally (shutdown)")
