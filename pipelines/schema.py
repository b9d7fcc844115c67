"""The declared Arrow schema of the article dataset (never inferred from the data)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from crawler import __version__

if TYPE_CHECKING:
    from collections.abc import Mapping

SCHEMA_VERSION = "1"
"""Bumped on every (additive) schema change; stored in every file's metadata."""

_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
# Parquet names the value of a list "element" (compliant nested types); so does the schema.
_STRING_LIST = pa.list_(pa.field("element", pa.string()))


def _field(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


ARTICLE_FIELDS: tuple[pa.Field, ...] = (
    _field(
        "id",
        pa.string(),
        "Row id: hash of the normalized URL and the content hash.",
        nullable=False,
    ),
    _field("url", pa.string(), "Fetched URL after redirects, normalized.", nullable=False),
    _field("canonical_url", pa.string(), "The page's canonical URL (else the fetched URL)."),
    _field("source", pa.string(), "Publishing site: host of the canonical URL, no www."),
    _field("title", pa.string(), "Headline."),
    _field("description", pa.string(), "Summary from the page's metadata."),
    _field("authors", _STRING_LIST, "Author names in page order.", nullable=False),
    _field("published_at", _UTC_TIMESTAMP, "Publication time, UTC."),
    _field(
        "published_offset",
        pa.int16(),
        "UTC offset in minutes the page gave with published_at (its local time is "
        "published_at + offset); null when it gave none.",
    ),
    _field("modified_at", _UTC_TIMESTAMP, "Last modification time, UTC, if the page has one."),
    _field("fetched_at", _UTC_TIMESTAMP, "When the page was fetched, UTC.", nullable=False),
    _field("language", pa.string(), "ISO 639-1 language code of the text."),
    _field(
        "language_confidence",
        pa.float64(),
        "langdetect probability; null when taken from the page's declaration.",
    ),
    _field("text", pa.string(), "Main text, paragraphs separated by a blank line.", nullable=False),
    _field(
        "word_count",
        pa.int32(),
        "Words in text (letters for scripts without spaces).",
        nullable=False,
    ),
    _field("tags", _STRING_LIST, "Tags, keywords and sections.", nullable=False),
    _field("image_url", pa.string(), "Main image URL."),
    _field("site_name", pa.string(), "The site's own name."),
    _field("content_hash", pa.string(), "BLAKE2b-128 hex digest of text.", nullable=False),
    _field(
        "duplicate_of",
        pa.string(),
        "With DEDUPE_POLICY=flag: id of the stored row this text copies; else null.",
    ),
    _field(
        "discovered_via",
        pa.string(),
        "How the URL was found: url, feed, sitemap or link.",
        nullable=False,
    ),
)

ARTICLE_SCHEMA: pa.Schema = pa.schema(
    ARTICLE_FIELDS,
    metadata={
        "news_crawler.schema_version": SCHEMA_VERSION,
        "news_crawler.version": __version__,
    },
)

COLUMNS: tuple[str, ...] = tuple(ARTICLE_SCHEMA.names)

HTML_SCHEMA: pa.Schema = pa.schema(
    (
        _field("id", pa.string(), "The article row's id.", nullable=False),
        _field("url", pa.string(), "The article row's url.", nullable=False),
        _field("fetched_at", _UTC_TIMESTAMP, "When the page was fetched, UTC.", nullable=False),
        _field("content_type", pa.string(), "The response's Content-Type header."),
        _field("html", pa.binary(), "The response body as fetched (decompressed).", nullable=False),
    ),
    metadata={
        "news_crawler.schema_version": SCHEMA_VERSION,
        "news_crawler.version": __version__,
    },
)
"""The raw HTML archive (``HTML_ARCHIVE_ENABLED``): one row per article row, joined by ``id``."""

DICTIONARY_COLUMNS: tuple[str, ...] = (
    "source",
    "language",
    "site_name",
    "discovered_via",
    "authors.list.element",
    "tags.list.element",
)
"""Low-cardinality columns, dictionary-encoded in the Parquet files (Parquet paths); the
others (ids, URLs, texts: nearly unique) are stored plain, where a dictionary only costs."""

HTML_DICTIONARY_COLUMNS: tuple[str, ...] = ("content_type",)


def dictionary_columns(schema: pa.Schema) -> tuple[str, ...]:
    """The dictionary-encoded columns of files of ``schema`` (articles or the HTML archive)."""
    return HTML_DICTIONARY_COLUMNS if "html" in schema.names else DICTIONARY_COLUMNS


def to_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset row of an item (a mapping with at least the schema's columns)."""
    return {name: item.get(name) for name in COLUMNS}


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (from :func:`to_row`) as a table of exactly :data:`ARTICLE_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA)


_REQUIRED = tuple(field.name for field in ARTICLE_SCHEMA if not field.nullable)


def to_batch(row: Mapping[str, Any]) -> pa.RecordBatch:
    """One row as a record batch of :data:`ARTICLE_SCHEMA`.

    Raises ``ValueError`` (or pyarrow's ``ArrowInvalid``/``ArrowTypeError``, both
    ``ValueError``/``TypeError`` subclasses) when a value has the wrong type or a required
    column is null: Arrow itself does not enforce nullability.
    """
    missing = [name for name in _REQUIRED if row.get(name) is None]
    if missing:
        raise ValueError(f"required columns are null: {', '.join(missing)}")
    return pa.RecordBatch.from_pylist([dict(row)], schema=ARTICLE_SCHEMA)
