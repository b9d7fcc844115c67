from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from pipelines import parquet
from pipelines.dataset import (
    data_file_name,
    data_files,
    owner_tag,
    partition_name,
    read_keys,
)
from pipelines.normalize import content_hash, row_id
from pipelines.parquet import (
    DatasetWriter,
    InvalidRow,
    ParquetPipeline,
    remove_stale_tmp_files,
)
from pipelines.schema import ARTICLE_SCHEMA, HTML_SCHEMA, SCHEMA_VERSION, to_table

if TYPE_CHECKING:
    from collections.abc import Coroutine

ROOT = Path(__file__).resolve().parents[1]
DAY = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CLOCK = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def article_row(
    index: int, *, fetched_at: datetime = DAY, canonical_url: str | None = None
) -> dict[str, Any]:
    url = f"https://example.com/news/{index}"
    text = f"Article number {index}."
    digest = content_hash(text)
    return {
        "id": row_id(url, digest),
        "url": url,
        "canonical_url": canonical_url,
        "source": "example.com",
        "title": f"Title {index}",
        "authors": ["Jane Doe"],
        "published_at": fetched_at - timedelta(hours=1),
        "fetched_at": fetched_at,
        "language": "en",
        "language_confidence": 0.99,
        "text": text,
        "word_count": 3,
        "tags": ["news"],
        "content_hash": digest,
        "discovered_via": "url",
    }


def article_item(index: int, **fields: Any) -> ArticleItem:
    row = article_row(index)
    values = {
        key: row[key]
        for key in ("url", "fetched_at", "id", "text", "content_hash", "word_count", "source")
    }
    return ArticleItem(**(values | fields))


def make_writer(output_dir: Path, **kwargs: Any) -> DatasetWriter:
    writer = DatasetWriter(output_dir, clock=lambda: CLOCK, **kwargs)
    writer.open()
    return writer


def committed_files(output_dir: Path) -> list[Path]:
    return data_files(output_dir / "articles")


