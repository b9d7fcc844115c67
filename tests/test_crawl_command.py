"""``scrapy crawl``: the checks before it starts (arguments, settings, outputs: status 2, one
line), the run lock (status 3), the exit status of a crawl, its processes, and pause/resume with
JOBDIR."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings

from crawler.addon import DECLARED
from crawler.commands.crawl import crawl_failed
from crawler.settings_check import settings_problem
from dataset.layout import data_files, host_name
from tests.conftest import FAST_SETTINGS, ROOT, dataset_rows, run_crawl, session_processes
from tests.forked_scrapy import run_commands

if TYPE_CHECKING:
    from collections.abc import Iterator

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


def test_a_crawl_whose_every_page_is_missing_fails(tmp_path: Path, site_url: str) -> None:
    # the server answered (robots.txt, a 404): Scrapy counts responses, no page was fetched
    result = run_crawl(tmp_path, "-a", f"urls={site_url}/articles/missing.html")
    assert result.returncode == 1
    assert "crawl failed: every request failed" in result.log


@pytest.mark.parametrize(
    ("urls", "status"),
    [("/articles/seed/sputnik-africa-shoigu.html", 0), ("/articles/missing.html", 1)],
)
def test_a_reader_that_stops_reading_leaves_the_exit_status(
    tmp_path: Path, site_url: str, urls: str, status: int
) -> None:
    # `scrapy crawl news ... | head -0`: a BrokenPipeError traceback on the summary, exit 1,
    # whether the crawl had stored every article or failed
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"urls={site_url}{urls}",
        "-s", f"OUTPUT_DIR={tmp_path}", *(f"-s{s}" for s in FAST_SETTINGS),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the crawl writes
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr
    assert len(dataset_rows(tmp_path)) == 1 - status


@pytest.mark.parametrize("closed", [1, 2, (0, 1, 2)])
def test_a_crawl_started_with_its_standard_streams_closed_stores_its_article(
    tmp_path: Path, site_url: str, closed: int | tuple[int, ...]
) -> None:
    # a job runner or daemon that closes them: with stderr closed, Scrapy's logging set-up
    # failed (exit 1, no message anywhere, nothing stored); with stdout closed, the crawl's
    # lock file took its number, and the extraction workers inherited it as their stdout
    numbers = closed if isinstance(closed, tuple) else (closed,)
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
        "-s", f"OUTPUT_DIR={tmp_path / 'out'}", *(f"-s{s}" for s in FAST_SETTINGS),
    ]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, timeout=120, check=False, close_fds=True,
        preexec_fn=lambda: [os.close(number) for number in numbers],
    )  # fmt: skip
    assert done.returncode == 0
    assert len(dataset_rows(tmp_path / "out")) == 1


def test_a_crawl_raises_a_low_limit_of_open_files(tmp_path: Path, site_url: str) -> None:
    # a soft limit of 36 open files (ulimit -n 36 in a job runner; the hard limit higher): the
    # crawl stored nothing and exited 1, with tracebacks
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news",
        "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
        "-s", f"OUTPUT_DIR={tmp_path / 'out'}", *(f"-s{s}" for s in FAST_SETTINGS),
    ]  # fmt: skip
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 256:
        pytest.skip(f"a hard limit of {hard} open files here")
    done = subprocess.run(
        command, cwd=ROOT, timeout=120, check=False, capture_output=True, text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (36, hard)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert len(dataset_rows(tmp_path / "out")) == 1


def test_a_refusal_keeps_its_status_when_nothing_reads_stderr(tmp_path: Path) -> None:
    # `scrapy crawl news -s DOWNLOAD_DELAY=x 2>&1 | true`: the one line could not be written,
    # and the refusal exited 1, not 2
    command = [
        sys.executable, "-m", "scrapy", "crawl", "news", "-a", "urls=http://127.0.0.1:9/a",
        "-s", f"OUTPUT_DIR={tmp_path}", "-s", "DOWNLOAD_DELAY=x",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    process.stderr.close()  # the reader is gone before the command writes
    assert process.wait(timeout=120) == 2


LATE_STOP = """
import signal, sys
from scrapy.cmdline import execute
try:
    execute(sys.argv[1:])
