"""The Parquet stage (:mod:`pipelines.parquet`): settings, row validation, buffering and commits
through the dataset writer, off the reactor."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from dataset.layout import data_files, read_keys
from dataset.schema import ARTICLE_SCHEMA
from extraction.record import row_id
from extraction.text import content_hash
from pipelines.parquet import (
    PARQUET_COMMIT_INTERVAL,
    PARQUET_COMPRESSION,
    PARQUET_COMPRESSION_LEVEL,
    PARQUET_FILE_ROWS,
    PARQUET_ROW_GROUP_BYTES,
    PARQUET_ROW_GROUP_ROWS,
    InvalidRow,
    ParquetPipeline,
)
from pipelines.setting import SettingError
from pipelines.signals import articles_committed

if TYPE_CHECKING:
    from collections.abc import Coroutine

ROOT = Path(__file__).resolve().parents[1]
DAY = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def article_item(index: int, **fields: Any) -> ArticleItem:
    url = f"https://example.com/news/{index}"
    text = f"Article number {index}."
    digest = content_hash(text)
    values: dict[str, Any] = {
        "url": url,
        "fetched_at": DAY,
        "id": row_id(url, digest),
        "text": text,
        "content_hash": digest,
        "word_count": 3,
        "source": "example.com",
    }
    return ArticleItem(**(values | fields))


def run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that must finish without awaiting anything (no event loop needed)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    pytest.fail("the coroutine awaited something")


# --- ParquetPipeline: configuration and row validation -----------------------------------------


def build_pipeline(tmp_path: Path, **settings: Any) -> ParquetPipeline:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    return build_from_crawler(ParquetPipeline, crawler)


def test_pipeline_reads_settings(tmp_path: Path) -> None:
    pipeline = build_pipeline(
        tmp_path,
        PARQUET_ROW_GROUP_ROWS=2,
        PARQUET_ROW_GROUP_BYTES=4096,
        PARQUET_FILE_ROWS=10,
        PARQUET_COMMIT_INTERVAL=30,
        PARQUET_COMPRESSION="GZIP",
        PARQUET_COMPRESSION_LEVEL="5",
    )
    assert pipeline.row_group_rows == 2
    assert pipeline.row_group_bytes == 4096
    assert pipeline.commit_interval == 30.0
    assert pipeline.writer.file_rows == 10
    assert pipeline.writer.compression == "gzip"
    assert pipeline.writer.compression_level == 5
    assert pipeline.writer.articles == tmp_path / "articles"
    assert pipeline.writer.tmp == tmp_path / "state" / "tmp"


def test_pipeline_defaults(tmp_path: Path) -> None:
    pipeline = build_pipeline(tmp_path)
    assert pipeline.row_group_rows == PARQUET_ROW_GROUP_ROWS.default == 1000
    assert pipeline.row_group_bytes == PARQUET_ROW_GROUP_BYTES.default == 2 * 1024 * 1024
    assert pipeline.commit_interval == PARQUET_COMMIT_INTERVAL.default == 600.0
    assert pipeline.writer.file_rows == PARQUET_FILE_ROWS.default == 10_000
    assert pipeline.writer.compression == PARQUET_COMPRESSION.default == "zstd"
    assert pipeline.writer.compression_level is PARQUET_COMPRESSION_LEVEL.default is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"PARQUET_ENABLED": False}, "PARQUET_ENABLED is off"),
        ({"OUTPUT_DIR": ""}, "OUTPUT_DIR='': a folder or an object store URI is needed"),
        ({"PARQUET_ROW_GROUP_ROWS": 0}, "PARQUET_ROW_GROUP_ROWS=0: must be >= 1"),
        ({"PARQUET_ROW_GROUP_ROWS": -1}, "PARQUET_ROW_GROUP_ROWS=-1: must be >= 1"),
        ({"PARQUET_ROW_GROUP_BYTES": 0}, "PARQUET_ROW_GROUP_BYTES=0: must be >= 1"),
        (
            {"PARQUET_ROW_GROUP_BYTES": "2MB"},
            "PARQUET_ROW_GROUP_BYTES='2MB': must be a whole number",
        ),
        (
            {"PARQUET_ROW_GROUP_ROWS": 100, "PARQUET_FILE_ROWS": 99},
            "PARQUET_FILE_ROWS=99: must be at least PARQUET_ROW_GROUP_ROWS (100)",
        ),
        ({"PARQUET_COMMIT_INTERVAL": 0}, "PARQUET_COMMIT_INTERVAL=0: must be > 0 and <= 86400"),
        ({"PARQUET_COMMIT_INTERVAL": -5}, "PARQUET_COMMIT_INTERVAL=-5: must be > 0 and <= 86400"),
        (
            {"PARQUET_COMPRESSION": "rar"},
            "PARQUET_COMPRESSION='rar': must be one of zstd, snappy, gzip, brotli, lz4, none",
        ),
    ],
)
def test_pipeline_not_configured(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    refusal = NotConfigured if message.endswith("is off") else SettingError
    with pytest.raises(refusal, match=f"^{re.escape(message)}$"):
        build_from_crawler(ParquetPipeline, crawler)


def test_pipeline_buffers_a_valid_item(tmp_path: Path) -> None:
    pipeline = build_pipeline(tmp_path, PARQUET_ROW_GROUP_ROWS=2)
    item = article_item(1)
    assert run_to_completion(pipeline.process_item(item)) is item
    assert pipeline.buffered_rows == 1
    assert pipeline.stats.get_value("news/parquet/rows_buffered") == 1
    assert pipeline.stats.get_value("news/parquet/invalid_row") is None


@pytest.mark.parametrize(
    "fields",
    [
        {"word_count": "many"},
        {"language_confidence": "high"},
        {"published_at": "yesterday"},
    ],
)
def test_pipeline_rejects_item_of_wrong_type(tmp_path: Path, fields: dict[str, Any]) -> None:
    pipeline = build_pipeline(tmp_path, PARQUET_ROW_GROUP_ROWS=2)
    with pytest.raises(InvalidRow, match="news/1") as raised:
        run_to_completion(pipeline.process_item(article_item(1, **fields)))
    assert isinstance(raised.value, DropItem)
    assert pipeline.buffered_rows == 0
    assert pipeline.stats.get_value("news/parquet/invalid_row") == 1


@pytest.mark.parametrize("text", ["", "   \n\n  "])
def test_pipeline_never_writes_a_row_without_text(tmp_path: Path, text: str) -> None:
    """A page that was not extracted (``EXTRACT_ENABLED=False``, or any stage that emptied it)
    has no text: its row is refused, so nothing of it reaches the dataset."""
    pipeline = build_pipeline(tmp_path, PARQUET_ROW_GROUP_ROWS=1)
    with pytest.raises(InvalidRow, match="the text is empty"):
        run_to_completion(pipeline.process_item(article_item(1, text=text)))
    assert pipeline.buffered_rows == 0
    assert pipeline.stats.get_value("news/parquet/invalid_row") == 1


@pytest.mark.parametrize("missing", ["id", "content_hash"])
def test_pipeline_rejects_item_without_required_field(tmp_path: Path, missing: str) -> None:
    # ``id`` and ``content_hash`` are None whenever the normalize stage did not run; the
    # schema declares them non-nullable, so such an item must be dropped here instead of
    # failing the whole row group later in the writer thread.
    assert not ARTICLE_SCHEMA.field(missing).nullable
    pipeline = build_pipeline(tmp_path, PARQUET_ROW_GROUP_ROWS=2)
    with pytest.raises(InvalidRow):
        run_to_completion(pipeline.process_item(article_item(1, **{missing: None})))
    assert pipeline.buffered_rows == 0
    assert pipeline.stats.get_value("news/parquet/invalid_row") == 1


# --- ParquetPipeline end to end, driven with the asyncio reactor -----------------------------
#
# The pipeline's writes run in a Twisted thread pool and are awaited through
# maybe_deferred_to_future(), so they need an installed reactor. Installing one is global
# and permanent for a process, so the driver below runs in a fresh interpreter: it installs
# the asyncio reactor (without running it: the asyncio loop it wraps delivers the thread
# pool's results) and drives the pipeline's coroutines with loop.run_until_complete().

DRIVER = r"""
import asyncio, json, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.utils.reactor import install_reactor

