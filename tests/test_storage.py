"""Output to a shared location: an object store (S3, served by moto on 127.0.0.1) and a folder
shared by several machines (NFS), through :mod:`dataset.storage` (and the settings that name it,
:mod:`pipelines.locations`).

The S3 server runs in this process for the session (moto's ``ThreadedMotoServer``); every test
uses a bucket of its own. Credentials are dummies: set with ``monkeypatch`` for the code under
test in this process, passed explicitly to the ``scrapy`` subprocesses.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from dataset import compaction
from dataset.compaction import (
    JOB_PREFIX,
    CompactionError,
    compact_partition_at,
    finish_interrupted,
)
from dataset.layout import (
    STAGING,
    LocationError,
    host_name,
    owner_tag,
    partition_name,
    redacted,
    staging_dir,
)
from dataset.run_history import read_runs
from dataset.schema import HTML_SCHEMA, to_table
from dataset.storage import (
    DatasetLocation,
    data_files_at,
    list_data_files,
    location_of,
    partitions_at,
    read_keys_at,
    read_table_at,
    stray_lines,
)
from dataset.writer import DatasetWriter, remove_stale_tmp_files
from pipelines.locations import OUTPUT_DIR, STATE_DIR, dataset_location, state_dir_setting
from pipelines.parquet import ParquetPipeline
from pipelines.setting import SettingError
from tests.conftest import FAST_SETTINGS, ROOT
from tests.test_compaction import DAY, make_row

if TYPE_CHECKING:
    from collections.abc import Iterator

    from demo.site import Site

DEAD_PID = 2**30  # above any pid_max: no such process
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


# --- the S3 server ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``host:port`` of a local S3 server (moto), for the whole session."""
    from moto.server import ThreadedMotoServer  # noqa: PLC0415 - only these tests need it

    requests_log = logging.getLogger("werkzeug")
    level = requests_log.level
    requests_log.setLevel(logging.ERROR)  # not one line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()
        requests_log.setLevel(level)


@dataclass(frozen=True)
class Bucket:
    endpoint: str
    name: str
    filesystem: pafs.S3FileSystem

    def uri(self, prefix: str = "news") -> str:
        """The ``OUTPUT_DIR`` of a dataset under ``prefix``."""
        query = f"endpoint_override={self.endpoint}&scheme=http&region=us-east-1"
        return f"s3://{self.name}/{prefix}?{query}"

    def objects(self) -> list[str]:
        """Every object of the bucket (folders left out)."""
        selector = pafs.FileSelector(self.name, recursive=True)
        return sorted(
            info.path.removeprefix(f"{self.name}/")
            for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File
        )

    def environment(self) -> dict[str, str]:
        """The environment of a ``scrapy`` subprocess using this bucket."""
        return {**os.environ, **CREDENTIALS}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dummy credentials in the environment, for this test only."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: None) -> Bucket:
    """A new, empty bucket."""
    filesystem = pafs.S3FileSystem(
        endpoint_override=s3_endpoint, scheme="http", region="us-east-1", allow_bucket_creation=True
    )
    name = f"news-{secrets.token_hex(4)}"
    filesystem.create_dir(name)
    return Bucket(s3_endpoint, name, filesystem)


def rows(location: DatasetLocation, folder: str = "articles") -> list[dict[str, Any]]:
    found = [
        row
        for name in data_files_at(location, folder)
        for row in read_table_at(location, name, folder=folder).to_pylist()
    ]
    return sorted(found, key=lambda row: (row["id"], row["fetched_at"]))


def html_table(table: pa.Table) -> pa.Table:
    pages = [
        {"id": row["id"], "url": row["url"], "fetched_at": row["fetched_at"],
         "content_type": "text/html", "html": f"<p>{row['text']}</p>".encode()}
        for row in table.to_pylist()
    ]  # fmt: skip
    return pa.Table.from_pylist(pages, schema=HTML_SCHEMA)


# --- where the dataset and the state live -----------------------------------------------------


def test_plain_paths_and_file_uris_stay_local(tmp_path: Path) -> None:
    for value in ("output", str(tmp_path), tmp_path.as_uri()):
        location = location_of(value)
        assert location.is_local
        assert isinstance(location.filesystem, pafs.LocalFileSystem)
    assert location_of("output").local_dir() == Path("output")
    assert location_of(tmp_path.as_uri()).local_dir() == tmp_path
    settings = Settings({"OUTPUT_DIR": tmp_path.as_uri()})
    assert dataset_location(settings).local_dir() == tmp_path
    assert state_dir_setting(settings) == tmp_path / "state"