def tmp_files(output_dir: Path) -> list[Path]:
    folder = output_dir / "state" / "tmp"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def run_to_completion(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that must finish without awaiting anything (no event loop needed)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    pytest.fail("the coroutine awaited something")


# --- DatasetWriter ----------------------------------------------------------------------------


def test_nothing_is_visible_before_commit(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    assert writer.write(to_table([article_row(1), article_row(2)])) == []
    assert writer.open_rows == 2
    assert committed_files(tmp_path) == []
    assert list((tmp_path / "articles").rglob("*")) == []
    [tmp] = tmp_files(tmp_path)
    # <data file name>.<host>-<pid>.tmp: only this machine's dead crawls' files are removed
    assert tmp.name.endswith(f".{owner_tag()}.tmp")
    assert owner_tag().endswith(f"-{os.getpid()}")
    assert tmp.name.startswith("part-20240501T123015Z-")
    assert writer.opened_at is not None


def test_commit_makes_one_readable_file(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, run_id="run1")
    rows = [article_row(1, canonical_url="https://example.com/c1"), article_row(2)]
    writer.write(to_table(rows))
    committed = writer.commit()

    assert committed is not None
    assert committed.name == f"fetch_date=2024-05-01/{data_file_name(CLOCK, 'run1', 1)}"
    assert committed.rows == 2
    assert committed.keys == [
        ("https://example.com/news/1", "https://example.com/c1", rows[0]["content_hash"], DAY),
        ("https://example.com/news/2", None, rows[1]["content_hash"], DAY),
    ]
    [path] = committed_files(tmp_path)
    assert path == tmp_path / "articles" / committed.name
    assert path.parent.name == "fetch_date=2024-05-01"
    assert tmp_files(tmp_path) == []
    assert writer.open_rows == 0
    assert writer.opened_at is None

    table = pq.read_table(path)
    assert table.num_rows == 2
    assert table.column("url").to_pylist() == [row["url"] for row in rows]
    assert table.column("fetched_at").to_pylist() == [DAY, DAY]
    assert table.column("authors").to_pylist() == [["Jane Doe"], ["Jane Doe"]]
    assert read_keys(path) == committed.keys


def test_committed_file_has_the_declared_schema(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write(to_table([article_row(1)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    schema = pq.read_schema(path)

    assert schema.equals(ARTICLE_SCHEMA)
    assert schema.names == ARTICLE_SCHEMA.names
    assert schema.metadata is not None
    assert schema.metadata[b"news_crawler.schema_version"] == SCHEMA_VERSION.encode()
    assert schema.metadata == ARTICLE_SCHEMA.metadata
    for written, declared in zip(schema, ARTICLE_SCHEMA, strict=True):
        assert written.nullable == declared.nullable, written.name
        assert written.metadata == declared.metadata, written.name


def test_commit_without_open_file_returns_none(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    assert writer.commit() is None
    writer.write(to_table([article_row(1)]))
    assert writer.commit() is not None
    assert writer.commit() is None
    assert len(committed_files(tmp_path)) == 1


def test_rows_of_two_utc_dates_go_to_two_partitions(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    rows = [
        article_row(1, fetched_at=datetime(2024, 5, 1, 23, 59, tzinfo=UTC)),
        article_row(2, fetched_at=datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC)),
        article_row(3, fetched_at=datetime(2024, 5, 2, 0, 0, 1, tzinfo=UTC)),
    ]
    committed = writer.write(to_table(rows))
    # The first day's file is committed as soon as the date changes.
    assert [done.name.split("/")[0] for done in committed] == ["fetch_date=2024-05-01"]
    last = writer.commit()
    assert last is not None
    assert last.name.startswith("fetch_date=2024-05-02/")

    files = committed_files(tmp_path)
    assert [path.parent.name for path in files] == [
        partition_name(datetime(2024, 5, 1).date()),
        partition_name(datetime(2024, 5, 2).date()),
    ]
    assert [pq.read_table(path).num_rows for path in files] == [2, 1]
    assert pq.read_table(files[1]).column("url").to_pylist() == ["https://example.com/news/3"]


def test_file_rows_splits_into_files(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, file_rows=3)
    committed = []
    for index in range(7):
        committed += writer.write(to_table([article_row(index)]))
    assert [done.rows for done in committed] == [3, 3]
    last = writer.commit()
    assert last is not None
    assert last.rows == 1

    files = committed_files(tmp_path)
    assert len(files) == 3
    assert len({path.name for path in files}) == 3
    urls = [url for path in files for url in pq.read_table(path).column("url").to_pylist()]
    assert urls == [f"https://example.com/news/{index}" for index in range(7)]


def test_each_write_is_one_row_group(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write(to_table([article_row(1), article_row(2)]))
    writer.write(to_table([article_row(3)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 2
    assert [metadata.row_group(i).num_rows for i in range(2)] == [2, 1]


@pytest.mark.parametrize("compression", ["zstd", "snappy", "gzip", "none"])
def test_compression(tmp_path: Path, compression: str) -> None:
    writer = make_writer(tmp_path, compression=compression)
    writer.write(to_table([article_row(1)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    codec = pq.ParquetFile(path).metadata.row_group(0).column(0).compression
    assert codec == ("UNCOMPRESSED" if compression == "none" else compression.upper())


def test_two_writers_never_overwrite_each_other(tmp_path: Path) -> None:
    # Same directory, same start time (to the second), both writing the same partition.
    first = make_writer(tmp_path)
    second = make_writer(tmp_path)
    assert first.run_id != second.run_id
    first.write(to_table([article_row(1)]))
    second.write(to_table([article_row(2), article_row(3)]))
    assert len(tmp_files(tmp_path)) == 2
    done_first = first.commit()
    done_second = second.commit()
    assert done_first is not None
    assert done_second is not None
    assert done_first.name != done_second.name

    files = committed_files(tmp_path)
    assert len(files) == 2
    assert sorted(pq.read_table(path).num_rows for path in files) == [1, 2]


def test_a_writer_never_reuses_its_own_names(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, run_id="same")
    names = []
    for index in range(3):
        writer.write(to_table([article_row(index)]))
        done = writer.commit()
        assert done is not None
        names.append(done.name)
    assert len(set(names)) == 3
    assert len(committed_files(tmp_path)) == 3


# --- remove_stale_tmp_files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_pid() -> int:
    # The pid of a process that ran and was reaped (reuse within the test is unlikely).
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    assert process.wait() == 0
    return process.pid


def test_remove_stale_tmp_files(tmp_path: Path, dead_pid: int) -> None:
    dead = tmp_path / f"part-a.parquet.{dead_pid}.tmp"
    very_dead = tmp_path / "part-b.parquet.999999.tmp"
    alive = tmp_path / f"part-c.parquet.{os.getpid()}.tmp"
    init = tmp_path / "part-e.parquet.1.tmp"  # pid 1 always runs
    unnamed = tmp_path / "part-d.parquet.tmp"
    other = tmp_path / "notes.txt"
    for path in (dead, very_dead, alive, init, unnamed, other):
        path.write_bytes(b"partial")

    removed = remove_stale_tmp_files(tmp_path)

    assert sorted(removed) == sorted([dead, very_dead, unnamed])
    assert not dead.exists()
    assert not very_dead.exists()
    assert not unnamed.exists()
    assert alive.exists()
    assert init.exists()
    assert other.exists()
    assert remove_stale_tmp_files(tmp_path) == []


def test_writer_open_removes_stale_tmp_files(tmp_path: Path, dead_pid: int) -> None:
    folder = tmp_path / "state" / "tmp"
    folder.mkdir(parents=True)
    stale = folder / f"part-a.parquet.{dead_pid}.tmp"
    stale.write_bytes(b"partial")
    other_crawl = make_writer(tmp_path)
    other_crawl.write(to_table([article_row(1)]))  # an open file of a live writer
    [live] = tmp_files(tmp_path)

    make_writer(tmp_path)

    assert not stale.exists()
    assert live.exists()
    assert other_crawl.commit() is not None


def html_table(rows: list[dict[str, Any]]) -> pa.Table:
    pages = [
        {"id": row["id"], "url": row["url"], "fetched_at": row["fetched_at"],
         "content_type": "text/html; charset=utf-8", "html": f"<p>{row['text']}</p>".encode()}
        for row in rows
    ]  # fmt: skip
    return pa.Table.from_pylist(pages, schema=HTML_SCHEMA)


def test_archive_file_has_the_pages_and_the_data_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[str] = []
    real_publish = parquet._publish

    def publish(tmp: Path, final: Path) -> None:
        real_publish(tmp, final)
        published.append(final.relative_to(tmp_path).parts[0])

    monkeypatch.setattr(parquet, "_publish", publish)
    writer = make_writer(tmp_path, archive=True, file_rows=3)
    rows = [article_row(n) for n in range(5)]
    committed = writer.write(to_table(rows), html_table(rows))
    last = writer.commit()
    assert last is not None
    names = [done.name for done in [*committed, last]]
    # the archive file is published first: a visible row always has its page
    assert published == ["html", "articles", "html", "articles"]
    pages = [page for name in names for page in pq.read_table(tmp_path / "html" / name).to_pylist()]
    assert [page["id"] for page in pages] == [row["id"] for row in rows]
    assert pages[0]["html"] == b"<p>Article number 0.</p>"
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def test_archive_needs_a_page_per_row(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, archive=True)
    rows = [article_row(n) for n in range(2)]
    with pytest.raises(ValueError, match="one page per row"):
        writer.write(to_table(rows))
    with pytest.raises(ValueError, match="one page per row"):
        writer.write(to_table(rows), html_table(rows[:1]))


def test_archive_is_off_by_default(tmp_path: Path) -> None:
    pipeline = build_pipeline(tmp_path)
    assert pipeline.writer.html is None
    assert build_pipeline(tmp_path, HTML_ARCHIVE_ENABLED=True).writer.html == tmp_path / "html"


# --- ParquetPipeline: configuration and row validation -----------------------------------------


def build_pipeline(tmp_path: Path, **settings: Any) -> ParquetPipeline:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    return build_from_crawler(ParquetPipeline, crawler)


def test_pipeline_reads_settings(tmp_path: Path) -> None:
    pipeline = build_pipeline(
        tmp_path,
        PARQUET_ROW_GROUP_ROWS=2,
        PARQUET_FILE_ROWS=10,
        PARQUET_COMMIT_INTERVAL=30,
        PARQUET_COMPRESSION="GZIP",
        PARQUET_COMPRESSION_LEVEL="5",
    )
    assert pipeline.row_group_rows == 2
    assert pipeline.commit_interval == 30.0
    assert pipeline.writer.file_rows == 10
    assert pipeline.writer.compression == "gzip"
    assert pipeline.writer.compression_level == 5
    assert pipeline.writer.articles == tmp_path / "articles"
    assert pipeline.writer.tmp == tmp_path / "state" / "tmp"


def test_pipeline_defaults(tmp_path: Path) -> None:
    pipeline = build_pipeline(tmp_path)
    assert pipeline.row_group_rows == ParquetPipeline.DEFAULT_ROW_GROUP_ROWS
    assert pipeline.commit_interval == ParquetPipeline.DEFAULT_COMMIT_INTERVAL
    assert pipeline.writer.file_rows == ParquetPipeline.DEFAULT_FILE_ROWS
    assert pipeline.writer.compression == "zstd"
    assert pipeline.writer.compression_level is None


@pytest.mark.parametrize(
    "settings",
    [
        {"PARQUET_ENABLED": False},
        {"OUTPUT_DIR": ""},
        {"PARQUET_ROW_GROUP_ROWS": 0},
        {"PARQUET_ROW_GROUP_ROWS": -1},
        {"PARQUET_ROW_GROUP_ROWS": 100, "PARQUET_FILE_ROWS": 99},
        {"PARQUET_COMMIT_INTERVAL": 0},
        {"PARQUET_COMMIT_INTERVAL": -5},
        {"PARQUET_COMPRESSION": "rar"},
    ],
)
def test_pipeline_not_configured(tmp_path: Path, settings: dict[str, Any]) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    with pytest.raises(NotConfigured):
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

from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.state import CrawlState
from pipelines.dataset import state_dir
from pipelines.dedupe import DedupePipeline
from pipelines.normalize import content_hash, row_id
from pipelines.parquet import ParquetPipeline
from pipelines.signals import articles_committed

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


async def scenario(out, settings, items, pause_after=None, pause=0.0, with_dedupe=False):
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(out), **settings})
    events = []

    def on_committed(file, keys):
        events.append({"file": file, "keys": keys,
                       "visible": listing(out / "articles", "*/*.parquet")})

    crawler.signals.connect(on_committed, signal=articles_committed)
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
        trace.append({
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
        "invalid": await scenario(
            base / "invalid",
            {"PARQUET_ROW_GROUP_ROWS": 2},
            [item(1), item(2, id=None), item(3), item(4)],
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


def test_rows_of_a_row_group_are_sorted_by_source_then_publication(tmp_path: Path) -> None:
    rows = [
        {**article_row(n), "source": source, "published_at": datetime(2024, 1, day, tzinfo=UTC)}
        for n, (source, day) in enumerate(
            [("b.test", 2), ("a.test", 9), ("b.test", 1), ("a.test", 3)]
        )
    ]
    writer = DatasetWriter(tmp_path, clock=lambda: CLOCK, run_id="sorted")
    writer.open()
    writer.write(to_table(rows))
    committed = writer.commit()
    assert committed is not None
    table = pq.read_table(tmp_path / "articles" / committed.name)
    assert table.column("source").to_pylist() == ["a.test", "a.test", "b.test", "b.test"]
    assert [d.day for d in table.column("published_at").to_pylist()] == [3, 9, 1, 2]


# --- write errors --------------------------------------------------------------------------


def test_a_write_error_stops_the_crawl_and_leaves_nothing_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio  # noqa: PLC0415

    from pipelines.signals import articles_committed  # noqa: PLC0415

    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), "PARQUET_ROW_GROUP_ROWS": 2})
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    pipeline.writer.open()
    announced: list[str] = []

    def on_committed(file: str, keys: Any) -> None:
        announced.append(file)

    crawler.signals.connect(on_committed, signal=articles_committed)
    stops: list[str] = []

    async def in_this_thread(function: Any, *args: Any) -> Any:
        return function(*args)

    class Engine:
        async def close_spider_async(self, *, reason: str) -> None:
            stops.append(reason)

    monkeypatch.setattr(pipeline, "_in_writer_thread", in_this_thread)
    monkeypatch.setattr(type(crawler), "engine", Engine(), raising=False)
    writes = 0
    real_write_slice = pipeline.writer._write_slice

    def disk_fills_up(*args: Any) -> None:
        nonlocal writes
        writes += 1
        if writes == 2:
            raise OSError(28, "No space left on device", str(tmp_path / "state" / "tmp"))
        real_write_slice(*args)

    monkeypatch.setattr(pipeline.writer, "_write_slice", disk_fills_up)

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


def test_page_values_never_become_paths(tmp_path: Path) -> None:
    # what a page controls (URL, canonical URL, source, title, id text) is data, never a
    # file or partition name: those come from the fetch day, the clock and a random run id
    row = article_row(1) | {
        "url": "https://evil.test/../../../etc/passwd",
        "canonical_url": "file:///etc/passwd",
        "source": "../../outside",
        "title": "/tmp/x\x00../../y",
        "site_name": "..",
    }
    writer = make_writer(tmp_path, archive=True)
    writer.write(to_table([row]), html_table([row]))
    committed = writer.commit()
    assert committed is not None
    created = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert created == [
        f"articles/{committed.name}",
        f"html/{committed.name}",
    ]
    assert re.fullmatch(r"fetch_date=2024-05-01/part-20240501T123015Z-[0-9a-f]{8}-00001\.parquet",
                        committed.name)  # fmt: skip
    assert pq.read_table(tmp_path / "articles" / committed.name).column("source")[0].as_py() == (
        "../../outside"
    )