install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from dataset.state.embedded import CrawlState
from dataset.layout import state_dir
from pipelines.dedupe import DedupePipeline
from extraction.text import content_hash
from extraction.record import row_id
from pipelines.parquet import ParquetPipeline
from pipelines.signals import articles_committed, commit_check

DAY = datetime(2024, 5, 1, 12, tzinfo=UTC)


def item(index, fetched_at=DAY, **fields):
    url = f"https://example.com/news/{index}"
    text = f"Article number {index}."
    digest = content_hash(text)
    values = dict(
        url=url, fetched_at=fetched_at, id=row_id(url, digest), text=text,
        content_hash=digest, word_count=3, source="example.com",
    )
    return ArticleItem(**(values | fields))


def listing(root, pattern):
    return sorted(p.relative_to(root).as_posix() for p in root.glob(pattern))


async def scenario(out, settings, items, pause_after=None, pause=0.0, with_dedupe=False,
                   request_after=None, forbid_after=None):
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(out), **settings})
    events = []
    forbidden = []

    def on_committed(file, keys):
        events.append({"file": file, "keys": keys,
                       "visible": listing(out / "articles", "*/*.parquet")})

    def on_commit_check():
        return forbidden[0] if forbidden else None

    crawler.signals.connect(on_committed, signal=articles_committed)
    crawler.signals.connect(on_commit_check, signal=commit_check)
    dedupe = build_from_crawler(DedupePipeline, crawler) if with_dedupe else None
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    stale = out / "state" / "tmp" / "part-x.parquet.999999.tmp"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"partial")
    if dedupe:
        dedupe.open_spider()
    pipeline.open_spider()
    trace = []
    for number, article in enumerate(items, 1):
        if dedupe:
            dedupe.process_item(article)
        try:
            returned, error = await pipeline.process_item(article), None
        except Exception as exc:
            returned, error = None, type(exc).__name__
        requested = again = None
        if number == request_after:
            requested = pipeline.on_commit_requested()
            if pipeline.requested_commit is not None:
                await maybe_deferred_to_future(pipeline.requested_commit)
            again = pipeline.on_commit_requested()
        if number == forbid_after:
            forbidden.append("taken for dead")
        trace.append({
            "requested": requested,
            "requested_again": again,
            "returned_same": returned is article,
            "error": error,
            "stats": dict(crawler.stats.get_stats()),
            "events": len(events),
            "visible": listing(out / "articles", "*/*.parquet"),
            "tmp": listing(out / "state" / "tmp", "*"),
            "known": bool(dedupe) and dedupe.state.has_url(article.url),
        })
        if number == pause_after:
            time.sleep(pause)
    try:
        await pipeline.close_spider()
        close_error = None
    except Exception as exc:
        close_error = type(exc).__name__
    if dedupe:
        dedupe.close_state()
    state = CrawlState.open(state_dir(out))
    known = [state.has_url(article.url) for article in items]
    state.close()
    return {
        "trace": trace,
        "events": events,
        "stats": dict(crawler.stats.get_stats()),
        "visible": listing(out / "articles", "*/*.parquet"),
        "tmp": listing(out / "state" / "tmp", "*"),
        "stale_removed": not stale.exists(),
        "known_after_close": known,
        "pool_stopped": not pipeline.pool.started,
        "close_error": close_error,
    }