def test_an_object_store_uri_gives_its_filesystem_and_hides_the_query() -> None:
    uri = "s3://AK:SECRET@bucket/some/prefix/?endpoint_override=127.0.0.1:9&scheme=http"
    location = dataset_location(Settings({"OUTPUT_DIR": uri}))
    assert not location.is_local
    assert location.filesystem.type_name == "s3"
    assert location.root == "bucket/some/prefix"
    assert location.path("articles", "fetch_date=2024-05-01") == (
        "bucket/some/prefix/articles/fetch_date=2024-05-01"
    )
    # messages and logs never carry the query (it may hold credentials)
    assert location.display == "s3://bucket/some/prefix"  # "prefix//articles" in messages
    assert "SECRET" not in redacted("s3://user:SECRET@bucket/x?secret_key=SECRET")
    with pytest.raises(ValueError, match="not a local folder"):
        location.local_dir()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"OUTPUT_DIR": "nosuch://bucket/x"}, "OUTPUT_DIR nosuch://bucket/x: Unrecognized"),
        ({"OUTPUT_DIR": "s3://bucket/x?colour=blue"}, "Unexpected query parameter"),
        ({"OUTPUT_DIR": ""}, "OUTPUT_DIR=''"),
    ],
)
def test_an_unusable_output_dir_is_not_configured(settings: dict[str, str], message: str) -> None:
    with pytest.raises(SettingError, match=message):
        dataset_location(Settings(settings))


def test_a_folder_the_locale_names_otherwise_than_pyarrow_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a Latin-1 locale (LANG=en_US): the crawl started, accepted its articles and stored none,
    # pyarrow writing into the UTF-8 name of a folder the crawl had made under its Latin-1 name
    monkeypatch.setattr(os, "fsencode", lambda path: os.fspath(path).encode("latin-1"))
    for setting in (OUTPUT_DIR, STATE_DIR):
        for value in ("/data/nachrichtenä", "file:///data/nachrichten%C3%A4"):
            with pytest.raises(SettingError, match="names another folder in the locale's"):
                setting.read(Settings({setting.name: value}))
        assert setting.read(Settings({setting.name: "/data/news"})) == "/data/news"
    # an object store is pyarrow's alone
    assert OUTPUT_DIR.read(Settings({"OUTPUT_DIR": "s3://bucket/ä"})) == "s3://bucket/ä"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "nosuch://user:SECRET@bucket/x?secret_key=SECRET",
            "OUTPUT_DIR nosuch://bucket/x: Unrecognized filesystem type in URI: nosuch://bucket/x",
        ),
        (
            "s3://bucket/x?colour=blue",
            "OUTPUT_DIR s3://bucket/x: Unexpected query parameter in S3 URI: 'colour'",
        ),
    ],
)
def test_location_of_says_why_it_cannot_use_a_value(value: str, message: str) -> None:
    with pytest.raises(LocationError) as refused:
        location_of(value)
    assert str(refused.value) == message
    assert isinstance(refused.value, ValueError)  # the library raises no Scrapy exception


def test_state_dir_defaults_to_output_dir_state_and_an_object_store_needs_one(
    tmp_path: Path,
) -> None:
    assert state_dir_setting(Settings({"OUTPUT_DIR": "out"})) == Path("out/state")
    explicit = {"OUTPUT_DIR": "out", "STATE_DIR": str(tmp_path / "st")}
    assert state_dir_setting(Settings(explicit)) == tmp_path / "st"
    remote = {"OUTPUT_DIR": "s3://AK:SECRET@bucket/news?region=us-east-1"}
    with pytest.raises(SettingError, match="STATE_DIR must be set") as refused:
        state_dir_setting(Settings(remote))
    assert "SECRET" not in str(refused.value)
    assert state_dir_setting(Settings({**remote, "STATE_DIR": "st"})) == Path("st")
    with pytest.raises(SettingError, match="STATE_DIR must be a local folder"):
        state_dir_setting(Settings({"OUTPUT_DIR": "out", "STATE_DIR": "s3://bucket/state"}))
    # components that need a local OUTPUT_DIR refuse an object store instead of writing to
    # a local folder named "s3:"
    with pytest.raises(ValueError, match=r"^s3://bucket/news is not a local folder$"):
        dataset_location(Settings(remote)).local_dir()


def test_components_take_state_dir(tmp_path: Path) -> None:
    from crawler.dupefilter import DiskDupeFilter  # noqa: PLC0415
    from crawler.report import CrawlReport  # noqa: PLC0415
    from crawler.scheduler import DiskScheduler  # noqa: PLC0415

    state = tmp_path / "local-state"
    crawler = get_crawler(
        settings_dict={
            "OUTPUT_DIR": str(tmp_path / "out"),
            "STATE_DIR": str(state),
            "ADDONS": {"crawler.addon.NewsCrawlerAddon": 0},
        }
    )
    assert crawler.settings["HTTPCACHE_DIR"] == str((state / "httpcache").resolve())
    scheduler = DiskScheduler.from_crawler(crawler)
    assert scheduler.scratch is not None
    assert scheduler.scratch.parent == state / "tmp"
    assert scheduler.scratch.name.endswith(f".{owner_tag()}.tmp")
    scheduler.df.close("finished")
    dupefilter = DiskDupeFilter.from_crawler(crawler)
    assert dupefilter.database.parent == state / "tmp"
    dupefilter.close("finished")
    assert build_from_crawler(CrawlReport, crawler).state == state
    pipeline = build_from_crawler(ParquetPipeline, crawler)
    assert pipeline.writer.state_dir == state
    assert pipeline.writer.articles == tmp_path / "out" / "articles"
    assert not (tmp_path / "out" / "state").exists()


