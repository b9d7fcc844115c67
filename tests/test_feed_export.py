"""``-O file.parquet``: one Parquet file with the dataset's schema from an ad-hoc crawl; other
feed formats (``-O file.jsonl``, ``-O file.csv``) write exactly the dataset's columns."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from dataset.schema import ARTICLE_SCHEMA, COLUMNS
from pipelines.feed_export import ParquetItemExporter
from pipelines.parquet import PARQUET_COMPRESSION
from tests.conftest import dataset_rows, run_crawl

if TYPE_CHECKING:
    from pathlib import Path


def _item(n: int) -> ArticleItem:
    return ArticleItem(
        url=f"https://news.test/{n}", fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        id=f"id{n}", text=f"Text {n}.", word_count=2, content_hash=f"h{n}", source="news.test",
        html=None,
    )  # fmt: skip


def test_exporter_writes_the_schema_and_skips_invalid_rows() -> None:
    buffer = io.BytesIO()
    exporter = ParquetItemExporter(buffer)
    exporter.start_exporting()
    exporter.export_item(_item(1))
    broken = _item(2)
    broken.text = None  # type: ignore[assignment]
    exporter.export_item(broken)
    exporter.export_item(_item(3))
    exporter.finish_exporting()
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert table.schema.equals(ARTICLE_SCHEMA, check_metadata=True)
    assert table.column("url").to_pylist() == ["https://news.test/1", "https://news.test/3"]
    assert exporter.skipped == 1


def _codec(exporter: ParquetItemExporter, buffer: io.BytesIO) -> str:
    exporter.start_exporting()
    exporter.export_item(_item(1))
    exporter.finish_exporting()
    metadata = pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata
    return str(metadata.row_group(0).column(0).compression)


def test_the_export_is_compressed_as_the_settings_say() -> None:
    # always zstd before, whatever PARQUET_COMPRESSION said
    crawler = get_crawler(settings_dict={"PARQUET_COMPRESSION": "gzip"})
    buffer = io.BytesIO()
    assert _codec(build_from_crawler(ParquetItemExporter, crawler, buffer), buffer) == "GZIP"
    crawler = get_crawler(settings_dict={"PARQUET_COMPRESSION_LEVEL": "7"})
    exporter = build_from_crawler(ParquetItemExporter, crawler, io.BytesIO())
    assert (exporter.compression, exporter.compression_level) == (PARQUET_COMPRESSION.default, 7)
    buffer = io.BytesIO()
    assert _codec(ParquetItemExporter(buffer), buffer) == PARQUET_COMPRESSION.default.upper()


def test_crawl_with_dash_o_parquet(tmp_path: Path, site_url: str) -> None:
    target = tmp_path / "articles.parquet"
    result = run_crawl(
        tmp_path / "out",
        "-a", f"feeds={site_url}/feed.xml",
        "-O", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.log[-2000:]
    exported = pq.read_table(target)
    assert exported.schema.equals(ARTICLE_SCHEMA, check_metadata=True)
    compression = pq.ParquetFile(target).metadata.row_group(0).column(0).compression
    assert compression == PARQUET_COMPRESSION.default.upper()
    # the same rows as the dataset the crawl wrote
    stored = dataset_rows(tmp_path / "out")
    assert sorted(exported.column("id").to_pylist()) == sorted(row["id"] for row in stored)
    assert exported.num_rows >= 15


# The crawl's own fields, never exported.
CRAWL_ONLY = (
    "html",
    "precomputed",
    "listed_title",
    "listed_published_at",
    "listed_modified_at",
    "refetch",
    "declared_language",
    "content_type",
)


def test_crawl_with_dash_o_jsonl_and_csv_exports_the_dataset_columns(
    tmp_path: Path, site_url: str
) -> None:
    jsonl, table = tmp_path / "articles.jsonl", tmp_path / "articles.csv"
    array = tmp_path / "articles.json"
    result = run_crawl(
        tmp_path / "out",
        "-a", f"feeds={site_url}/feed.xml",
        "-O", str(jsonl),
        "-O", str(table),
        "-O", str(array),
    )  # fmt: skip
    assert result.returncode == 0, result.log[-2000:]
    assert not set(CRAWL_ONLY) & set(COLUMNS)
    assert set(CRAWL_ONLY) <= {f.name for f in dataclasses.fields(ArticleItem)}
    stored = sorted(row["id"] for row in dataset_rows(tmp_path / "out"))
    assert len(stored) >= 15

    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert all(list(line) == list(COLUMNS) for line in lines)
    assert sorted(line["id"] for line in lines) == stored

    with table.open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        rows = list(reader)
    assert header == list(COLUMNS)
    assert sorted(row[header.index("id")] for row in rows) == stored

    # the same rows in every format, with the dataset's types as each format says them
    by_id = {row["id"]: row for row in dataset_rows(tmp_path / "out")}
    in_json = json.loads(array.read_text(encoding="utf-8"))
    assert sorted(line["id"] for line in in_json) == stored
    with table.open(encoding="utf-8", newline="") as file:
        in_csv = list(csv.DictReader(file))
    for exported in (lines, in_json):
        for line in exported:
            row = by_id[line["id"]]
            assert line["authors"] == row["authors"]  # a JSON array
            assert line["tags"] == row["tags"]
            assert line["fetched_at"] == _iso(row["fetched_at"])
            assert line["published_at"] == _iso(row["published_at"])
            assert line["word_count"] == row["word_count"]
            assert line["accessible_for_free"] is row["accessible_for_free"]  # true, false, null
    for line in in_csv:
        row = by_id[line["id"]]
        assert json.loads(line["authors"]) == row["authors"]  # the array's JSON text
        assert json.loads(line["tags"]) == row["tags"]
        assert line["fetched_at"] == _iso(row["fetched_at"])
        assert line["published_at"] == (_iso(row["published_at"]) or "")
        free = row["accessible_for_free"]
        assert line["accessible_for_free"] == ("" if free is None else str(free))
    assert any(len(row["authors"]) > 1 for row in by_id.values())  # lists of several checked
    assert all(line["fetched_at"].endswith("Z") for line in lines)


def _iso(value: datetime | None) -> str | None:
    """A timestamp as the exports write it: ISO 8601, in UTC, with a Z."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S") + (
        f".{value.microsecond:06d}Z" if value.microsecond else "Z"
    )
