"""Per-source accounting (crawler/source_accounting.py): two named sources crawled twice, the
second time with one of them answering 403 to its new articles and an empty feed; the run
history (dataset/run_history.py) says what each run did for each source."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from redis import Redis
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.run_summary import run_summary
from crawler.source_accounting import SourceAccounting, health_rules
from dataset import compaction, run_history
from dataset.layout import host_name
from dataset.run_history import FILE_PREFIX as RUNS_PREFIX
from dataset.run_history import (
    INDEX_FILE,
    RUNS_SCHEMA_VERSION,
    RUNS_SCHEMA_VERSION_KEY,
    RunInfo,
    SourceRun,
    per_run,
    read_runs,
    to_table,
    write_runs,
)
from dataset.run_history import SCHEMA as RUNS_SCHEMA
from dataset.run_history import SORT_KEYS as RUNS_ORDER
from dataset.state.redis import RedisStores
from dataset.state.redis_registry import WorkerRegistry
from dataset.storage import location_of
from demo.site import Response, base_url, serve
from pipelines.signals import ARTICLE_META
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import serve as hostile_serve
from tests.markdown import code_under
from tests.newssite import NewsSite
from tests.test_reading_recipes import DATASET_DOC

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.redis_server import RedisTarget

SOURCES = """
[[source]]
name = "alpha"
home = "{alpha}/"

