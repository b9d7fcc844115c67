from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.report import CrawlReport, latest_report_in
from dataset.layout import owner_tag
from pipelines.setting import SettingError

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def make_report(output_dir: Path) -> tuple[Crawler, CrawlReport]:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(output_dir)})
    assert crawler.stats is not None
    return crawler, build_from_crawler(CrawlReport, crawler)


def report_files(output_dir: Path) -> list[Path]:
    folder = output_dir / "state" / "crawls"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_spider_closed_writes_the_report(tmp_path: Path) -> None:
    crawler, extension = make_report(tmp_path)
    assert crawler.stats is not None
    start = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    crawler.stats.set_value("start_time", start)
    crawler.stats.set_value("item_scraped_count", 3)
    crawler.stats.inc_value("news/parquet/rows_written", 3)
    crawler.stats.set_value("elapsed_time_seconds", 1.5)
    crawler.stats.set_value("log_count/ERROR", 0)
    before = datetime.now(UTC)

    extension.spider_closed(Spider(name="news"), "finished")

    [path] = report_files(tmp_path)
    assert path.suffix == ".json"
    assert path.name.endswith(f"-{os.getpid()}.json")
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["spider"] == "news"
    assert report["finish_reason"] == "finished"
    assert report["pid"] == os.getpid()
    stats = report["stats"]
    assert stats["start_time"] == "2024-05-01T12:00:00.123456+00:00"
    assert stats["item_scraped_count"] == 3
    assert stats["news/parquet/rows_written"] == 3
    assert stats["elapsed_time_seconds"] == 1.5
    assert stats["log_count/ERROR"] == 0
    started = datetime.fromisoformat(report["started_at"])
    finished = datetime.fromisoformat(report["finished_at"])
    assert started.utcoffset() == timedelta(0)
    assert finished.utcoffset() == timedelta(0)
    assert started <= before <= finished


def test_report_serializes_odd_stat_values(tmp_path: Path) -> None:
    crawler, extension = make_report(tmp_path)
    assert crawler.stats is not None
    berlin = timezone(timedelta(hours=2))
    crawler.stats.set_value("local_time", datetime(2024, 5, 1, 14, 0, tzinfo=berlin))
    crawler.stats.set_value("flag", True)
    crawler.stats.set_value("nothing", None)
    crawler.stats.set_value("a_set", {"only"})
    crawler.stats.set_value("a_timedelta", timedelta(seconds=90))

    extension.spider_closed(Spider(name="news"), "shutdown")

    [path] = report_files(tmp_path)
    report = json.loads(path.read_text(encoding="utf-8"))
    stats = report["stats"]
    assert report["finish_reason"] == "shutdown"
    assert stats["local_time"] == "2024-05-01T12:00:00+00:00"
    assert stats["flag"] is True
    assert stats["nothing"] is None
    assert stats["a_set"] == "{'only'}"
    assert stats["a_timedelta"] == "0:01:30"
    assert list(stats) == sorted(stats)


def test_report_leaves_no_temporary_file(tmp_path: Path) -> None:
    _, extension = make_report(tmp_path)
    extension.spider_closed(Spider(name="news"), "finished")
    assert [path.name.endswith(".json") for path in report_files(tmp_path)] == [True]


def test_spider_closed_signal_writes_the_report(tmp_path: Path) -> None:
    crawler, _ = make_report(tmp_path)
    crawler.signals.send_catch_log(
        signal=signals.spider_closed, spider=Spider(name="news"), reason="closespider_timeout"
    )
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["finish_reason"] == "closespider_timeout"


def test_latest_report_without_reports(tmp_path: Path) -> None:
    assert latest_report_in(tmp_path / "state") is None
    (tmp_path / "state" / "crawls").mkdir(parents=True)
    assert latest_report_in(tmp_path / "state") is None


def test_latest_report_returns_the_newest(tmp_path: Path) -> None:
    older_crawler, older = make_report(tmp_path)
    newer_crawler, newer = make_report(tmp_path)
    assert older.started < newer.started
    assert older_crawler.stats is not None
    assert newer_crawler.stats is not None
    older_crawler.stats.set_value("run", "older")
    newer_crawler.stats.set_value("run", "newer")

    older.spider_closed(Spider(name="news"), "finished")
    newer.spider_closed(Spider(name="news"), "shutdown")

    assert len(report_files(tmp_path)) == 2
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "newer"
    assert report["finish_reason"] == "shutdown"


def test_latest_report_goes_by_finish_not_by_start(tmp_path: Path) -> None:
    older_crawler, older = make_report(tmp_path)
    newer_crawler, newer = make_report(tmp_path)
    assert older_crawler.stats is not None
    assert newer_crawler.stats is not None
    older_crawler.stats.set_value("run", "older")
    newer_crawler.stats.set_value("run", "newer")
    # The later crawl finishes first (crawls of one STATE_DIR may overlap in Redis mode): the
    # last crawl is the one that finished last
    newer.spider_closed(Spider(name="news"), "finished")
    older.spider_closed(Spider(name="news"), "finished")

    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "older"


def write_report(output_dir: Path, started: datetime, run: str, **fields: Any) -> Path:
    """A report as a crawl started at ``started`` (and finished a minute later) writes it."""
    folder = output_dir / "state" / "crawls"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{started:%Y%m%dT%H%M%S.%fZ}-{started.minute + 100}.json"
    report = {
        "spider": "news",
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=1)).isoformat(),
        "finish_reason": "finished",
        "stats": {"run": run},
        **fields,
    }
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def test_a_report_written_with_the_clock_ahead_is_not_the_last_crawl(tmp_path: Path) -> None:
    # runs made while the clock was 30 days ahead: scrapy summary called them the last crawl
    # until that date, whatever ran since (thirteenth fault hunt, F2)
    now = datetime.now(UTC)
    for day in range(3):
        write_report(tmp_path, now + timedelta(days=30 + day), f"ahead {day}")
    write_report(tmp_path, now - timedelta(hours=2), "earlier")
    write_report(tmp_path, now - timedelta(hours=1), "last")
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "last"
    # with none but those, one of them is all there is
    only_ahead = tmp_path / "ahead"
    write_report(only_ahead, now + timedelta(days=30), "ahead")
    report = latest_report_in(only_ahead / "state")
    assert report is not None
    assert report["stats"]["run"] == "ahead"