def test_the_parquet_stage_refuses_an_object_store_without_state_dir() -> None:
    crawler = get_crawler(
        settings_dict={"OUTPUT_DIR": "s3://bucket/news?endpoint_override=127.0.0.1:9&scheme=http"}
    )
    with pytest.raises(SettingError, match="STATE_DIR must be set"):
        build_from_crawler(ParquetPipeline, crawler)
    with pytest.raises(ValueError, match="give a state_dir"):
        DatasetWriter(location_of("s3://bucket/news?endpoint_override=127.0.0.1:9&scheme=http"))


# --- writing to S3 ----------------------------------------------------------------------------


def test_files_appear_in_the_store_only_complete(bucket: Bucket, tmp_path: Path) -> None:
    location = location_of(bucket.uri())
    clock = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    writer = DatasetWriter(
        location, state_dir=tmp_path, file_rows=3, archive=True, run_id="one", clock=lambda: clock
    )
    writer.open()
    table = to_table([make_row(n) for n in range(5)])
    assert writer.write(table.slice(0, 2), html_table(table.slice(0, 2))) == []
    # two rows written into an open file: nothing in the bucket, not even a partial object
    assert writer.open_rows == 2
    assert bucket.objects() == []
    [first] = writer.write(table.slice(2), html_table(table.slice(2)))
    assert first.rows == 3
    name = "fetch_date=2024-05-01/part-20240501T123000Z-one-00001.parquet"
    assert first.name == name
    assert bucket.objects() == [f"news/articles/{name}", f"news/html/{name}"]
    last = writer.commit()
    assert last is not None
    assert last.name.endswith("-one-00002.parquet")

    assert data_files_at(location) == [first.name, last.name]
    assert data_files_at(location, "html") == [first.name, last.name]
    assert rows(location) == sorted(
        table.to_pylist(), key=lambda row: (row["id"], row["fetched_at"])
    )
    assert read_keys_at(location, first.name) == first.keys
    pages = rows(location, "html")
    assert sorted(page["id"] for page in pages) == sorted(table.column("id").to_pylist())
    assert all(page["html"].startswith(b"<p>Article number") for page in pages)
    # only the two committed pairs; the local state folder keeps no temporary file
    assert len(bucket.objects()) == 4
    assert list((tmp_path / "tmp").iterdir()) == []


STRAYS = [
    "fetch_date=2024-05-01 copy/part-1.parquet",  # a copied folder
    "fetch_date=2024-05-01/old/part-1.parquet",  # a folder made in a partition
    "part-1.parquet",  # a file dropped at the top
    "date=2024-05-01/part-1.parquet",  # another key
]