[[source]]
name = "beta"
home = "{beta}/"
"""
EMPTY_RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title></channel></rss>'


@pytest.fixture(scope="module")
def sites() -> dict[str, NewsSite]:
    return {"alpha": NewsSite.build(), "beta": NewsSite.build(first=1000)}


@pytest.fixture(scope="module")
def servers(sites: dict[str, NewsSite]) -> Iterator[dict[str, Any]]:
    with serve(sites["alpha"]) as alpha, serve(sites["beta"]) as beta:  # type: ignore[arg-type]
        yield {"alpha": alpha, "beta": beta}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, Any]) -> Path:
    folder = tmp_path_factory.mktemp("accounting")
    (folder / "sources.toml").write_text(
        SOURCES.format(alpha=base_url(servers["alpha"]), beta=base_url(servers["beta"])),
        encoding="utf-8",
    )
    return folder


def _crawl(out: Path) -> list[dict[str, Any]]:
    """Crawl both sources; the rows the run added to the history, by source."""
    before = read_runs(location_of(out / "data")).num_rows
    result = run_crawl(out / "data", "-a", f"sources={out / 'sources.toml'}")
    assert result.returncode == 0, result.log[-3000:]
    rows = per_run(read_runs(location_of(out / "data")))
    added = rows[before:] if before else rows
    assert len({row["run_id"] for row in added}) == 1
    return added


@pytest.fixture(scope="module")
def first(out: Path) -> dict[str, dict[str, Any]]:
    return {row["source"]: row for row in _crawl(out)}


@pytest.fixture(scope="module")
def second(
    first: dict[str, dict[str, Any]], out: Path, sites: dict[str, NewsSite]
) -> dict[str, dict[str, Any]]:
    beta = sites["beta"]
    for article in beta.publish(4):
        beta.routes[article.path] = Response(403, {"Content-Type": "text/html"}, b"Forbidden")
    beta.routes["/rss.xml"] = Response(200, {"Content-Type": "application/rss+xml"}, EMPTY_RSS)
    return {row["source"]: row for row in _crawl(out)}


def test_the_first_run_counts_each_source(
    first: dict[str, dict[str, Any]], out: Path, sites: dict[str, NewsSite]
) -> None:
    assert set(first) == {"alpha", "beta"}
    rows = dataset_rows(out / "data")
    stored = Counter(row["source_name"] for row in rows)
    text = Counter()
    for article in rows:
        text[article["source_name"]] += len(article["text"])
    for name, row in first.items():
        assert row["text_chars"] == text[name] > 0
        articles = len(sites[name].articles)
        # every article, and the private page the sitemap lists (robots.txt forbids it)
        assert row["discovered"] == articles + 1
        assert row["fetched"] == articles
        assert row["stored"] == stored[name] == articles
        assert row["dropped"] == {}
        assert row["skipped_known"] == row["skipped_rejected"] == 0
        # the entries of the feeds and sitemaps (sections and tags list the others)
        assert row["listed"] == articles - 8 + 1
        # robots-named sitemaps, feeds, the home page and its sections and tags
        assert row["listings"] >= 8
        # a listing page that is gone (the home page's /about/) is no feed or sitemap error
        assert row["listing_errors"] == 0
        assert row["errors"] == {"robots_forbidden": 1, "http_404": 1}
        assert row["bytes"] > 0
        newest = max(
            r["published_at"] for r in dataset_rows(out / "data") if r["source_name"] == name
        )
        assert row["newest_published_at"] == newest
        assert row["finish_reason"] == "finished"


def test_a_run_with_a_blocked_source_says_which_and_how(
    second: dict[str, dict[str, Any]], sites: dict[str, NewsSite]
) -> None:
    alpha, beta = second["alpha"], second["beta"]
    assert alpha["skipped_known"] == len(sites["alpha"].articles)
    assert alpha["fetched"] == alpha["stored"] == 0
    assert alpha["errors"] == {"robots_forbidden": 1, "http_404": 1}  # as in the first run
    # beta's four new articles: two were in its (now empty) feed, two in its news sitemap
    assert beta["errors"] == {"robots_forbidden": 1, "http_404": 1, "http_403": 2}
    assert beta["fetched"] == beta["stored"] == 0
    assert beta["listed"] < alpha["listed"]


def test_the_docs_recipe_reads_the_history(second: dict[str, dict[str, Any]], out: Path) -> None:
    (code,) = code_under(DATASET_DOC, "The run history")
    namespace: dict[str, Any] = {}
    exec(compile(code.replace("output/runs", str(out / "data" / "runs")), "dataset.md", "exec"),
         namespace)  # fmt: skip
    per_source = namespace["per_source"]
    assert set(per_source.index) == {"alpha", "beta"}
    assert int(per_source.loc["alpha", "stored"]) == second["alpha"]["stored"] + len(
        [r for r in dataset_rows(out / "data") if r["source_name"] == "alpha"]
    )
    assert "run_date" in namespace["runs"].columns
    assert namespace["runs_pl"].height == len(namespace["runs"])


T0 = datetime(2026, 12, 1, 6, tzinfo=UTC)


def _info(worker: str, *, minutes: int = 0) -> RunInfo:
    return RunInfo(
        run_id="r1",
        started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0 + timedelta(minutes=minutes + 5),
        finish_reason="finished",
        worker=worker,
    )


def test_the_processes_of_one_run_add_up(tmp_path: Path) -> None:
    location = location_of(tmp_path)
    one = SourceRun("alpha", fetched=3, stored=2, dropped=Counter(ListingPage=1))
    one.saw_published(T0)
    two = SourceRun("alpha", fetched=4, stored=4, errors=Counter(http_403=2))
    two.saw_published(T0 + timedelta(hours=1))
    write_runs(location, _info("host-1"), [one, SourceRun("beta", listed=5)])
    write_runs(location, _info("host-2", minutes=1), [two])
    (merged_alpha, merged_beta) = per_run(read_runs(location))
    assert merged_alpha["workers"] == 2
    assert (merged_alpha["fetched"], merged_alpha["stored"]) == (7, 6)
    assert merged_alpha["dropped"] == {"ListingPage": 1}
    assert merged_alpha["errors"] == {"http_403": 2}
    assert merged_alpha["newest_published_at"] == T0 + timedelta(hours=1)
    assert merged_alpha["finished_at"] == T0 + timedelta(minutes=6)
    assert (merged_beta["source"], merged_beta["listed"], merged_beta["workers"]) == ("beta", 5, 1)


def test_no_history_reads_as_an_empty_table(tmp_path: Path) -> None:
    table = read_runs(location_of(tmp_path))
    assert table.num_rows == 0
    assert table.schema == to_table(_info("h"), []).schema


def test_a_history_that_cannot_be_written_leaves_no_file(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(OSError, match="runs"):
        write_runs(location_of(tmp_path), _info("h"), [SourceRun("alpha")])
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]


def test_the_docs_recipe_reads_every_column_beside_files_of_an_older_schema(
    tmp_path: Path,
) -> None:
    location = location_of(tmp_path)
    name = write_runs(location, _info("host-1", minutes=60 * 24), [SourceRun("a", text_chars=9)])
    newer = tmp_path / "runs" / name
    assert pq.read_schema(newer).metadata[RUNS_SCHEMA_VERSION_KEY] == RUNS_SCHEMA_VERSION.encode()
    # a file of version 1, written before three columns were added (no metadata then)
    older = to_table(_info("host-0"), [SourceRun("a", stored=1)])
    older = older.drop_columns(["rechecked", "article_errors", "text_chars"])
    (tmp_path / "runs" / "run_date=2026-11-30").mkdir()
    pq.write_table(
        older.replace_schema_metadata(None),
        tmp_path / "runs" / "run_date=2026-11-30" / "run-20261130T060000.000000Z-host-0.parquet",
    )
    (code,) = code_under(DATASET_DOC, "The run history")
    namespace: dict[str, Any] = {}
    exec(compile(code.replace("output/runs", str(tmp_path / "runs")), "dataset.md", "exec"),
         namespace)  # fmt: skip

    polars_runs = namespace["runs_pl"].to_pandas()  # Polars failed: extra column rechecked
    for unsorted in (namespace["runs"], namespace["history"], polars_runs):
        frame = unsorted.sort_values("started_at")
        assert len(frame) == 2
        assert {"rechecked", "article_errors", "text_chars", "run_date"} <= set(frame.columns)
        assert frame["text_chars"].isna().tolist() == [True, False]
        assert frame["text_chars"].iloc[1] == 9
        assert frame["stored"].tolist() == [1, 0]
    assert read_runs(location).column("text_chars").to_pylist() == [None, 9]


def test_a_process_killed_writing_its_rows_leaves_nothing_readers_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = location_of(tmp_path)
    write_runs(location, _info("host-1"), [SourceRun("alpha", stored=2)])

    def killed(fd: int) -> None:  # the process dies between the write and the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(run_history.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        write_runs(location, _info("host-2", minutes=1), [SourceRun("alpha", stored=3)])

    (left,) = [
        path for path in (tmp_path / "runs").rglob("*") if path.is_file() and "host-2" in path.name
    ]
    assert left.name.startswith(".")  # complete, never renamed: no run
    assert len(pd.read_parquet(tmp_path / "runs")) == read_runs(location).num_rows == 1
    assert ds.dataset(tmp_path / "runs", partitioning="hive").to_table().num_rows == 1


@pytest.fixture(scope="module")
def dead_pid() -> int:
    # The pid of a process that ran and was reaped (reuse within the test is unlikely).
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    assert process.wait() == 0
    return process.pid


def test_the_next_crawl_removes_the_files_a_killed_crawl_was_writing(
    tmp_path: Path, dead_pid: int
) -> None:
    location = location_of(tmp_path)
    name = write_runs(location, _info("host-1"), [SourceRun("alpha", stored=2)])
    partition = (tmp_path / "runs" / name).parent
    ours, theirs = f"{host_name()}-{dead_pid}", f"another-host-{dead_pid}"
    stale = [
        partition / f".run-a.parquet.{ours}.tmp",  # killed before the rename
        partition / f"run-b.parquet.{ours}.tmp",  # named by an older version: read as a run
    ]
    running = partition / ".run-c.parquet.1.tmp"  # pid 1 always runs
    shared = partition / f".run-d.parquet.{theirs}.tmp"  # another machine's (NFS)
    for path in (*stale, running, shared):
        path.write_bytes(b"PAR1 cut short")
    with pytest.raises(pa.ArrowInvalid, match="magic bytes"):
        pd.read_parquet(tmp_path / "runs")

    SourceAccounting(get_crawler(), location).spider_opened(get_crawler().spider)

    assert not any(path.exists() for path in stale)
    assert running.exists()
    assert shared.exists()
    assert len(pd.read_parquet(tmp_path / "runs")) == 1


def test_a_run_history_file_another_host_was_writing_an_hour_ago_is_removed(
    tmp_path: Path,
) -> None:
    # in containers every run has a host name of its own: what a run killed while writing its
    # rows left was another machine's, kept for good (OUTPUT_DIR may be shared: no lock says
    # whether that machine still runs, but a file is written and renamed at once)
    location = location_of(tmp_path)
    name = write_runs(location, _info("host-1"), [SourceRun("alpha", stored=2)])
    partition = (tmp_path / "runs" / name).parent
    killed = partition / ".run-a.parquet.crawl-job-3-1.tmp"
    writing = partition / ".run-b.parquet.crawl-job-5-1.tmp"  # being written, elsewhere
    for path in (killed, writing):
        path.write_bytes(b"PAR1 cut short")
    an_hour_ago = time.time() - run_history.STALE_AFTER - 60
    os.utime(killed, (an_hour_ago, an_hour_ago))

    SourceAccounting(get_crawler(), location).spider_opened(get_crawler().spider)

    assert not killed.exists()
    assert writing.exists()


def test_a_page_listed_twice_and_skipped_twice_counts_once(tmp_path: Path) -> None:
    # a feed and a sitemap listing the same stored article: "42 articles found, 44 skipped"
    accounting = SourceAccounting(get_crawler(), location_of(tmp_path))
    for url, reason in [("https://a.test/1", "known"), ("https://a.test/2", "rejected")] * 2:
        accounting.article_skipped(Request(url, meta={ARTICLE_META: True}), reason)
    (run,) = accounting.sources.values()
    assert (run.discovered, run.skipped_known, run.skipped_rejected) == (2, 1, 1)


def test_an_argument_url_counts_for_its_site_not_for_a_source_of_that_site(
    tmp_path: Path,
) -> None:
    # `-a urls=` on a configured source's host counted for that source: its failures made the
    # source "unhealthy (blocked)", exit 4, though all its own articles were stored
    accounting = SourceAccounting(get_crawler(), location_of(tmp_path))
    listed = Request("https://a.test/g/1", cb_kwargs={"source": "gamma"})
    given = Request("https://a.test/x/9", cb_kwargs={"source": None})
    robots = Request("https://a.test/robots.txt")  # not the spider's: no source of its own
    assert accounting.source_of(listed) == "gamma"
    assert accounting.source_of(given) == "a.test"
    assert accounting.source_of(robots) == "gamma"


HEALTH = {"SOURCE_HEALTH_MIN_RUNS": 1, "SOURCE_HEALTH_WINDOW": 2}
"""Judged from the first earlier run on, against two: the newest (2 + 1) x 4 files are read."""
NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def healthy(name: str) -> SourceRun:
    return SourceRun(name, listings=2, listed=10, discovered=4, fetched=4, stored=4)


def failing(name: str) -> SourceRun:
    """A run where every feed and sitemap of the source failed."""
    return SourceRun(name, listing_errors=2)


def crawl_end(
    output: Path, started: datetime, *sources: SourceRun, **settings: Any
) -> SourceAccounting:
    """The end of one crawl, as the extension sees it: these figures written to the run
    history of the dataset ``output`` and judged."""
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(output), **HEALTH, **settings})
    accounting = SourceAccounting.from_crawler(crawler)
    accounting.started = started
    for run in sources:
        accounting.sources[run.source] = run
    accounting.spider_closed(crawler.spider, "finished")
    return accounting


def test_a_redirected_request_counts_for_the_site_it_was_sent_to(tmp_path: Path) -> None:
    # every article of a.test sent to consent.a.test: the walled pages counted for a new
    # source, consent.a.test, never judged (no earlier run), and a.test's run looked healthy
    accounting = SourceAccounting(get_crawler(), location_of(tmp_path))
    walled = Request(
        "https://consent.a.test/collect?continue=x",
        cb_kwargs={"source": None},
        meta={"redirect_urls": ["https://www.a.test/2024/story.html"]},
    )
    assert accounting.source_of(walled) == "a.test"


def test_a_sources_runs_are_found_behind_other_crawls_runs(
    tmp_path: Path, files_read: list[str]
) -> None:
    # the newest (window + 1) x sources x 4 files were read: crawls of another sources file
    # into the same dataset pushed the source's own runs out, and a blocked source was not
    # judged (exit 0; scrapy report said "unhealthy"); then the history was read four times
    # deeper until they were found, up to 20,000 files (thirteenth fault hunt, F3)
    for number in range(2):
        crawl_end(tmp_path, NOW + timedelta(minutes=number), healthy("gamma"))
    for number in range(40):
        crawl_end(tmp_path, NOW + timedelta(minutes=10 + number), healthy("zeta"))
    files_read.clear()
    accounting = crawl_end(tmp_path, NOW + timedelta(hours=1), failing("gamma"))
    assert [(f.source, f.rule) for f in accounting.unhealthy] == [("gamma", "listing")]
    # the newest 12 files but its own (zeta's), and the two the index names for gamma
    assert len(files_read) == 11 + 2


def test_a_new_source_is_judged_on_a_bounded_read_of_the_history(
    tmp_path: Path, files_read: list[str]
) -> None:
    # a source with fewer earlier runs than the window (new in sources.toml, or a site an
    # aggregator's feed links once) made the crawl read the whole history: 38.7 s at 4,000
    # past runs (thirteenth fault hunt, F3)
    location = location_of(tmp_path)
    for number in range(100):
        started = NOW - timedelta(minutes=5 * number)
        info = RunInfo(
            run_id=f"z{number}",
            started_at=started,
            finished_at=started,
            finish_reason="finished",
            worker="w",
        )
        write_runs(location, info, [healthy("zeta")])
    files_read.clear()
    accounting = crawl_end(tmp_path, NOW + timedelta(minutes=1), healthy("zeta"), failing("new"))
    assert accounting.unhealthy == []  # a new source never alarms
    assert len(files_read) == (HEALTH["SOURCE_HEALTH_WINDOW"] + 1) * 4 - 1  # and its own


def test_a_run_is_judged_on_its_own_rows_beside_runs_of_a_clock_that_was_ahead(
    tmp_path: Path,
) -> None:
    # runs made with the clock 30 days ahead wrote the newest-named files; the run's own
    # row was not among those read, its source not judged: every feed failing exited 0
    # (thirteenth fault hunt, F2)
    crawl_end(tmp_path, NOW, healthy("gamma"))
    for number in range(12):
        crawl_end(tmp_path, NOW + timedelta(days=30, minutes=number), healthy("gamma"))
    accounting = crawl_end(tmp_path, NOW + timedelta(hours=1), failing("gamma"))
    assert [(f.source, f.rule) for f in accounting.unhealthy] == [("gamma", "listing")]


@pytest.mark.parametrize("damage", ["not a database", "a folder"])
def test_an_index_that_cannot_be_used_is_one_warning_and_the_newest_runs_judge(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    crawl_end(tmp_path, NOW, healthy("gamma"))
    index = tmp_path / "state" / INDEX_FILE
    index.unlink()
    if damage == "a folder":
        index.mkdir()
    else:
        index.write_bytes(b"not a database" * 100)
    caplog.clear()
    accounting = crawl_end(tmp_path, NOW + timedelta(hours=1), failing("gamma"), failing("new"))
    assert [(f.source, f.rule) for f in accounting.unhealthy] == [("gamma", "listing")]
    (line,) = [r.getMessage() for r in caplog.records if "run-history index" in r.getMessage()]
    assert line.startswith(f"Cannot use the run-history index {index} (")
    assert caplog.records[-1].levelname != "ERROR"
    assert accounting.crawler.stats.get_value("news/source_health/index_error") == 1


@pytest.mark.parametrize(
    ("ahead", "warned"),
    [(timedelta(days=30, hours=2, minutes=30), True), (timedelta(minutes=3), False)],
)
def test_a_clock_behind_the_newest_run_is_one_warning_at_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ahead: timedelta, warned: bool
) -> None:
    # runs made with the clock 30 days ahead, then a crawl on the right clock: nothing said
    # so (thirteenth fault hunt, F2)
    now = datetime.now(UTC)
    crawl_end(tmp_path, now - timedelta(days=1), healthy("gamma"))
    crawl_end(tmp_path, now + ahead, healthy("gamma"))
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **HEALTH})
    accounting = SourceAccounting.from_crawler(crawler)
    caplog.clear()
    accounting.spider_opened(crawler.spider)
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    behind = crawler.stats.get_value("news/source_history/clock_behind")
    if not warned:
        assert (lines, behind) == ([], None)
        return
    (line,) = lines
    assert line.startswith(f"The clock ({accounting.started:%Y-%m-%d %H:%M:%S} UTC) is 30d 2h")
    started = now + ahead
    assert f"behind the newest run of the run history (started {started:%Y-%m-%d %H:%M}" in line
    assert abs(behind - ahead.total_seconds()) < 60


def test_a_sources_runs_merged_by_a_compaction_are_found_in_their_partition(
    tmp_path: Path, files_read: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the index names gamma's two files of three days ago; scrapy compact merged them during
    # that day, and more runs of another crawl came into the partition after it: the
    # partition's newest files were read for them, and gamma was judged on no earlier run
    days_ago = NOW - timedelta(days=3)
    for number in range(2):
        crawl_end(tmp_path, days_ago + timedelta(minutes=number), healthy("gamma"))
    partition = tmp_path / "runs" / f"run_date={days_ago:%Y-%m-%d}"

    class CompactedThen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return days_ago + timedelta(minutes=5)

    with monkeypatch.context() as patched:
        patched.setattr(compaction, "datetime", CompactedThen)
        merged = compaction.compact_partition(
            partition, tmp_path, schema=RUNS_SCHEMA, sort_keys=RUNS_ORDER, prefix=RUNS_PREFIX
        )
    assert merged is not None
    for number in range(HEALTH["SOURCE_HEALTH_WINDOW"] + 2):  # later that day
        crawl_end(tmp_path, days_ago + timedelta(minutes=10 + number), healthy("zeta"))
    for number in range(20):
        crawl_end(tmp_path, NOW + timedelta(minutes=number), healthy("zeta"))
    assert sorted(path.name for path in partition.iterdir())[0] == merged.written[0]

    files_read.clear()
    accounting = crawl_end(tmp_path, NOW + timedelta(hours=1), failing("gamma"))
    assert [(f.source, f.rule) for f in accounting.unhealthy] == [("gamma", "listing")]
    assert files_read[-1] == f"{partition.name}/{merged.written[0]}"


def test_the_run_history_is_written_with_the_datasets_compression(tmp_path: Path) -> None:
    # PARQUET_COMPRESSION covers every Parquet file the project writes: the run history's
    # files were written with pyarrow's snappy whatever it said
    crawl_end(
        tmp_path,
        datetime.now(UTC),
        SourceRun("alpha", listings=1),
        PARQUET_COMPRESSION="gzip",
        PARQUET_COMPRESSION_LEVEL=4,
    )
    (written,) = (tmp_path / "runs").rglob("*.parquet")
    columns = pq.ParquetFile(written).metadata.row_group(0)
    assert {columns.column(n).compression for n in range(columns.num_columns)} == {"GZIP"}
    # the run history's few-valued columns are dictionary-encoded, its counts are not
    encoded = {
        columns.column(n).path_in_schema: "RLE_DICTIONARY" in columns.column(n).encodings
        for n in range(columns.num_columns)
    }
    assert encoded["source"]
    assert encoded["run_id"]
    assert not encoded["listings"]


def test_a_redis_run_is_judged_by_its_last_worker_on_every_workers_rows(
    tmp_path: Path, shared_redis: RedisTarget
) -> None:
    # a worker that joined a Redis run late, whose one request (an article another worker
    # had queued) timed out, stopped first and judged its own row alone: "delta (failing):
    # not one page, feed or sitemap read: all 1 requests failed (timeout 1)", exit status 4,
    # in a healthy run (fourteenth fault hunt, F16)
    client = Redis.from_url(shared_redis.url)
    first, late = (
        RedisStores(WorkerRegistry(client, shared_redis.prefix, timeout=30)) for _ in range(2)
    )
    first.registry.join(run_keys=[])
    late.registry.join(run_keys=[])
    try:
        workers = []
        for stores in (first, late):
            crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **HEALTH})
            workers.append(SourceAccounting(crawler, location_of(tmp_path), stores))
            workers[-1].rules = health_rules(crawler.settings)
        workers[0].sources["delta"] = healthy("delta")
        workers[1].sources["delta"] = SourceRun("delta", errors=Counter(timeout=1))
        workers[1].spider_closed(workers[1].crawler.spider, "finished")
        assert workers[1].unhealthy == []
        assert not workers[1].judged
        assert "judged by the last worker" in run_summary({}, [], None)
        workers[0].spider_closed(workers[0].crawler.spider, "finished")
        assert workers[0].judged
        assert workers[0].unhealthy == []
        # every worker's rows judged: the late one's failure beside the other's articles
        assert workers[0].crawler.stats.get_value("news/source_health/unhealthy_sources") == 0
        # a run of which nothing came is still named, by the last worker, on both rows
        nothing = [SourceRun("omega", errors=Counter(dns=1)) for _ in range(2)]
        second = [RedisStores(WorkerRegistry(client, f"{shared_redis.prefix}b", timeout=30))]
        second.append(RedisStores(WorkerRegistry(client, f"{shared_redis.prefix}b", timeout=30)))
        judges = []
        for stores, run in zip(second, nothing, strict=True):
            stores.registry.join(run_keys=[])
            crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **HEALTH})
            judges.append(SourceAccounting(crawler, location_of(tmp_path), stores))
            judges[-1].rules = health_rules(crawler.settings)
            judges[-1].sources["omega"] = run
        for accounting in judges:
            accounting.spider_closed(accounting.crawler.spider, "finished")
        assert [accounting.judged for accounting in judges] == [False, True]
        assert [(f.source, f.rule) for f in judges[1].unhealthy] == [("omega", "failing")]
        assert "all 2 requests failed (dns 2)" in judges[1].unhealthy[0].detail
        for stores in second:
            stores.close()
    finally:
        first.close()
        late.close()


OLD_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Old</title>{items}
</channel></rss>"""


