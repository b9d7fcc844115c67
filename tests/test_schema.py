"""The declared dataset schema."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler import __version__
from crawler.items import ArticleItem
from pipelines.parquet import DatasetWriter
from pipelines.schema import (
    ARTICLE_SCHEMA,
    DICTIONARY_COLUMNS,
    SCHEMA_VERSION,
    to_batch,
    to_row,
    to_table,
)

if TYPE_CHECKING:
    from pathlib import Path


def _item() -> ArticleItem:
    return ArticleItem(
        url="https://news.test/a", fetched_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        id="abc", text="Text.", word_count=1, content_hash="h", source="news.test",
        authors=["A"], tags=["t"], html=b"<html>", content_type="text/html",
    )  # fmt: skip


def test_every_column_is_an_item_field() -> None:
    item_fields = {field.name for field in fields(ArticleItem)}
    assert set(ARTICLE_SCHEMA.names) <= item_fields


def test_transport_fields_never_reach_the_dataset() -> None:
    row = to_row(vars(_item()))
    assert "html" not in row
    assert "content_type" not in row
    assert "listed_title" not in row
    assert "declared_language" not in row


def test_schema_carries_its_version() -> None:
    metadata = ARTICLE_SCHEMA.metadata
    assert metadata[b"news_crawler.schema_version"] == SCHEMA_VERSION.encode()
    assert metadata[b"news_crawler.version"] == __version__.encode()


def test_types() -> None:
    assert ARTICLE_SCHEMA.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert ARTICLE_SCHEMA.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert ARTICLE_SCHEMA.field("authors").type.value_type == pa.string()
    assert ARTICLE_SCHEMA.field("tags").type.value_type == pa.string()
    assert ARTICLE_SCHEMA.field("word_count").type == pa.int32()
    assert not ARTICLE_SCHEMA.field("text").nullable
    assert all(field.metadata[b"doc"] for field in ARTICLE_SCHEMA)


def test_table_from_rows_keeps_values() -> None:
    table = to_table([to_row(vars(_item()))])
    assert table.schema.equals(ARTICLE_SCHEMA, check_metadata=True)
    row = table.to_pylist()[0]
    assert row["fetched_at"] == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    assert row["authors"] == ["A"]
    assert row["published_at"] is None


def test_a_missing_required_value_is_refused() -> None:
    row = to_row(vars(_item()))
    row["text"] = None
    row["content_hash"] = None
    with pytest.raises(ValueError, match="required columns are null: text, content_hash"):
        to_batch(row)


def test_a_wrong_type_is_refused() -> None:
    row = to_row(vars(_item()))
    row["word_count"] = "many"
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        to_batch(row)


def test_a_valid_row_becomes_a_batch() -> None:
    batch = to_batch(to_row(vars(_item())))
    assert batch.num_rows == 1
    assert batch.schema.equals(ARTICLE_SCHEMA)


def test_low_cardinality_columns_are_dictionary_encoded(tmp_path: Path) -> None:
    rows = [to_row(vars(_item())) | {"id": str(n), "text": f"Text {n}."} for n in range(50)]
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table(rows))
    committed = writer.commit()
    assert committed is not None
    group = pq.ParquetFile(tmp_path / "articles" / committed.name).metadata.row_group(0)
    encodings = {
        group.column(i).path_in_schema: group.column(i).encodings for i in range(group.num_columns)
    }
    for column in DICTIONARY_COLUMNS:
        assert "RLE_DICTIONARY" in encodings[column], column
    for column in ("id", "url", "text", "content_hash"):
        assert "RLE_DICTIONARY" not in encodings[column], column
