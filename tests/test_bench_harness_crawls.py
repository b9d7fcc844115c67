"""The crawl command, commands run together and sampled, and what a crawl's report and log say;
on short stand-in commands and made-up reports (the benchmarks' own tests crawl for real).
:func:`crawl_run` makes a crawl's results up for the other bench tests."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.harness.crawls import (
    CrawlRun,
    console_scrapy,
    crawl_command,
    crawl_reports,
    drops,
    log_summary,
    python_scrapy,
    run_processes,
    stored_urls,
)
from crawler.progress import Progress, fetch_errors, progress_line
from dataset.layout import articles_dir, crawls_dir
from dataset.schema import to_table
from dataset.writer import DatasetWriter
from demo.site import load_site
from extraction.record import article_record

STATS = {
    "news/fetch/pages": 10,
    "news/parquet/rows_written": 8,
    "item_dropped_reasons_count/NotAnArticle": 1,
    "item_dropped_reasons_count/DuplicateArticle": 1,
    "news/fetch/http_error/404": 2,
    "news/fetch/error/timeout": 1,
    "elapsed_time_seconds": 4.5,
}


def crawl_run(**changes: Any) -> CrawlRun:
    """A crawl of 10 pages (8 rows) that took 5 s: ``changes`` replace its fields."""
    values: dict[str, Any] = {
        "size": 10,
        "workers": None,
        "wall": 5.0,
        "pipelines": True,
        "returncode": 0,
        "report": {"finish_reason": "finished", "stats": STATS},
        "cpu_seconds": 6.0,
        "server_cpu_seconds": 0.5,
        "peak_main_rss": 100,
        "peak_tree_rss": 300,
        "peak_tree_pss": 200,
        "max_processes": 4,
        "main_rss_quarters": (1, 2, 3, 4),
        "log_problems": (),
        "progress": (),
        "log_file": Path("crawl.log"),
    }
    return CrawlRun(**{**values, **changes})


def test_the_crawl_command(tmp_path: Path) -> None:
    command = crawl_command("http://127.0.0.1:1/sitemaps/5/index.xml", tmp_path, tmp_path / "l", 2)
    assert command[:6] == [sys.executable, "-m", "scrapy", "crawl", "news", "-a"]
    assert command[6] == "sitemaps=http://127.0.0.1:1/sitemaps/5/index.xml"
    settings = [command[i + 1] for i, part in enumerate(command) if part == "-s"]
    assert settings[0] == f"OUTPUT_DIR={tmp_path}"
    assert {"AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0", "EXTRACT_WORKERS=2"} <= set(settings)
    assert command[-2:] == ["--logfile", str(tmp_path / "l")]
    fetch_only = crawl_command(
        "u", tmp_path, tmp_path / "l", None, scrapy=console_scrapy(), pipelines=False
    )
    assert fetch_only[0].endswith("/bin/scrapy")
    assert "ITEM_PIPELINES={}" in fetch_only
    assert not any(part.startswith("EXTRACT_WORKERS") for part in fetch_only)
    extra = crawl_command("u", tmp_path, tmp_path / "l", 0, settings={"REDIS_URL": "redis://x"})
    assert extra[-4:-2] == ["-s", "REDIS_URL=redis://x"]
    assert python_scrapy(tmp_path / "p.prof")[1:4] == ["-m", "cProfile", "-o"]


def test_commands_run_together_sampled_and_killed_after_the_timeout(tmp_path: Path) -> None:
    commands = [
        [sys.executable, "-c", "print('done')"],
        [sys.executable, "-c", "import time; time.sleep(30)"],
    ]
    outputs = [tmp_path / "a.out", tmp_path / "b.out"]
    done = run_processes(commands, outputs, timeout=1.5, cwd=tmp_path)
    assert done.returncodes[0] == 0
    assert done.returncodes[1] == -9  # killed
    assert 1.0 < done.wall < 10
    assert done.started_at > 0
    assert done.cpu_seconds > 0
    assert outputs[0].read_text() == "done\n"
    assert len(done.sampler.processes) >= 1
    assert done.sampler.peak("tree_pss") > 0


def _progress(fetched: int) -> Progress:
    return Progress(
        elapsed=0, discovered=900, queued=3, fetched=fetched, stored=fetched - 5, dropped=5,
        errors=1, committed=0,
    )  # fmt: skip


def test_what_reports_and_logs_say(tmp_path: Path) -> None:
    reports = crawls_dir(tmp_path)
    reports.mkdir(parents=True)
    for name, reason in (("2026-01-01T00-00-00-1.json", "shutdown"), ("2026-01-02-2.json", "ok")):
        (reports / name).write_text(json.dumps({"finish_reason": reason}), encoding="utf-8")
    assert [r["finish_reason"] for r in crawl_reports(tmp_path)] == ["shutdown", "ok"]
    assert drops(STATS) == {"DuplicateArticle": 1, "NotAnArticle": 1}
    assert fetch_errors(STATS) == 3
    log = tmp_path / "crawl.log"

    def progress_at(time: str, fetched: int) -> str:  # the line crawler/progress.py logs
        line = progress_line(_progress(fetched), rate=None)
        return f"2026-01-01 {time} [crawler.progress] INFO: {line}\n"

    log.write_text(
        progress_at("10:00:00", 0)
        + "2026-01-01 10:00:01 [news] ERROR: something broke\n"
        + progress_at("10:01:00", 600)
        + progress_at("10:03:00", 900),
        encoding="utf-8",
    )
    problems, progress = log_summary(log)
    assert problems == ("2026-01-01 10:00:01 [news] ERROR: something broke",)
    assert [pages for _, pages in progress] == [0, 600, 900]
    run = crawl_run(progress=progress)
    assert run.rates == [600.0, 150.0]
    assert run.longest_silence == (120.0, datetime(2026, 1, 1, 10, 1))
    assert log_summary(tmp_path / "missing.log") == ((), ())


def test_a_crawl_run_reads_its_report() -> None:
    run = crawl_run()
    assert (run.article_responses, run.rows, run.elapsed) == (10, 8, 4.5)
    assert run.pages_per_second == 2.0
    assert run.drops == {"DuplicateArticle": 1, "NotAnArticle": 1}
    assert run.fetch_errors == 3
    assert run.finished
    assert not crawl_run(returncode=1).finished
    assert not crawl_run(report={"finish_reason": "shutdown"}).finished
    assert crawl_run(report={}).article_responses == 0


def test_stored_urls_counts_the_committed_rows(tmp_path: Path) -> None:
    page = load_site().pages[1]
    record = article_record(page.body(), "https://demo.test/a")
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table([record, {**record, "id": "2" * 32}]))
    writer.commit()
    assert articles_dir(tmp_path).is_dir()
    assert stored_urls(tmp_path) == {"https://demo.test/a": 2}