def test_a_source_that_found_nothing_says_why_in_the_closing_table(tmp_path: Path) -> None:
    # a source whose every listed entry was older than max_age found 0, and neither the
    # closing table nor the health lines said why: news/discovery/too_old counted every
    # source's together (fourteenth fault hunt, F13)
    items = "".join(
        f"<item><title>Story {n}</title><link>{{base}}/2020/story-{n}.html</link>"
        f"<pubDate>Mon, 0{n} Jun 2020 10:00:00 +0000</pubDate></item>"
        for n in range(1, 4)
    )
    with hostile_serve() as server:
        feed = OLD_RSS.format(items=items.format(base=server.base_url)).encode()
        server.routes["/rss.xml"] = Response(200, {"Content-Type": "application/rss+xml"}, feed)
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "old"\nfeeds = ["{server.url("/rss.xml")}"]\nmax_age = "1d"\n',
            encoding="utf-8",
        )
        result = run_crawl(tmp_path / "data", "-a", f"sources={tmp_path / 'sources.toml'}")
    assert result.stats["news/discovery/too_old"] == 3
    assert "  old found nothing: 3 listed articles older than its max_age\n" in result.log


def test_a_redis_run_of_many_workers_is_judged_on_every_workers_file(
    tmp_path: Path, shared_redis: RedisTarget
) -> None:
    # the last worker read the newest (window + 1) x 4 files of the history: 12 here, so in a
    # run of 13 workers the first one's rows were not read, and its source, of which nothing
    # came, was never named (exit status 0)
    client = Redis.from_url(shared_redis.url)
    workers = 13
    stores = [
        RedisStores(WorkerRegistry(client, shared_redis.prefix, timeout=30)) for _ in range(workers)
    ]
    try:
        accountings = []
        for one in stores:
            one.registry.join(run_keys=[])
            crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **HEALTH})
            accountings.append(SourceAccounting(crawler, location_of(tmp_path), one))
            accountings[-1].rules = health_rules(crawler.settings)
            # each worker's file is named for when it started
            accountings[-1].started -= timedelta(seconds=workers - len(accountings))
        accountings[0].sources["omega"] = SourceRun("omega", errors=Counter(dns=1))
        for accounting in accountings[1:]:
            accounting.sources["delta"] = healthy("delta")
        for accounting in accountings:
            accounting.spider_closed(accounting.crawler.spider, "finished")
        assert [a.judged for a in accountings] == [False] * (workers - 1) + [True]
        assert [(f.source, f.rule) for f in accountings[-1].unhealthy] == [("omega", "failing")]
    finally:
        for one in stores:
            one.close()