def test_a_report_without_its_finish_time_counts_by_its_start(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    write_report(tmp_path, now - timedelta(hours=2), "no finish time", finished_at=None)
    long = (now - timedelta(hours=1)).isoformat()
    write_report(tmp_path, now - timedelta(hours=3), "long", finished_at=long)
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "long"
    write_report(tmp_path, now - timedelta(minutes=30), "started later", finished_at="?")
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "started later"


def test_latest_report_ignores_other_files(tmp_path: Path) -> None:
    crawler, extension = make_report(tmp_path)
    assert crawler.stats is not None
    crawler.stats.set_value("run", "real")
    extension.spider_closed(Spider(name="news"), "finished")
    folder = tmp_path / "state" / "crawls"
    (folder / "99991231T235959.999999Z-1.json.tmp").write_text("{not json", encoding="utf-8")
    (folder / "zzz-notes.txt").write_text("notes", encoding="utf-8")
    report = latest_report_in(tmp_path / "state")
    assert report is not None
    assert report["stats"]["run"] == "real"


@pytest.mark.parametrize(
    ("settings", "refusal"),
    [({"REPORT_ENABLED": False}, NotConfigured), ({"OUTPUT_DIR": ""}, SettingError)],
)
def test_not_configured(tmp_path: Path, settings: dict[str, Any], refusal: type[Exception]) -> None:
    """Switched off, the report is not configured; with no OUTPUT_DIR, it refuses to run."""
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    with pytest.raises(refusal):
        build_from_crawler(CrawlReport, crawler)


def test_reports_beyond_report_keep_are_deleted_oldest_first(tmp_path: Path) -> None:
    # STATE_DIR/crawls/ grew by a report a run for ever: 105,000 a year at a run every five
    # minutes (thirteenth fault hunt, F3)
    now = datetime.now(UTC)
    old = [write_report(tmp_path, now - timedelta(hours=n), f"run {n}") for n in range(5, 0, -1)]
    ahead = write_report(tmp_path, now + timedelta(days=30), "ahead")  # a clock set ahead
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "REPORT_KEEP": 3})
    extension = build_from_crawler(CrawlReport, crawler)
    extension.spider_closed(Spider(name="news"), "finished")
    kept = report_files(tmp_path)
    assert len(kept) == 3
    assert old[-1] in kept
    assert ahead in kept
    assert [path for path in kept if path not in old and path != ahead]  # its own, kept
    # 0 keeps every one
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "REPORT_KEEP": 0})
    build_from_crawler(CrawlReport, crawler).spider_closed(Spider(name="news"), "finished")
    assert len(report_files(tmp_path)) == 4


def test_reports_that_cannot_be_deleted_are_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        write_report(tmp_path, now - timedelta(hours=n + 1), f"run {n}")
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "REPORT_KEEP": 1})
    extension = build_from_crawler(CrawlReport, crawler)

    def refused(path: Path, missing_ok: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "unlink", refused)
    extension.spider_closed(Spider(name="news"), "finished")
    assert len(report_files(tmp_path)) == 4
    (line,) = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert line.startswith("Cannot delete 3 old crawl reports beyond REPORT_KEEP=1 in ")
    assert crawler.stats is not None
    assert crawler.stats.get_value("news/report/prune_error") == 1


def test_the_reports_killed_crawls_left_unfinished_are_removed_as_a_crawl_starts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a crawl killed (-9) while it wrote its report left <start>-<pid>.json.tmp for ever
    crawler, extension = make_report(tmp_path)
    folder = tmp_path / "state" / "crawls"
    folder.mkdir(parents=True)
    here = owner_tag().rsplit("-", 1)[0]
    an_hour_ago = time.time() - 3700
    left = [
        folder / f"20261201T000000.000000Z-7.json.{here}-{2**30}.tmp",  # a dead process's
        folder / "20261201T000000.000000Z-8.json.pod-3-1.tmp",  # an earlier container's
        folder / "20261201T000000.000000Z-9.json.tmp",  # an older version's
    ]
    kept = [
        folder / f"20261202T000000.000000Z-1.json.{here}-{os.getppid()}.tmp",  # live
        folder / "20261202T000000.000000Z-2.json.pod-4-1.tmp",  # another machine's, now
        folder / "20261202T000000.000000Z-3.json",  # a report
    ]
    for path in left + kept:
        path.write_text("{", encoding="utf-8")
    for path in left[1:]:
        os.utime(path, (an_hour_ago, an_hour_ago))
    with caplog.at_level("INFO", logger="crawler.report"):
        extension.spider_opened(Spider(name="news"))
    assert [path.exists() for path in left + kept] == [False] * 3 + [True] * 3
    assert crawler.stats.get_value("news/report/leftovers_removed") == 3
    lines = [r.getMessage() for r in caplog.records if r.name == "crawler.report"]
    assert lines == [f"Removed 3 unfinished crawl reports that killed crawls left in {folder}"]
    extension.spider_closed(Spider(name="news"), "finished")  # its own written aside, renamed
    assert len(list(folder.glob("*.json"))) == 2
    assert sorted(folder.glob("*.tmp")) == sorted(kept[:2])