async def main(base):
    return {
        "groups": await scenario(
            base / "groups",
            {"PARQUET_ROW_GROUP_ROWS": 2, "PARQUET_FILE_ROWS": 4},
            [item(i) for i in range(5)],
            with_dedupe=True,
        ),
        "interval": await scenario(
            base / "interval",
            {"PARQUET_ROW_GROUP_ROWS": 2, "PARQUET_COMMIT_INTERVAL": 0.2},
            [item(i) for i in range(4)],
            pause_after=2,
            pause=0.5,
        ),
        "dates": await scenario(
            base / "dates",
            {"PARQUET_ROW_GROUP_ROWS": 10},
            [item(1, DAY), item(2, DAY + timedelta(days=1)), item(3, DAY + timedelta(days=1))],
        ),
        "bytes": await scenario(
            base / "bytes",
            {"PARQUET_ROW_GROUP_ROWS": 1000, "PARQUET_ROW_GROUP_BYTES": 20_000},
            [item(i, text="word " * 1800) for i in range(7)],
        ),
        "invalid": await scenario(
            base / "invalid",
            {"PARQUET_ROW_GROUP_ROWS": 2},
            [item(1), item(2, id=None), item(3), item(4)],
        ),
        "requested": await scenario(
            base / "requested",
            {"PARQUET_ROW_GROUP_ROWS": 2},
            [item(i) for i in range(4)],
            request_after=3,
        ),
        "forbidden": await scenario(
            base / "forbidden",
            {"PARQUET_ROW_GROUP_ROWS": 2},
            [item(i) for i in range(5)],
            forbid_after=3,
        ),
    }