except SystemExit as exit:
    print("ignored" if signal.getsignal(signal.SIGTERM) == signal.SIG_IGN else "default")
    raise
"""


def test_a_stop_asked_once_the_crawl_is_over_changes_nothing(tmp_path: Path, site_url: str) -> None:
    # Python gives SIGTERM its default action back as it finalizes: a SIGTERM in a crawl's last
    # tenths of a second killed a crawl that had finished (exit status 143 instead of 0)
    completed = subprocess.run(
        [sys.executable, "-c", LATE_STOP, "scrapy", "crawl", "news",
         "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
         "-s", f"OUTPUT_DIR={tmp_path}", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.splitlines()[-1] == "ignored"


def test_a_normal_crawl_succeeds(tmp_path: Path, site_url: str) -> None:
    result = run_crawl(tmp_path, "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html")
    assert result.returncode == 0


def test_a_state_kept_for_a_new_dataset_stops_the_crawl(tmp_path: Path, site_url: str) -> None:
    # the state of a dataset reused with a new OUTPUT_DIR: every article it stored counted as
    # stored in the new one, and the crawl stored nothing, exit 0
    page = f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html"
    assert run_crawl(tmp_path / "first", "-a", page).returncode == 0
    state = f"STATE_DIR={tmp_path / 'first' / 'state'}"
    result = run_crawl(
        tmp_path / "second", "-a", page, settings=(state,), log_file=tmp_path / "second.log"
    )
    assert result.returncode == 2
    assert "records 1 data file, and OUTPUT_DIR" in result.log
    assert "Traceback" not in result.log
    assert not data_files(tmp_path / "second" / "articles")


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
    # robots.txt (a 404 counts as a response) and redirects were answered, no page was
    redirected = {
        "finish_reason": "finished",
        "downloader/response_count": 10,
        "downloader/response_status_count/301": 9,
        "downloader/response_status_count/404": 1,
        "news/fetch/error/too_many_redirects": 1,
        "news/fetch/error/truncated": 2,
    }
    assert crawl_failed(redirected) == "every request failed"
    for read in ("news/fetch/pages", "news/discovery/feeds", "news/discovery/sitemaps"):
        assert crawl_failed({**redirected, read: 1}) is None
    # nothing failed, nothing fetched (every listed article known already): done
    assert crawl_failed({"finish_reason": "finished", "news/discovery/feeds": 0}) is None


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


@pytest.mark.parametrize("setting", ["OUTPUT_DIR", "STATE_DIR"])
def test_a_symlink_loop_is_refused_at_start(tmp_path: Path, setting: str) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    completed = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a",
        "-s", f"OUTPUT_DIR={tmp_path / 'out'}", "-s", f"{setting}={tmp_path / 'a'}",
    )  # fmt: skip
    assert completed.returncode == 2  # a traceback, exit 1, before
    assert completed.stderr.startswith(f"scrapy: error: {setting} {tmp_path / 'a'} is not writable")
    assert "Too many levels of symbolic links" in completed.stderr
    assert len(completed.stderr.splitlines()) == 1


def test_a_start_refused_leaves_no_folder_behind(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    unwritable_state = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a",
        "-s", f"OUTPUT_DIR={tmp_path / 'out' / 'news'}", "-s", f"JOBDIR={tmp_path / 'job'}",
        "-s", f"STATE_DIR={tmp_path / 'a-file' / 'state'}",
    )  # fmt: skip
    assert unwritable_state.returncode == 2
    assert "STATE_DIR" in unwritable_state.stderr
    # before: OUTPUT_DIR/articles and JOBDIR were made for a crawl that never ran
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "kept").write_text("another process's")
    unwritable_output = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a",
        "-s", f"OUTPUT_DIR={tmp_path / 'a-file' / 'out'}",
        "-s", f"JOBDIR={tmp_path / 'out' / 'job'}",
    )  # fmt: skip
    assert unwritable_output.returncode == 2
    assert "OUTPUT_DIR" in unwritable_output.stderr
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["kept"]


def scrapy(
    *arguments: str, cwd: Path = ROOT, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``scrapy <arguments>`` as a user runs it (the console script)."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), *arguments],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


FREE_TEXT = ("a string", "a list of strings", "a folder", "a local folder", "an e-mail",
             "a redis:// URL", "a class path")  # fmt: skip
"""How the declarations say a setting takes any text (checked later, where it is used)."""

INVALID_SETTINGS = [
    # (setting, the line that must be printed): every case of the "today" list of issue 16,
    # where a stage was switched off with a warning (exit 0), or a traceback ended the crawl
    ("PARQUET_COMPRESSION=foo", ("PARQUET_COMPRESSION='foo': must be one of zstd, snappy, "
     "gzip, brotli, lz4, none")),
    ("PARQUET_FILE_ROWS=-5", "PARQUET_FILE_ROWS='-5': must be >= 1"),
    ("DEDUPE_POLICY=maybe", "DEDUPE_POLICY='maybe': must be one of drop, flag"),
    ("EXTRACT_WORKERS=-1", "EXTRACT_WORKERS='-1': must be >= 0"),
    ("EXTRACT_WORKERS=abc", "EXTRACT_WORKERS='abc': must be a whole number"),
    ("EXTRACT_TIMEOUT=abc", "EXTRACT_TIMEOUT='abc': must be a number"),
    ("DOWNLOAD_DELAY=abc", "DOWNLOAD_DELAY='abc': must be a number"),
    ("HTML_ARCHIVE_ENABLED=maybe", ("HTML_ARCHIVE_ENABLED='maybe': must be True or False (or 1 "
     "or 0)")),
    ("SITE_BOILERPLATE_MIN_SHARE=abc", "SITE_BOILERPLATE_MIN_SHARE='abc': must be a number"),
    ("DISCOVERY_MAX_AGE=3x", ("DISCOVERY_MAX_AGE='3x': '3x' is not a duration; use e.g. '90m', "
     "'12h', '3d', '1w' or seconds")),
    ("PARQUET_ROW_GROUP_ROWS=20000", ("PARQUET_FILE_ROWS=10000: must be at least "
     "PARQUET_ROW_GROUP_ROWS (20000)")),
    ("AUTOTHROTTLE_MAX_DELAY=1", ("AUTOTHROTTLE_MAX_DELAY=1: must be at least "
     "AUTOTHROTTLE_START_DELAY (2)")),
    ("STATE_STORES=no.such.Stores", ("STATE_STORES='no.such.Stores': cannot load it (No module "
     "named 'no')")),
    ("CONCURRENT_REQUESTS=0", "CONCURRENT_REQUESTS='0': must be >= 1"),
    ("LOG_LEVEL=LOUD", "LOG_LEVEL='LOUD': must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG"),
    # a Scrapy switch the add-on reads early (a traceback before), and times past what a crawl
    # can wait (a crawl waiting for ever, or hanging at its end, before)
    ("TELNETCONSOLE_ENABLED=maybe", ("TELNETCONSOLE_ENABLED='maybe': must be True or False (or "
     "1 or 0)")),
    ("REMOTE_CONTROL_ENABLED=maybe", ("REMOTE_CONTROL_ENABLED='maybe': must be True or False "
     "(or 1 or 0)")),
    ("DOWNLOAD_DELAY=1e308", "DOWNLOAD_DELAY='1e308': must be >= 0 and <= 86400"),
    ("EXTRACT_TIMEOUT=inf", "EXTRACT_TIMEOUT='inf': must be a finite number"),
    ("EXTRACT_TIMEOUT=1e308", "EXTRACT_TIMEOUT='1e308': must be > 0 and <= 86400"),
    ("DOWNLOAD_TIMEOUT=nan", "DOWNLOAD_TIMEOUT='nan': must be a finite number"),
    ("RUN_LOCK_WAIT=86401", "RUN_LOCK_WAIT='86401': must be >= 0 and <= 86400"),
    # Scrapy settings read as the crawl opens: a traceback, after the run lock was taken
    ("CLOSESPIDER_TIMEOUT_NO_ITEM=a", "CLOSESPIDER_TIMEOUT_NO_ITEM='a': must be a whole number"),
    ("CLOSESPIDER_PAGECOUNT_NO_ITEM=x", ("CLOSESPIDER_PAGECOUNT_NO_ITEM='x': must be a whole "
     "number")),
    ("CONCURRENT_ITEMS=abc", "CONCURRENT_ITEMS='abc': must be a whole number"),
    ("MEMUSAGE_LIMIT_MB=abc", "MEMUSAGE_LIMIT_MB='abc': must be a whole number"),
    ("DNS_TIMEOUT=abc", "DNS_TIMEOUT='abc': must be a number"),
    # a folder name of bytes that are not UTF-8: the crawl accepted its articles, and stored
    # none (the writer and the run history failed with a traceback)
    ("OUTPUT_DIR=out\udcff", "OUTPUT_DIR='out\\udcff': is not UTF-8 text"),
]  # fmt: skip


@pytest.fixture(scope="module")
def invalid_setting_crawls(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """The crawl of each of :data:`INVALID_SETTINGS`, by setting, with its ``OUTPUT_DIR``
    (children forked from one process: tests/forked_scrapy.py)."""
    outs = [tmp_path_factory.mktemp("invalid") / "out" for _ in INVALID_SETTINGS]
    commands = [
        ["crawl", "news", "-a", "urls=http://127.0.0.1:9/a.html",
         "-s", f"OUTPUT_DIR={out}", "-s", setting]
        for out, (setting, _) in zip(outs, INVALID_SETTINGS, strict=True)
    ]  # fmt: skip
    done = run_commands(commands)
    return {
        setting: (out, completed)
        for out, (setting, _), completed in zip(outs, INVALID_SETTINGS, done, strict=True)
    }


@pytest.mark.parametrize(
    ("setting", "line"), INVALID_SETTINGS, ids=[s for s, _ in INVALID_SETTINGS]
)
def test_an_invalid_setting_stops_the_crawl_before_anything(
    invalid_setting_crawls: dict[str, tuple[Path, subprocess.CompletedProcess[str]]],
    setting: str,
    line: str,
) -> None:
    out, completed = invalid_setting_crawls[setting]
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"scrapy: error: {line}"]
    assert completed.stdout == ""
    assert not out.exists()  # nothing written, not even the state folder


@pytest.mark.parametrize(
    ("option", "line"),
    [
        (("--logfile", "{file}/crawl.log"), "LOG_FILE={file}/crawl.log: cannot write it"),
        (("-s", "LOG_FILE={file}/crawl.log"), "LOG_FILE={file}/crawl.log: cannot write it"),
        (("-s", "JOBDIR={file}/job"), "JOBDIR={file}/job: cannot make the folder"),
        (("--pidfile", "{file}/crawl.pid"), "--pidfile {file}/crawl.pid: cannot write it"),
        (("--profile", "{file}/crawl.prof"), "--profile {file}/crawl.prof: cannot write it"),
    ],
)
def test_a_file_the_crawl_cannot_write_stops_it_before_anything(
    tmp_path: Path, option: tuple[str, str], line: str
) -> None:
    # a traceback, exit 1, after the run lock was taken (the profile's after the whole crawl)
    file = tmp_path / "a-file"
    file.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    completed = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a.html", "-s", f"OUTPUT_DIR={out}",
        option[0], option[1].format(file=file),
    )  # fmt: skip
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert len(completed.stderr.splitlines()) == 1, completed.stderr[-2000:]
    assert completed.stderr.startswith(f"scrapy: error: {line.format(file=file)}")
    assert not out.exists()


def test_a_log_files_folder_is_made(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "today" / "crawl.log"
    completed = scrapy(
        "summary", "-s", f"OUTPUT_DIR={tmp_path / 'out'}", "--logfile", str(log)
    )  # a missing folder was a traceback
    assert "Traceback" not in completed.stderr
    assert log.parent.is_dir()


def test_each_declared_setting_refuses_a_value_it_cannot_take() -> None:
    """Beyond the table above: every declared setting but the free-text ones refuses a value
    out of its type, range or choices, with its own name first (what the command prints)."""
    refused = set()
    for setting in DECLARED:
        problem = settings_problem(Settings({setting.name: "not valid, surely"}))
        if problem is not None and problem.startswith(f"{setting.name}="):
            refused.add(setting.name)
    free_text = {s.name for s in DECLARED if s.allowed.startswith(FREE_TEXT)}
    assert refused == {s.name for s in DECLARED} - free_text
    assert len(refused) >= 30


USAGE_ERRORS = [
    (("crawl", "nwes"), "no spider named 'nwes'; this project's: news"),
    (("crawl",), "give one spider name: scrapy crawl <spider> (this project's: news)"),
    (("crawl", "news", "-a", "nonsense"), "Invalid -a value, use -a NAME=VALUE"),
    (("crawl", "news", "-a", "feed=http://a.test/rss"),
     ("unknown spider argument feed: this spider takes urls, feeds, sitemaps, sites, sources "
     "(-a help=1 says what each is)")),
    # bytes that are not UTF-8 (a crawl started, and its start requests failed, before)
    (("crawl", "news", "-a", "urls=http://127.0.0.1:9/a\udcff"),
     "-a urls: 'http://127.0.0.1:9/a\\udcff' is not UTF-8 text"),
    (("crawl", "news", "-a", "sites=http://.../"),
     "-a sites: 'http://.../' has a host name with an empty or too long label"),
    # argparse's own errors (it printed Scrapy's usage block first: four lines)
    (("crawl", "news", "-a"), "argument -a: expected one argument"),
    (("report", "-o"), "argument -o/--output: expected one argument"),
    (("compact", "--target-rows", "abc"), "argument --target-rows: invalid int value: 'abc'"),
    (("summary", "-s"), "argument -s/--set: expected one argument"),
    (("summary", "extra"),
     "unexpected arguments: extra (the dataset is OUTPUT_DIR: -s OUTPUT_DIR=...)"),
]  # fmt: skip


@pytest.fixture(scope="module")
def usage_errors() -> list[subprocess.CompletedProcess[str]]:
    """The command of each of :data:`USAGE_ERRORS`, in their order."""
    return run_commands([list(arguments) for arguments, _ in USAGE_ERRORS])


@pytest.mark.parametrize(
    "case", range(len(USAGE_ERRORS)), ids=[" ".join(a) for a, _ in USAGE_ERRORS]
)
def test_usage_errors_are_one_line_and_status_2(
    usage_errors: list[subprocess.CompletedProcess[str]], case: int
) -> None:
    completed, (_, line) = usage_errors[case], USAGE_ERRORS[case]
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"scrapy: error: {line}"]


def test_the_spiders_arguments_are_listed(tmp_path: Path) -> None:
    nothing = scrapy("crawl", "news", "-s", f"OUTPUT_DIR={tmp_path}")
    assert nothing.returncode == 2
    assert nothing.stderr.splitlines() == [
        (
            "scrapy: error: nothing to crawl: give -a urls=, -a feeds=, -a sitemaps=, -a sites= "
            "and/or -a sources= (-a help=1 says what each is)"
        )
    ]
    listed = scrapy("crawl", "news", "-a", "help=1")
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    for name in ("urls", "feeds", "sitemaps", "sites", "sources"):
        (line,) = [line for line in lines if line.startswith(f"  -a {name}=...")]
        assert len(line) > len(name) + 20  # says what it is, in one line
    assert not (tmp_path / "articles").exists()


@pytest.mark.parametrize("command", ["summary", "compact"])
def test_a_path_without_a_dataset_is_a_usage_error(tmp_path: Path, command: str) -> None:
    completed = scrapy(command, "-s", f"OUTPUT_DIR={tmp_path / 'nothing'}")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"scrapy: error: no dataset under {tmp_path / 'nothing'}/articles"
    ]


@pytest.mark.parametrize("command", ["summary", "report", "compact"])
@pytest.mark.parametrize("switch", ["TELNETCONSOLE_ENABLED", "REMOTE_CONTROL_ENABLED"])
def test_every_command_refuses_a_bad_scrapy_switch_in_one_line(
    tmp_path: Path, command: str, switch: str
) -> None:
    """The add-on reads these two before any check (to leave an extension off unloaded); a
    value that is no boolean was a traceback on every command."""
    completed = scrapy(command, "-s", f"OUTPUT_DIR={tmp_path}", "-s", f"{switch}=maybe")
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"scrapy: error: {switch}='maybe': must be True or False (or 1 or 0)"
    ]


HOLDER = """
import sys, time
from pathlib import Path
from dataset.run_lock import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
if sys.argv[3] == "release":
    lock.release()
