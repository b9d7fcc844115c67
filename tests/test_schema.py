"""The declared dataset schema (:mod:`dataset.schema`), made from the article's declaration, and
the reading of files written by older versions."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler import __version__
from crawler.items import ArticleItem
from dataset.schema import (
    ARROW_TYPES,
    ARTICLE_SCHEMA,
    COLUMNS,
    DICTIONARY_COLUMNS,
    HTML_DICTIONARY_COLUMNS,
    HTML_SCHEMA,
    SCHEMA_VERSION,
    SCHEMA_VERSION_KEY,
    SORT_KEYS,
    parquet_write_options,
    schema_version,
    to_batch,
    to_row,
    to_table,
    upgrade,
)
from dataset.writer import DatasetWriter
from extraction import article
from extraction.article import Article, columns

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


# --- made from the article's declaration ------------------------------------------------------

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
STRING_LIST = pa.list_(pa.field("element", pa.string()))
DECLARED_TYPES = {
    "string": pa.string(),
    "list<string>": STRING_LIST,
    "timestamp[us, UTC]": UTC_TIMESTAMP,
    "int16": pa.int16(),
    "int32": pa.int32(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}
"""What each type name of the declarations means in Arrow."""


def test_the_columns_are_the_articles_fields_in_order() -> None:
    names = [field.name for field in fields(Article)]
    assert ARTICLE_SCHEMA.names == names
    assert list(COLUMNS) == names
    assert list(article.COLUMNS) == names
    # the columns versions 2 to 5 added (the files of each version lack the later ones)
    history = {"source_name": 2, "author_organizations": 3, "comments": 4, "accessible_for_free": 5}
    assert {name: columns()[name].since for name in history} == history
    # columns are added at the end, and every version added some: the newest column is the
    # current version's (a column added without a bump of SCHEMA_VERSION fails here)
    since = [spec.since for spec in columns().values()]
    assert since == sorted(since)
    assert set(since[: names.index("source_name")]) == {1}
    assert since[-1] == int(SCHEMA_VERSION), f"{names[-1]} is of version {since[-1]}"


def test_each_column_has_its_declared_type_nullability_and_doc() -> None:
    assert set(ARROW_TYPES) == set(article.ARROW_TYPES) == set(DECLARED_TYPES)
    for name, spec in columns().items():
        field = ARTICLE_SCHEMA.field(name)
        assert field.type == DECLARED_TYPES[spec.arrow], name
        assert field.nullable == spec.nullable, name
        assert field.metadata == {b"doc": spec.doc.encode()}, name
    assert ARTICLE_SCHEMA.field("source_name").type == pa.string()
    assert ARTICLE_SCHEMA.field("source_name").nullable
    assert ARTICLE_SCHEMA.field("published_offset").type == pa.int16()
    assert ARTICLE_SCHEMA.field("authors").type == STRING_LIST
    assert ARTICLE_SCHEMA.field("author_organizations").type == STRING_LIST
    assert ARTICLE_SCHEMA.field("author_organizations").nullable  # null in older rows
    assert ARTICLE_SCHEMA.field("accessible_for_free").type == pa.bool_()
    assert ARTICLE_SCHEMA.field("accessible_for_free").nullable  # null: the page did not say


def test_every_parquet_file_is_written_with_the_same_options() -> None:
    assert parquet_write_options(ARTICLE_SCHEMA, "gzip", 5) == {
        "compression": "gzip",
        "compression_level": 5,
        "use_dictionary": list(DICTIONARY_COLUMNS),
        "write_statistics": True,
    }
    assert parquet_write_options(HTML_SCHEMA)["use_dictionary"] == list(HTML_DICTIONARY_COLUMNS)
    assert all(name in ARTICLE_SCHEMA.names for name, _ in SORT_KEYS)


def test_dictionary_columns_come_from_the_declarations() -> None:
    expected = [
        f"{name}.list.element" if spec.arrow == "list<string>" else name
        for name, spec in columns().items()
        if spec.dictionary
    ]
    assert list(DICTIONARY_COLUMNS) == expected
    assert {
        "source",
        "source_name",
        "language",
        "authors.list.element",
        "author_organizations.list.element",
    } <= set(expected)
    assert not {"id", "url", "text"} & set(expected)


def test_files_say_they_are_of_the_current_version(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table([to_row(vars(_item()))]))
    committed = writer.commit()
    assert committed is not None
    schema = pq.read_schema(tmp_path / "articles" / committed.name)
    assert schema.metadata[SCHEMA_VERSION_KEY] == SCHEMA_VERSION.encode()
    assert schema_version(schema) == SCHEMA_VERSION
    # the first files carried no version: they are of version 1
    assert schema_version(pa.schema([pa.field("id", pa.string())])) == "1"


# --- reading files of older versions ---------------------------------------------------------


def older(rows: list[dict[str, object]], version: int) -> pa.Table:
    """``rows`` as a file of an older version held them: without the columns added since, with
    that version's metadata."""
    table = to_table([to_row(row) for row in rows])
    table = table.drop_columns([n for n, spec in columns().items() if spec.since > version])
    metadata = dict(table.schema.metadata) | {SCHEMA_VERSION_KEY: str(version).encode()}
    return table.replace_schema_metadata(metadata)