loop = asyncio.get_event_loop()
print(json.dumps(loop.run_until_complete(main(Path(sys.argv[1]))), default=str))
"""


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    base = tmp_path_factory.mktemp("parquet-pipeline")
    script = base / "driver.py"
    script.write_text(DRIVER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(base)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1]), base


def test_pipeline_writes_row_groups_and_commits_full_files(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, base = driven
    run = results["groups"]
    trace = run["trace"]
    assert all(step["returned_same"] for step in trace)
    # Item 1 is only buffered; item 2 completes a row group and opens a file in state/tmp.
    assert trace[0]["stats"].get("news/parquet/row_groups") is None
    assert trace[0]["tmp"] == []
    assert trace[1]["stats"]["news/parquet/row_groups"] == 1
    assert len(trace[1]["tmp"]) == 1
    assert trace[1]["tmp"][0].endswith(".tmp")
    assert trace[1]["visible"] == []
    assert trace[1]["events"] == 0
    # Item 4 fills the file (PARQUET_FILE_ROWS=4): committed, announced, visible.
    assert trace[2]["events"] == 0
    assert trace[3]["events"] == 1
    assert len(trace[3]["visible"]) == 1
    assert trace[3]["tmp"] == []
    assert trace[3]["stats"]["news/parquet/files"] == 1
    assert trace[3]["stats"]["news/parquet/rows_written"] == 4
    # Item 5 waits in the buffer until the spider closes.
    assert trace[4]["events"] == 1
    assert trace[4]["stats"]["news/parquet/rows_buffered"] == 5

    stats = run["stats"]
    assert stats["news/parquet/rows_buffered"] == 5
    assert stats["news/parquet/row_groups"] == 3
    assert stats["news/parquet/files"] == 2
    assert stats["news/parquet/rows_written"] == 5
    assert run["tmp"] == []
    assert run["stale_removed"]
    assert run["pool_stopped"]

    files = data_files(base / "groups" / "articles")
    assert [path.relative_to(base / "groups" / "articles").as_posix() for path in files] == (
        run["visible"]
    )
    assert [pq.read_table(path).num_rows for path in files] == [4, 1]
    for path in files:
        assert path.parent.name == "fetch_date=2024-05-01"
        assert pq.read_schema(path).equals(ARTICLE_SCHEMA)
        metadata = pq.ParquetFile(path).metadata
        assert all(metadata.row_group(i).num_rows <= 2 for i in range(metadata.num_row_groups))


def test_pipeline_writes_a_row_group_once_its_rows_hold_the_bytes_allowed(
    driven: tuple[dict[str, Any], Path],
) -> None:
    # rows of ~9 KB against 20,000 bytes: a row group every third row, long before 1,000 rows
    results, base = driven
    run = results["bytes"]
    groups = [step["stats"].get("news/parquet/row_groups") for step in run["trace"]]
    assert groups == [None, None, 1, 1, 1, 2, 2]
    assert run["stats"]["news/parquet/row_groups"] == 3  # the last row at the close
    (path,) = data_files(base / "bytes" / "articles")
    metadata = pq.ParquetFile(path).metadata
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [3, 3, 1]


def test_pipeline_announces_each_file_once_it_is_visible(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, base = driven
    events = results["groups"]["events"]
    assert len(events) == 2
    for event in events:
        assert event["file"] in event["visible"]
        path = base / "groups" / "articles" / event["file"]
        assert [
            [str(v) if isinstance(v, datetime) else v for v in key] for key in read_keys(path)
        ] == event["keys"]
    urls = [key[0] for event in events for key in event["keys"]]
    assert urls == [f"https://example.com/news/{i}" for i in range(5)]


def test_dedupe_state_learns_rows_only_when_committed(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, _ = driven
    run = results["groups"]
    # Rows 1-3 are buffered or in an uncommitted file: unknown to the state. Once the file
    # is committed (after item 4), its rows are known.
    assert [step["known"] for step in run["trace"]] == [False, False, False, True, False]
    assert run["known_after_close"] == [True] * 5


def test_pipeline_commits_an_open_file_after_the_interval(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, base = driven
    run = results["interval"]
    trace = run["trace"]
    # Items 1-2 are written as a row group into an open file; after the pause, item 3 finds
    # the file due and is written and committed with it.
    assert trace[1]["events"] == 0
    assert len(trace[1]["tmp"]) == 1
    assert trace[2]["events"] == 1
    assert trace[2]["tmp"] == []
    assert [len(event["keys"]) for event in run["events"]] == [3, 1]
    files = data_files(base / "interval" / "articles")
    assert [pq.read_table(path).num_rows for path in files] == [3, 1]


def test_pipeline_splits_utc_dates_into_partitions(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, base = driven
    run = results["dates"]
    assert [step["events"] for step in run["trace"]] == [0, 0, 0]
    assert run["stats"]["news/parquet/row_groups"] == 1
    assert run["stats"]["news/parquet/files"] == 2
    files = data_files(base / "dates" / "articles")
    assert [path.parent.name for path in files] == [
        "fetch_date=2024-05-01",
        "fetch_date=2024-05-02",
    ]
    assert [pq.read_table(path).num_rows for path in files] == [1, 2]


def test_pipeline_item_without_id_does_not_lose_other_rows(
    driven: tuple[dict[str, Any], Path],
) -> None:
    results, base = driven
    run = results["invalid"]
    # Item 2 has no id (a required column): it alone must be dropped as InvalidRow; items
    # 1, 3 and 4 must be stored, and no empty file may appear.
    assert [step["error"] for step in run["trace"]] == [None, "InvalidRow", None, None]
    assert run["close_error"] is None
    files = data_files(base / "invalid" / "articles")
    urls = [url for path in files for url in pq.read_table(path).column("url").to_pylist()]
    assert urls == [f"https://example.com/news/{i}" for i in (1, 3, 4)]
    assert all(pq.read_table(path).num_rows > 0 for path in files)


def test_archive_is_off_by_default(tmp_path: Path) -> None:
    pipeline = build_pipeline(tmp_path)
    assert pipeline.writer.html is None
    assert build_pipeline(tmp_path, HTML_ARCHIVE_ENABLED=True).writer.html == tmp_path / "html"


# --- write errors --------------------------------------------------------------------------


def disk_full_at(
    pipeline: ParquetPipeline, monkeypatch: pytest.MonkeyPatch, write: int
) -> list[int]:
    """Make the writer's ``write``-th row group fail as on a full disk; returns a list that
    grows by one for every write tried."""
    tried: list[int] = []
    real_write_slice = pipeline.writer._write_slice

    def writing(*args: Any) -> None:
        tried.append(len(tried))
        if len(tried) == write:
            raise OSError(28, "No space left on device", str(pipeline.writer.tmp))
        real_write_slice(*args)

    monkeypatch.setattr(pipeline.writer, "_write_slice", writing)
    return tried


def stops_asked(crawler: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The reasons the pipeline asks the engine to stop the crawl for, recorded."""
    stops: list[str] = []

    class Engine:
        async def close_spider_async(self, *, reason: str) -> None:
            stops.append(reason)

    monkeypatch.setattr(type(crawler), "engine", Engine(), raising=False)
    return stops