"""


@contextmanager
def holding(state: Path, seconds: float, end: str = "release") -> Iterator[subprocess.Popen[str]]:
    """A process holding the run lock of ``state`` for ``seconds``, then releasing it (or
    exiting without releasing it: ``end="die"``); waited for (or killed) on exit."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state), str(seconds), end],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()


def test_a_second_crawl_into_a_held_dataset_exits_3_naming_the_holder(
    tmp_path: Path, site_url: str
) -> None:
    with holding(tmp_path / "state", 30) as holder:
        completed = scrapy(
            "crawl", "news", "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
            "-s", f"OUTPUT_DIR={tmp_path}",
        )  # fmt: skip
    assert completed.returncode == 3
    (line,) = completed.stderr.splitlines()
    assert line.startswith(f"scrapy: error: another crawl holds the dataset of {tmp_path}/state")
    assert line.endswith(f"(host {host_name()}, pid {holder.pid}, since {line[-33:-1]})")
    assert line[-33:-1].startswith("20")  # an ISO 8601 start time
    assert data_files(tmp_path / "articles") == []  # nothing fetched, nothing written
    assert not (tmp_path / "state" / "crawls").exists()  # no crawl ran


def _open_files(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            found.add(str(fd.readlink()))
        except OSError:
            continue
    return found


def test_ctrl_c_while_waiting_for_the_lock_is_one_line(tmp_path: Path, site_url: str) -> None:
    # with RUN_LOCK_WAIT (600 s in the cron example), Ctrl-C printed a KeyboardInterrupt
    # traceback
    with holding(tmp_path / "state", 30) as holder:
        waiting = subprocess.Popen(
            [str(Path(sys.executable).parent / "scrapy"), "crawl", "news",
             "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
             "-s", f"OUTPUT_DIR={tmp_path}", "-s", "RUN_LOCK_WAIT=60"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        lock = str(tmp_path / "state" / "crawl.lock")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and lock not in _open_files(waiting.pid):
            time.sleep(0.1)  # the checks done, it opens the lock, then waits for it
        time.sleep(0.2)
        waiting.send_signal(signal.SIGINT)
        _, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 130
    (line,) = stderr.splitlines()
    assert line.startswith("scrapy: error: interrupted while waiting for the dataset's lock")
    assert f"pid {holder.pid}" in line


def test_a_crawl_waits_for_the_lock_and_takes_over_a_dead_ones(
    tmp_path: Path, site_url: str
) -> None:
    page = f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html"
    with holding(tmp_path / "state", 3) as holder:  # releases after 3 s
        waited = run_crawl(tmp_path, "-a", page, settings=("RUN_LOCK_WAIT=60",))
        assert holder.wait() == 0
    assert waited.returncode == 0, waited.log[-2000:]
    assert waited.stats["news/parquet/rows_written"] == 1
    with holding(tmp_path / "state", 0, end="die") as dead:  # exits holding it
        dead.wait()
    taken = run_crawl(tmp_path, "-a", page)
    assert taken.returncode == 0, taken.log[-2000:]
    assert "Took over the lock of a crawl that ended without releasing it (host" in taken.log
    assert f"pid {dead.pid}" in taken.log


LEFT_BY_KILLED_CONTAINERS = """
import os, sys
from pathlib import Path
from dataset.layout import owner_tag
tmp = Path(sys.argv[1])
# killed runs in containers of other host names, and one with this host name whose crawl had
# the pid this one has (PID 1 in each container): exec keeps the pid
for tag in ("crawl-job-1-4242", "crawl-job-2-1", owner_tag()):
    (tmp / f"requests-queue-0a1b2c3d.{tag}.tmp" / "requests.queue").mkdir(parents=True)
    (tmp / f"requests-seen-0a1b2c3d.{tag}.tmp").write_bytes(b"seen")
os.execv(sys.executable, [sys.executable, "-m", "scrapy", *sys.argv[2:]])
"""


def test_a_crawl_removes_what_killed_crawls_left_whichever_host_they_ran_on(
    tmp_path: Path, site_url: str
) -> None:
    # scheduled in containers, each run has a host name of its own: what a killed one left in
    # STATE_DIR/tmp was removed only by a later process of the same host (never), and with one
    # host name for all, the crawl is PID 1 each time: "<host>-1" looked alive (itself)
    tmp = tmp_path / "state" / "tmp"
    log = tmp_path / "crawl.log"
    completed = subprocess.run(
        [sys.executable, "-c", LEFT_BY_KILLED_CONTAINERS, str(tmp), "crawl", "news",
         "-a", f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html",
         "-s", f"OUTPUT_DIR={tmp_path}", "-s", "AUTOTHROTTLE_ENABLED=False",
         "-s", "DOWNLOAD_DELAY=0", "--logfile", str(log)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    text = log.read_text(encoding="utf-8")
    assert completed.returncode == 0, text[-3000:]
    assert list(tmp.iterdir()) == []
    assert text.count("Removed the unfinished file of a crashed crawl") == 6


def test_the_crawl_returns_once_every_process_it_started_has_exited(
    tmp_path: Path, site_url: str
) -> None:
    crawl = subprocess.Popen(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "news",
         "-a", f"feeds={site_url}/feed.xml", "-s", f"OUTPUT_DIR={tmp_path}",
         "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, errors = crawl.communicate(timeout=240)
    left = session_processes(crawl.pid)
    assert crawl.returncode == 0, errors[-2000:]
    assert left == []
    assert len(data_files(tmp_path / "articles")) == 1


@pytest.mark.parametrize("where", ["folder.parquet", "a-file/out.jsonl"])
@pytest.mark.parametrize("flag", ["-o", "-O"])
def test_an_export_that_cannot_be_written_is_refused_before_anything(
    tmp_path: Path, where: str, flag: str
) -> None:
    # the crawl ran, with a traceback for every item (974 lines for 40 pages), and exited 1
    (tmp_path / "folder.parquet").mkdir()
    (tmp_path / "a-file").write_text("a file, not a folder")
    target = tmp_path / where
    completed = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a.html",
        "-s", f"OUTPUT_DIR={tmp_path / 'out'}", flag, str(target),
    )  # fmt: skip
    assert completed.returncode == 2
    expected = (
        f"{flag} {target} is a folder; name a file"
        if target.is_dir()
        else f"{flag} {target}: cannot write it ({target.parent} is not a folder)"
    )
    assert completed.stderr.splitlines() == [f"scrapy: error: {expected}"]
    assert not (tmp_path / "out").exists()


def test_a_new_export_file_is_not_left_behind_by_the_check(tmp_path: Path) -> None:
    target = tmp_path / "new" / "out.jsonl"
    completed = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a.html",
        "-s", f"OUTPUT_DIR={tmp_path / 'out'}", "-s", "CONCURRENT_REQUESTS=0", "-O", str(target),
    )  # fmt: skip
    assert completed.returncode == 2  # a bad setting: nothing starts
    assert not target.parent.exists()  # nor its folder, made to try it


@pytest.mark.parametrize(
    ("name", "words"), [("out.json", "a JSON array"), ("out.csv", "appending to CSV")]
)
def test_appending_to_a_json_or_csv_file_is_refused(
    tmp_path: Path, site_url: str, name: str, words: str
) -> None:
    # the second run's rows made "...}\n][\n...]" (not JSON) or a header line mid-file, exit 0
    page = f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html"
    export = tmp_path / name
    assert run_crawl(tmp_path / "a", "-a", page, "-o", str(export)).returncode == 0
    kept = export.read_bytes()
    again = scrapy(
        "crawl", "news", "-a", page, "-s", f"OUTPUT_DIR={tmp_path / 'b'}", "-o", str(export)
    )
    assert again.returncode == 2
    (line,) = again.stderr.splitlines()
    assert line.startswith(f"scrapy: error: -o {export}: the file exists, and {words}")
    assert "JSON Lines file (.jsonl)" in line
    assert export.read_bytes() == kept
    lines = tmp_path / "out.jsonl"  # appended to, run after run
    assert run_crawl(tmp_path / "c", "-a", page, "-o", str(lines)).returncode == 0
    assert run_crawl(tmp_path / "d", "-a", page, "-o", str(lines)).returncode == 0
    assert len(lines.read_text(encoding="utf-8").splitlines()) == 2


def test_appending_to_a_parquet_file_is_refused(tmp_path: Path, site_url: str) -> None:
    page = f"urls={site_url}/articles/seed/sputnik-africa-shoigu.html"
    single = tmp_path / "articles.parquet"
    first = run_crawl(tmp_path / "a", "-a", page, "-o", str(single))
    assert first.returncode == 0, first.log[-2000:]
    assert pq.read_table(single).num_rows == 1
    again = scrapy(
        "crawl", "news", "-a", page, "-s", f"OUTPUT_DIR={tmp_path / 'b'}", "-o", str(single)
    )
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        (
            f"scrapy: error: -o {single}: the file exists, and Parquet cannot be appended to; "
            "use -O to replace it, or the dataset (OUTPUT_DIR) to add rows run after run"
        )
    ]
    assert pq.read_table(single).num_rows == 1  # still one valid file
    replaced = run_crawl(tmp_path / "c", "-a", page, "-O", str(single))
    assert replaced.returncode == 0, replaced.log[-2000:]
    assert pq.read_table(single).num_rows == 1


def test_a_stage_that_cannot_open_is_one_line(tmp_path: Path) -> None:
    # a full disk as the crawl state was made: asyncio printed "Task exception was never
    # retrieved" and the traceback, and no line said what went wrong
    out = tmp_path / "out"
    completed = scrapy(
        "crawl", "news", "-a", "urls=http://127.0.0.1:9/a.html", "-s", f"OUTPUT_DIR={out}",
        "-s", "STATE_STORES=tests.full_disk_stores.FullDiskStores",
    )  # fmt: skip
    assert completed.returncode == 1
    assert "never retrieved" not in completed.stderr
    assert "sqlite3.OperationalError" not in completed.stderr
    # Scrapy's CoreStats asserted the start time of the crawl that never opened, and the
    # stages opened before the failing one were never awaited: a traceback and a warning
    assert "Traceback" not in completed.stderr
    assert "never awaited" not in completed.stderr
    assert "The crawl could not start: database or disk is full" in completed.stderr
    assert completed.stdout.splitlines()[-1] == (
        "crawl failed: the crawl could not start (its error is above)"
    )