def version_1(rows: list[dict[str, object]]) -> pa.Table:
    """``rows`` as a version-1 file held them: no ``source_name``, the version 1 metadata."""
    return older(rows, 1)


def v1_row(url: str, source: str | None, *, canonical_url: str | None = None) -> dict[str, object]:
    return vars(_item()) | {"url": url, "canonical_url": canonical_url or url, "source": source}


def test_upgrade_moves_a_configured_sources_name_to_source_name() -> None:
    table = version_1(
        [
            v1_row("https://www.sputnik.example/a", "sputnik-africa"),  # a named source
            v1_row("https://news.test/b", "news.test"),  # the host already
            v1_row("https://amp.news.test/c", "News Test", canonical_url="https://www.news.test/c"),
            v1_row("https://news.test/d", None),
        ]
    )
    assert schema_version(table.schema) == "1"
    upgraded = upgrade(table)
    assert upgraded.column_names == list(COLUMNS)
    assert upgraded.column("source").to_pylist() == [
        "sputnik.example",
        "news.test",
        "news.test",
        "news.test",
    ]
    assert upgraded.column("source_name").to_pylist() == ["sputnik-africa", None, "News Test", None]
    # every other column is as read; the column version 3 added is null
    for name in set(table.column_names) - {"source"}:
        assert upgraded.column(name).equals(table.column(name)), name
    assert upgraded.schema.field("source_name").equals(ARTICLE_SCHEMA.field("source_name"))
    assert upgraded.column("author_organizations").to_pylist() == [None] * 4


def test_upgrade_of_a_row_without_canonical_url_takes_the_host_of_its_url() -> None:
    row = v1_row("https://www.news.test/a", "news.test") | {"canonical_url": None}
    named = v1_row("https://news.test/b", "Named") | {"canonical_url": None}
    upgraded = upgrade(version_1([row, named]))
    assert upgraded.column("source").to_pylist() == ["news.test", "news.test"]
    assert upgraded.column("source_name").to_pylist() == [None, "Named"]


def test_upgrade_keeps_no_name_for_a_page_below_the_home_of_a_sites_crawl() -> None:
    # `-a sites=https://www.news.test/` named its source after the home page's host; an article
    # it found on a subdomain of that site was no configured source either
    row = v1_row("https://world.news.test/a", "news.test")
    named = v1_row("https://world.news.test/b", "test")  # no parent domain: a name
    upgraded = upgrade(version_1([row, named]))
    assert upgraded.column("source").to_pylist() == ["world.news.test", "world.news.test"]
    assert upgraded.column("source_name").to_pylist() == [None, "test"]


def test_a_table_of_version_2_gets_a_null_author_organizations_column() -> None:
    row = vars(_item()) | {"source": "news.test", "source_name": "Named", "authors": ["Jo Li"]}
    table = older([row], 2)
    assert "author_organizations" not in table.column_names
    upgraded = upgrade(table)
    assert upgraded.column_names == list(COLUMNS)
    assert upgraded.column("author_organizations").to_pylist() == [None]
    assert upgraded.column("source_name").to_pylist() == ["Named"]
    assert upgraded.column("authors").to_pylist() == [["Jo Li"]]


def test_a_table_of_version_4_gets_a_null_accessible_for_free_column() -> None:
    row = vars(_item()) | {"author_organizations": ["dpa"], "comments": "Well said."}
    table = older([row], 4)
    assert "accessible_for_free" not in table.column_names
    upgraded = upgrade(table)
    assert upgraded.column_names == list(COLUMNS)
    assert upgraded.schema.field("accessible_for_free").equals(
        ARTICLE_SCHEMA.field("accessible_for_free")
    )
    assert upgraded.column("accessible_for_free").to_pylist() == [None]
    assert upgraded.column("comments").to_pylist() == ["Well said."]


def test_a_table_of_some_columns_of_an_older_file_is_not_completed() -> None:
    table = older([vars(_item()) | {"source": "news.test"}], 2).select(["url", "source"])
    assert upgrade(table).column_names == ["url", "source"]


def test_a_table_of_the_current_version_is_returned_unchanged() -> None:
    table = to_table([to_row(vars(_item()) | {"accessible_for_free": False})])
    assert schema_version(table.schema) == SCHEMA_VERSION
    assert upgrade(table) is table


@pytest.mark.parametrize("text", ["", "  \n\n "])
def test_to_batch_refuses_a_row_without_text(text: str) -> None:
    row = to_row(vars(_item()) | {"text": text})
    with pytest.raises(ValueError, match="the text is empty"):
        to_batch(row)
    assert to_batch(to_row(vars(_item()))).num_rows == 1