def test_a_write_error_stops_the_crawl_and_leaves_nothing_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "PARQUET_ROW_GROUP_ROWS": 2})
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    pipeline.writer.open()
    announced: list[str] = []

    def on_committed(file: str, keys: Any) -> None:
        announced.append(file)

    crawler.signals.connect(on_committed, signal=articles_committed)

    async def in_this_thread(function: Any, *args: Any) -> Any:
        return function(*args)

    monkeypatch.setattr(pipeline, "_in_writer_thread", in_this_thread)
    stops = stops_asked(crawler, monkeypatch)
    disk_full_at(pipeline, monkeypatch, write=2)

    async def scenario() -> None:
        for index in range(6):
            await pipeline.process_item(article_item(index))
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert stops == ["write_error"]
    assert pipeline.failed
    assert crawler.stats.get_value("news/parquet/write_error") == 1
    # rows 1-2 went into the open file, rows 3-4 failed, rows 5-6 came after: none written
    assert crawler.stats.get_value("news/parquet/rows_lost") == 6
    assert "Cannot write the dataset, stopping the crawl: No space left on device" in caplog.text
    assert data_files(tmp_path / "articles") == []
    assert list((tmp_path / "state" / "tmp").iterdir()) == []
    assert announced == []


def test_a_commit_that_fails_counts_each_lost_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The last row group was written into the open file, then renaming the file into its
    # partition failed: its rows were counted once as unwritten and again with the file
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "PARQUET_ROW_GROUP_ROWS": 2})
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    pipeline.writer.open()

    async def in_this_thread(function: Any, *args: Any) -> Any:
        return function(*args)

    def publish(tmp: Path, final: Path) -> None:
        raise OSError(30, "Read-only file system", str(final.parent))

    monkeypatch.setattr(pipeline, "_in_writer_thread", in_this_thread)
    monkeypatch.setattr("dataset.writer._publish", publish)
    stops = stops_asked(crawler, monkeypatch)

    async def scenario() -> None:
        for index in range(3):  # a row group of 2 written, 1 row buffered
            await pipeline.process_item(article_item(index))
        await pipeline._flush(commit=True)

    asyncio.run(scenario())
    assert stops == ["write_error"]
    assert crawler.stats.get_value("news/parquet/rows_lost") == 3
    assert data_files(tmp_path / "articles") == []