@pytest.mark.parametrize("where", ["local", "s3"])
def test_files_outside_the_partitions_are_not_the_datasets(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if where == "s3":
        bucket: Bucket = request.getfixturevalue("bucket")
        location = location_of(bucket.uri())
    else:
        location = location_of(tmp_path / "out")
    writer = DatasetWriter(location, state_dir=tmp_path / "state")
    writer.open()
    writer.write(to_table([make_row(n) for n in range(3)]))
    committed = writer.commit()
    assert committed is not None
    data = read_table_at(location, committed.name)
    for stray in STRAYS:
        location.filesystem.create_dir(location.path("articles", *stray.split("/")[:-1]))
        with location.filesystem.open_output_stream(location.path("articles", stray)) as out:
            pq.write_table(data, out)
    found: list[str] = []
    assert [file.name for file in list_data_files(location, strays=found.append)] == [
        committed.name
    ]
    assert found == sorted(STRAYS)
    assert data_files_at(location) == [committed.name]
    assert partitions_at(location) == [committed.name.split("/")[0]]
    # within one partition, what is below it is not its own either
    found.clear()
    partition = committed.name.split("/")[0]
    assert [
        f.name for f in list_data_files(location, partition=partition, strays=found.append)
    ] == [committed.name]
    assert found == ["fetch_date=2024-05-01/old/part-1.parquet"]


def test_stray_lines_name_each_folder_once() -> None:
    lines = stray_lines("articles", [*STRAYS, "fetch_date=2024-05-01 copy/part-2.parquet"])
    outside = "outside the dataset's partitions (fetch_date=YYYY-MM-DD folders), left out;"
    scan = "readers that scan articles/ (pandas, DuckDB, Spark) read"
    one, two, folder = (
        "holds 1 data file",
        "holds 2 data files",
        "all the same: move the folder out",
    )
    assert lines == [
        f"articles/ {one} {outside} {scan} it all the same: move it out",
        f"articles/date=2024-05-01/ {one} {outside} {scan} it {folder}",
        f"articles/fetch_date=2024-05-01 copy/ {two} {outside} {scan} them {folder}",
        f"articles/fetch_date=2024-05-01/old/ {one} {outside} {scan} it {folder}",
    ]
    assert stray_lines("runs", ["run-1.parquet"])[0].startswith(
        "runs/ holds 1 data file outside the dataset's partitions (run_date=YYYY-MM-DD folders)"
    )


def test_writers_on_several_machines_never_overwrite_each_other(
    bucket: Bucket, tmp_path: Path
) -> None:
    location = location_of(bucket.uri())
    clock = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    writers = [
        DatasetWriter(location, state_dir=tmp_path / f"machine{n}", clock=lambda: clock)
        for n in range(3)
    ]
    expected = []
    for number, writer in enumerate(writers):
        writer.open()
        batch = [make_row(100 * number + n) for n in range(number + 1)]
        expected += batch
        writer.write(to_table(batch))
    names = [done.name for writer in writers if (done := writer.commit()) is not None]
    assert len(set(names)) == 3  # same start second, one run id each
    assert data_files_at(location) == sorted(names)
    assert len(rows(location)) == len(expected) == 6


def test_a_failed_write_leaves_no_object(
    bucket: Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = location_of(bucket.uri())
    writer = DatasetWriter(location, state_dir=tmp_path, archive=True)
    writer.open()
    table = to_table([make_row(n) for n in range(4)])
    writer.write(table.slice(0, 2), html_table(table.slice(0, 2)))
    assert writer._writer is not None

    def network_down(*args: Any, **kwargs: Any) -> None:
        raise OSError("AWS Error NETWORK_CONNECTION during UploadPart operation")

    monkeypatch.setattr(writer._writer, "write_table", network_down)
    with pytest.raises(OSError, match="NETWORK_CONNECTION"):
        writer.write(table.slice(2), html_table(table.slice(2)))
    writer.discard()  # what the pipeline does on a write error
    # closing an upload completes it (pyarrow cannot abort one): discard deleted both objects
    assert bucket.objects() == []
    assert writer.open_rows == 0
    # the writer goes on with a new file
    writer.write(table.slice(2), html_table(table.slice(2)))
    done = writer.commit()
    assert done is not None
    assert done.name.endswith("-00002.parquet")
    assert [row["id"] for row in rows(location)] == sorted(table.slice(2).column("id").to_pylist())
    assert len(bucket.objects()) == 2


# --- crawling into S3 and reading it back ------------------------------------------------------

# One file per article (what short commit intervals leave behind), pages archived.
TINY_FILES = ("PARQUET_ROW_GROUP_ROWS=1", "PARQUET_FILE_ROWS=1", "HTML_ARCHIVE_ENABLED=True")


def scrapy(bucket: Bucket, state: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``scrapy <arguments>`` against the dataset ``news`` in ``bucket``, state in ``state``."""
    command = [sys.executable, "-m", "scrapy", *arguments]
    for setting in (f"OUTPUT_DIR={bucket.uri()}", f"STATE_DIR={state}", *FAST_SETTINGS):
        command += ["-s", setting]
    return subprocess.run(
        command, cwd=ROOT, env=bucket.environment(), capture_output=True, text=True,
        timeout=240, check=False,
    )  # fmt: skip


@dataclass
class S3Crawl:
    bucket: Bucket
    state: Path
    completed: subprocess.CompletedProcess[str]
    report: dict[str, Any]


@pytest.fixture(scope="module")
def s3_crawl(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory, site_url: str) -> S3Crawl:
    # a bucket made with the credentials passed explicitly: nothing set in this process
    filesystem = pafs.S3FileSystem(
        endpoint_override=s3_endpoint, scheme="http", region="us-east-1",
        access_key="testing", secret_key="testing", allow_bucket_creation=True,
    )  # fmt: skip
    bucket = Bucket(s3_endpoint, f"crawl-{secrets.token_hex(4)}", filesystem)
    filesystem.create_dir(bucket.name)
    state = tmp_path_factory.mktemp("s3-state")
    completed = scrapy(
        bucket, state, "crawl", "news", "-a", f"feeds={site_url}/feed.xml",
        *(part for setting in TINY_FILES for part in ("-s", setting)),
    )  # fmt: skip
    [report_path] = (state / "crawls").glob("*.json")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return S3Crawl(bucket, state, completed, report)


def test_a_crawl_writes_the_dataset_into_the_bucket(
    s3_crawl: S3Crawl, aws_env: None, site: Site, site_url: str
) -> None:
    assert s3_crawl.completed.returncode == 0, s3_crawl.completed.stderr[-3000:]
    stats = s3_crawl.report["stats"]
    written = stats["news/parquet/rows_written"]
    assert written == stats["news/parquet/files"] >= 10
    keys = s3_crawl.bucket.objects()
    articles = [key for key in keys if key.startswith("news/articles/fetch_date=")]
    archive = [key for key in keys if key.startswith("news/html/fetch_date=")]
    assert len(articles) == len(archive) == written
    # and the run history: one file, one row (the one source)
    runs = [key for key in keys if key.startswith("news/runs/run_date=")]
    assert len(runs) == 1
    (run,) = read_runs(location_of(s3_crawl.bucket.uri())).to_pylist()
    assert run["stored"] == written
    # nothing else: no temporary file, no write probe
    assert sorted(articles + archive + runs) == keys
    # the working state stayed local: report, HTTP cache; no scratch file left
    assert (s3_crawl.state / "httpcache").is_dir()
    assert list((s3_crawl.state / "tmp").iterdir()) == []
    feed_urls = {site_url + page.path for page in site.feed_pages}
    location = location_of(s3_crawl.bucket.uri())
    assert {row["url"] for row in rows(location)} <= feed_urls
    assert len(rows(location)) == written


def test_the_bucket_reads_back_with_pyarrow_and_duckdb(s3_crawl: S3Crawl, aws_env: None) -> None:
    filesystem = s3_crawl.bucket.filesystem
    articles = ds.dataset(
        f"{s3_crawl.bucket.name}/news/articles",
        filesystem=filesystem,
        format="parquet",
        partitioning="hive",
    )
    table = articles.to_table()
    assert table.num_rows == s3_crawl.report["stats"]["news/parquet/rows_written"]
    assert set(table.column("fetch_date").to_pylist()) == {
        key.split("/")[2].removeprefix("fetch_date=")
        for key in s3_crawl.bucket.objects()
        if key.startswith("news/articles/")
    }
    by_language = duckdb.sql(
        "SELECT language, count(*) AS n FROM articles GROUP BY language ORDER BY language"
    ).fetchall()
    assert dict(by_language) == {
        language: table.column("language").to_pylist().count(language)
        for language in set(table.column("language").to_pylist())
    }
    # a URI with its options works as well, as the README shows
    again = ds.dataset(s3_crawl.bucket.uri("news/articles"), format="parquet", partitioning="hive")
    assert again.count_rows() == table.num_rows


def test_the_documented_recipe_reads_the_bucket(s3_crawl: S3Crawl, aws_env: None) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = guide.split("## Writing to a shared location", 1)[1]
    code = section.split("<!-- run by tests/test_storage.py -->\n```python\n", 1)[1]
    code = code.split("```", 1)[0]
    code = code.replace("s3://my-bucket/news/articles", s3_crawl.bucket.uri("news/articles"))
    namespace: dict[str, Any] = {}
    exec(compile(code, "docs/operations.md", "exec"), namespace)
    rows_written = s3_crawl.report["stats"]["news/parquet/rows_written"]
    assert namespace["table"].num_rows == rows_written
    assert sum(count for _, count in namespace["by_language"]) == rows_written


def test_summary_reads_the_bucket_and_the_local_report(s3_crawl: S3Crawl) -> None:
    completed = scrapy(s3_crawl.bucket, s3_crawl.state, "summary")
    assert completed.returncode == 0, completed.stderr[-3000:]
    written = s3_crawl.report["stats"]["news/parquet/rows_written"]
    assert f"Dataset s3://{s3_crawl.bucket.name}/news/articles\n" in completed.stdout
    assert f"rows       {written}\n" in completed.stdout
    assert f"files      {written} " in completed.stdout
    assert f"rows written    {written}" in completed.stdout  # the last crawl's report


def test_the_report_is_written_into_the_bucket(s3_crawl: S3Crawl) -> None:
    completed = scrapy(s3_crawl.bucket, s3_crawl.state, "report")
    assert completed.returncode == 0, completed.stderr[-3000:]
    written = s3_crawl.report["stats"]["news/parquet/rows_written"]
    assert completed.stdout == (
        f"Report written to s3://{s3_crawl.bucket.name}/news/report.html ({written} articles, "
        "1 source, 1 run; no unhealthy source)\n"
    )
    page = s3_crawl.bucket.filesystem.open_input_stream(f"{s3_crawl.bucket.name}/news/report.html")
    assert f'data-total="rows" data-value="{written}"' in page.read().decode()


def test_an_object_store_without_state_dir_or_bucket_is_refused_at_start(
    s3_crawl: S3Crawl, tmp_path: Path
) -> None:
    uri = s3_crawl.bucket.uri()
    base = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "urls=http://127.0.0.1:9/a"]
    no_state = subprocess.run(
        [*base, "-s", f"OUTPUT_DIR={uri}"],
        cwd=ROOT, env=s3_crawl.bucket.environment(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert no_state.returncode == 2
    assert "STATE_DIR must be set when OUTPUT_DIR is an object store" in no_state.stderr
    assert "endpoint_override" not in no_state.stderr
    missing = uri.replace(s3_crawl.bucket.name, "no-such-bucket", 1)
    no_bucket = subprocess.run(
        [*base, "-s", f"OUTPUT_DIR={missing}", "-s", f"STATE_DIR={tmp_path}"],
        cwd=ROOT, env=s3_crawl.bucket.environment(), capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert no_bucket.returncode == 2
    assert "OUTPUT_DIR s3://no-such-bucket/news is not writable" in no_bucket.stderr
    assert "Traceback" not in no_bucket.stderr + no_state.stderr


@pytest.mark.parametrize("command", ["summary", "report", "compact"])
def test_a_store_that_cannot_be_reached_stops_each_command_in_one_line(
    tmp_path: Path, command: str
) -> None:
    # a traceback (OSError from pyarrow's S3 file system) and exit status 1 before
    uri = "s3://bucket/news?endpoint_override=127.0.0.1:9&scheme=http&region=us-east-1"
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", command, "-s", f"OUTPUT_DIR={uri}",
         "-s", f"STATE_DIR={tmp_path}"],
        cwd=ROOT, env={**os.environ, **CREDENTIALS}, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith("scrapy: error: cannot read s3://bucket/news: ")
    assert "NETWORK_CONNECTION" in line


# --- compaction in S3 ---------------------------------------------------------------------------


def test_the_next_crawls_into_the_bucket_store_nothing_twice(
    s3_crawl: S3Crawl, tmp_path: Path, site_url: str
) -> None:
    before = s3_crawl.bucket.objects()
    stored = s3_crawl.report["stats"]["news/parquet/rows_written"]
    # the same state: every article is known before it is requested
    again = scrapy(
        s3_crawl.bucket, s3_crawl.state, "crawl", "news", "-a", f"feeds={site_url}/feed.xml"
    )
    assert again.returncode == 0, again.stderr[-3000:]
    [latest, *_] = sorted((s3_crawl.state / "crawls").glob("*.json"), reverse=True)
    stats = json.loads(latest.read_text(encoding="utf-8"))["stats"]
    assert stats["news/incremental/known_skipped"] == stored
    assert "news/parquet/rows_written" not in stats
    # a new machine (an empty state): the state is rebuilt from the files in the bucket first
    fresh = tmp_path / "fresh-state"
    third = scrapy(s3_crawl.bucket, fresh, "crawl", "news", "-a", f"feeds={site_url}/feed.xml")
    assert third.returncode == 0, third.stderr[-3000:]
    [report] = (fresh / "crawls").glob("*.json")
    stats = json.loads(report.read_text(encoding="utf-8"))["stats"]
    assert stats["news/dedupe/files_recovered"] == stored  # one file per article here
    assert "news/parquet/rows_written" not in stats
    # nothing written but the two runs' history
    added = sorted(set(s3_crawl.bucket.objects()) - set(before))
    assert len(added) == 2
    assert all(key.startswith("news/runs/run_date=") for key in added)
    assert set(before) <= set(s3_crawl.bucket.objects())


def test_compact_merges_the_files_in_the_bucket(s3_crawl: S3Crawl, aws_env: None) -> None:
    location = location_of(s3_crawl.bucket.uri())
    before, pages_before = rows(location), rows(location, "html")
    files = len(data_files_at(location))
    assert files == len(before) >= 10
    dry = scrapy(s3_crawl.bucket, s3_crawl.state, "compact", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert f": would merge {files} files" in dry.stdout
    assert data_files_at(location) != []

    completed = scrapy(s3_crawl.bucket, s3_crawl.state, "compact")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"Compacted {files} files into 1 in 1 partitions of articles" in completed.stdout
    assert "Traceback" not in completed.stderr
    assert len(data_files_at(location)) == len(data_files_at(location, "html")) == 1
    assert rows(location) == before
    assert rows(location, "html") == pages_before
    with sqlite3.connect(s3_crawl.state / "crawl-state.sqlite3") as db:
        recorded = {name for (name,) in db.execute("SELECT name FROM files")}
    assert recorded == set(data_files_at(location))
    assert [path.name for path in (s3_crawl.state / "tmp").iterdir()] == []


def _store_dataset(
    bucket: Bucket, state: Path, *, files: int, rows_per_file: int
) -> DatasetLocation:
    location = location_of(bucket.uri())
    writer = DatasetWriter(location, state_dir=state, run_id="small")
    writer.open()
    for number in range(files):
        writer.write(to_table([make_row(number * rows_per_file + n) for n in range(rows_per_file)]))
        writer.commit()
    return location


def _as_dead_process(state: Path) -> None:
    """Give the job folders the owner tag of a process of this machine that is gone."""
    for job in (state / "tmp").glob(f"{JOB_PREFIX}*"):
        token = job.name.rsplit("-", 1)[-1]
        job.rename(job.with_name(f"{JOB_PREFIX}{host_name()}-{DEAD_PID}-{token}"))


class Crash(BaseException):
    """The process is killed here: no clean-up runs."""


PARTITION = partition_name(DAY.date())


def test_a_compaction_killed_before_verifying_is_undone(
    bucket: Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = _store_dataset(bucket, tmp_path, files=5, rows_per_file=4)
    before, names = rows(location), data_files_at(location)
    real_write = compaction._write_files

    def write_then_die(*args: Any, **kwargs: Any) -> list[str]:
        real_write(*args, **kwargs)
        raise Crash

    def no_clean_up(*args: Any) -> bool:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(compaction, "_write_files", write_then_die)
        patch.setattr(compaction, "_finish_in_store", no_clean_up)
        with pytest.raises(Crash):
            compact_partition_at(location, "articles", PARTITION, state=tmp_path, target_rows=100)
    # the window the README describes: readers listing now see the rows twice
    assert len(rows(location)) == 2 * len(before)
    # a running compaction (this process) is left alone; a dead one is undone
    assert finish_interrupted(location, tmp_path) == []
    _as_dead_process(tmp_path)
    assert len(finish_interrupted(location, tmp_path)) == 1
    assert data_files_at(location) == names
    assert rows(location) == before
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_compaction_killed_while_deleting_the_old_files_is_completed(
    bucket: Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = _store_dataset(bucket, tmp_path, files=5, rows_per_file=4)
    before = rows(location)
    real_delete = compaction._delete_files

    def delete_one_then_die(location: DatasetLocation, folder: str, names: list[str]) -> bool:
        real_delete(location, folder, names[:1])
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(compaction, "_delete_files", delete_one_then_die)
        with pytest.raises(Crash):
            compact_partition_at(location, "articles", PARTITION, state=tmp_path, target_rows=100)
    assert len(data_files_at(location)) == 1 + 4  # the new file, four old ones left
    [job] = (tmp_path / "tmp").glob(f"{JOB_PREFIX}*")
    assert json.loads((job / "manifest.json").read_text())["phase"] == "verified"
    _as_dead_process(tmp_path)
    # a crawl finishes it before writing anything
    DatasetWriter(location, state_dir=tmp_path).open()
    assert len(data_files_at(location)) == 1
    assert rows(location) == before
    assert list((tmp_path / "tmp").iterdir()) == []


def test_rows_that_do_not_survive_the_rewrite_leave_the_bucket_as_it_was(
    bucket: Bucket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = _store_dataset(bucket, tmp_path, files=3, rows_per_file=5)
    keys = bucket.objects()
    real_write = compaction._write_files

    def lossy(table: pa.Table, folder: str, **kwargs: Any) -> list[str]:
        return real_write(table.slice(1), folder, **kwargs)

    monkeypatch.setattr(compaction, "_write_files", lossy)
    with pytest.raises(CompactionError, match="other rows"):
        compact_partition_at(location, "articles", PARTITION, state=tmp_path, target_rows=100)
    assert bucket.objects() == keys
    assert list((tmp_path / "tmp").iterdir()) == []


def test_jobs_of_another_dataset_or_machine_are_left_alone(bucket: Bucket, tmp_path: Path) -> None:
    location = _store_dataset(bucket, tmp_path, files=2, rows_per_file=3)
    other = tmp_path / "tmp" / f"{JOB_PREFIX}{host_name()}-{DEAD_PID}-aaaa0000"
    other.mkdir()
    manifest = {
        "store": {"filesystem": "s3", "root": "another-bucket/news"},
        "partition": f"another-bucket/news/articles/{PARTITION}",
        "inputs": data_files_at(location),
        "outputs": [],
        "phase": "verified",
    }
    (other / "manifest.json").write_text(json.dumps(manifest))
    elsewhere = tmp_path / "tmp" / f"{JOB_PREFIX}other-machine-{DEAD_PID}-bbbb0000"
    elsewhere.mkdir()
    assert finish_interrupted(location, tmp_path) == []
    assert other.is_dir()
    assert elsewhere.is_dir()
    assert len(data_files_at(location)) == 2


# --- a folder shared by several machines (NFS) ------------------------------------------------


def as_machine(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(socket, "gethostname", lambda: name)


def test_stale_files_are_removed_only_by_their_own_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_machine(monkeypatch, "crawler-a.example.org")
    assert host_name() == "crawler-a_example_org"
    mine_dead = tmp_path / f"part-1.parquet.crawler-a_example_org-{DEAD_PID}.tmp"
    mine_alive = tmp_path / f"part-2.parquet.{owner_tag()}.tmp"
    theirs = tmp_path / f"part-3.parquet.crawler-b_example_org-{DEAD_PID}.tmp"
    theirs_scratch = tmp_path / f"requests-queue-abcd.crawler-b_example_org-{DEAD_PID}.tmp"
    legacy_dead = tmp_path / f"part-4.parquet.{DEAD_PID}.tmp"  # before host names were kept
    for path in (mine_dead, mine_alive, theirs, legacy_dead):
        path.write_bytes(b"partial")
    (theirs_scratch / "requests.queue").mkdir(parents=True)

    assert sorted(remove_stale_tmp_files(tmp_path)) == sorted([mine_dead, legacy_dead])
    assert mine_alive.exists()
    assert theirs.exists()
    assert theirs_scratch.is_dir()
    # machine b removes its own
    as_machine(monkeypatch, "crawler-b.example.org")
    assert sorted(remove_stale_tmp_files(tmp_path)) == sorted([theirs, theirs_scratch])
    assert mine_alive.exists()  # a's: b cannot tell whether it still runs


def test_two_machines_writing_one_shared_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "nfs" / "news"
    as_machine(monkeypatch, "crawler-a")
    first = DatasetWriter(shared, run_id="a")
    first.open()
    first.write(to_table([make_row(1)]))  # an open file of machine a
    [open_file] = (shared / "state" / "tmp").iterdir()
    assert open_file.name.endswith(f".crawler-a-{os.getpid()}.tmp")
    # machine b starts with a pid that machine a's file also names: it leaves the file alone
    as_machine(monkeypatch, "crawler-b")
    dead_there = open_file.with_name(open_file.name.replace(str(os.getpid()), str(DEAD_PID)))
    open_file.rename(dead_there)
    second = DatasetWriter(shared, run_id="b")
    second.open()
    assert dead_there.exists()
    second.write(to_table([make_row(2)]))
    assert second.commit() is not None
    # machine a, restarted after its crash, removes what it left
    as_machine(monkeypatch, "crawler-a")
    DatasetWriter(shared, run_id="a2").open()
    assert not dead_there.exists()
    assert [row["url"] for row in rows(location_of(shared))] == [make_row(2)["url"]]


def other_device(tmp_path: Path) -> Path:
    shm = Path("/dev/shm")  # a tmpfs: another filesystem than tmp_path
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to put STATE_DIR on")
    folder = shm / f"news-crawler-test-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


@pytest.fixture
def local_state(tmp_path: Path) -> Iterator[Path]:
    """A STATE_DIR on another filesystem than ``tmp_path`` (as a local disk beside NFS)."""
    folder = other_device(tmp_path)
    try:
        yield folder
    finally:
        import shutil  # noqa: PLC0415

        shutil.rmtree(folder, ignore_errors=True)


def test_a_state_dir_on_another_filesystem_stages_files_beside_the_dataset(
    tmp_path: Path, local_state: Path
) -> None:
    output = tmp_path / "nfs"
    assert staging_dir(output, local_state) == output / STAGING
    assert staging_dir(tmp_path / "plain", tmp_path / "plain" / "state") == (
        tmp_path / "plain" / "state" / "tmp"
    )
    writer = DatasetWriter(output, state_dir=local_state, file_rows=2)
    writer.open()
    assert writer.tmp == output / STAGING
    committed = writer.write(to_table([make_row(n) for n in range(5)]))
    assert writer.commit() is not None
    assert len(committed) == 2
    assert len(data_files_at(location_of(output))) == 3
    assert list((output / STAGING).iterdir()) == []
    assert pq.ParquetDataset(output / "articles").read().num_rows == 5
    # compaction prepares the new partition beside the dataset too, and swaps it atomically
    result = compact_partition_at(
        location_of(output), "articles", PARTITION, state=local_state, target_rows=100
    )
    assert result is not None
    assert result.atomic
    assert len(data_files_at(location_of(output))) == 1
    assert pq.ParquetDataset(output / "articles").read().num_rows == 5


def test_an_articles_folder_on_a_filesystem_of_its_own_stages_files_inside_it(
    tmp_path: Path, local_state: Path
) -> None:
    # articles/ a mount of its own (here a link to another filesystem): files written in
    # state/tmp could not be renamed into it (EXDEV), and every commit failed, the crawl's
    # articles lost, at the end of every crawl
    output = tmp_path / "out"
    output.mkdir()
    (local_state / "articles").mkdir()
    (output / "articles").symlink_to(local_state / "articles")
    staged = output / "articles" / STAGING
    assert staging_dir(output, output / "state") == staged
    assert staging_dir(output, output / "state", "html") == output / "state" / "tmp"
    assert not (output / STAGING).exists()  # tried, and not left behind
    writer = DatasetWriter(output, file_rows=2, archive=True)
    writer.open()
    assert (writer.tmp, writer.html_tmp) == (staged, output / "state" / "tmp")
    table = to_table([make_row(n) for n in range(5)])
    committed = writer.write(table, html_table(table))
    assert writer.commit() is not None
    assert len(committed) == 2
    assert list(staged.iterdir()) == []
    assert pq.ParquetDataset(output / "articles").read().num_rows == 5  # _tmp is skipped
    assert len(data_files_at(location_of(output), "html")) == 3
    result = compact_partition_at(
        location_of(output), "articles", PARTITION, state=output / "state", target_rows=100
    )
    assert result is not None
    assert result.atomic
    assert len(data_files_at(location_of(output))) == 1
    assert pq.ParquetDataset(output / "articles").read().num_rows == 5


def test_a_day_of_rows_lands_in_its_partition_in_the_store(bucket: Bucket, tmp_path: Path) -> None:
    location = location_of(bucket.uri("deep/prefix"))
    writer = DatasetWriter(location, state_dir=tmp_path)
    writer.open()
    writer.write(to_table([make_row(1), make_row(2, day=DAY + timedelta(days=1))]))
    writer.commit()
    assert [key.split("/")[3] for key in bucket.objects()] == [
        PARTITION,
        partition_name((DAY + timedelta(days=1)).date()),
    ]
    assert all(key.startswith("deep/prefix/articles/") for key in bucket.objects())