def test_a_write_under_way_when_another_fails_leaves_nothing_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Two flushes queued for the writer thread: the first fails (the disk is full), the
    # second, already queued, runs after it. The writer refuses it (it used to open a new file,
    # or write into the one pyarrow had closed): its rows are lost too, with no second error.
    crawler = get_crawler(
        settings_dict={
            "OUTPUT_DIR": str(tmp_path),
            "PARQUET_ROW_GROUP_ROWS": 1,
            "HTML_ARCHIVE_ENABLED": True,
        }
    )
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    pipeline.writer.open()
    writer_thread = asyncio.Lock()  # one function at a time, in the order asked (FIFO)

    async def in_order(function: Any, *args: Any) -> Any:
        async with writer_thread:
            await asyncio.sleep(0)  # the other flush asks meanwhile
            return function(*args)

    monkeypatch.setattr(pipeline, "_in_writer_thread", in_order)
    stops = stops_asked(crawler, monkeypatch)
    writes = disk_full_at(pipeline, monkeypatch, write=1)

    async def scenario() -> None:
        await asyncio.gather(*(pipeline.process_item(article_item(n)) for n in (1, 2)))

    asyncio.run(scenario())
    assert len(writes) == 1  # the second write was refused: no file of its own
    assert stops == ["write_error"]
    assert caplog.text.count("Cannot write the dataset") == 1
    assert crawler.stats.get_value("news/parquet/write_error") == 1
    assert crawler.stats.get_value("news/parquet/rows_lost") == 2
    assert data_files(tmp_path / "articles") == []
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


PANDAS_AFTER_A_CRAWL = """
import sys
import pyarrow as pa
from pipelines.parquet import keep_pandas_out
keep_pandas_out()
pa.RecordBatch.from_pylist([{"a": 1, "b": "x"}])
print("pandas" in sys.modules)
table = pa.table({"a": [1, 2]})
print(type(table.to_pandas()).__name__)  # asked for, pandas is there
"""


def test_the_crawl_process_does_not_load_pandas() -> None:
    pytest.importorskip("pandas", reason="pandas (the dev extras) installed: the case guarded")
    done = subprocess.run(
        [sys.executable, "-c", PANDAS_AFTER_A_CRAWL],
        capture_output=True, text=True, timeout=60, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "DataFrame"]
    # without the guard, pyarrow's first conversion does load it
    plain = PANDAS_AFTER_A_CRAWL.replace("keep_pandas_out()\n", "", 1)
    done = subprocess.run(
        [sys.executable, "-c", plain], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.split() == ["True", "DataFrame"]


def test_pipeline_commits_what_it_holds_when_asked(
    driven: tuple[dict[str, Any], Path],
) -> None:
    """``commit_requested`` (a Redis-mode worker with nothing left to fetch, whom the others
    wait for): the open file and the buffer are committed at once; the stage answers that it
    holds rows until they are."""
    results, base = driven
    run = results["requested"]
    trace = run["trace"]
    assert [step["requested"] for step in trace] == [None, None, True, None]
    assert trace[2]["requested_again"] is False  # nothing held any more
    assert [step["events"] for step in trace] == [0, 0, 1, 1]
    assert [len(event["keys"]) for event in run["events"]] == [3, 1]
    files = data_files(base / "requested" / "articles")
    assert [pq.read_table(path).num_rows for path in files] == [3, 1]


def test_pipeline_commits_nothing_once_forbidden(
    driven: tuple[dict[str, Any], Path],
) -> None:
    """A ``commit_check`` receiver that forbids (a Redis-mode worker the others took for dead:
    another may be storing the same articles): the open file is deleted, and nothing more is
    written, nor announced, not even when the spider closes."""
    results, base = driven
    run = results["forbidden"]
    assert len(run["trace"][1]["tmp"]) == 1  # a row group written, before
    assert run["trace"][3]["tmp"] == []  # deleted at the next write
    assert run["events"] == []
    assert run["visible"] == []
    assert run["tmp"] == []
    assert run["close_error"] is None
    assert run["stats"]["news/parquet/rows_discarded"] == 5
    assert "news/parquet/files" not in run["stats"]
    assert not data_files(base / "forbidden" / "articles")
