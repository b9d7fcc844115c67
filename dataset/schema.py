"""The declared Arrow schema of the article dataset (never inferred from the data), made from
the article's declaration (:class:`extraction.article.Article`), and the reading of files
written by older versions.

``python -m dataset.schema`` prints the schema table of ``docs/dataset.md``.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from extraction.article import Column, columns, row_of
from extraction.urls import host_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

SCHEMA_VERSION = "5"
"""Bumped on every (additive) schema change; stored in every file's metadata. Version 2 added
``source_name`` and made ``source`` always the publishing host (see :func:`upgrade`); version 3
added ``author_organizations`` (the organizations credited as author: ``authors`` holds people
only since); version 4 added ``comments``; version 5 ``accessible_for_free``."""
SCHEMA_VERSION_KEY = b"news_crawler.schema_version"
VERSION_KEY = b"news_crawler.version"

try:
    PROJECT_VERSION = version("news-crawler")
except PackageNotFoundError:  # run from a checkout that was never installed
    PROJECT_VERSION = "unknown"

_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
# Parquet names the value of a list "element" (compliant nested types); so does the schema.
_STRING_LIST = pa.list_(pa.field("element", pa.string()))
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "list<string>": _STRING_LIST,
    "timestamp[us, UTC]": _UTC_TIMESTAMP,
    "int16": pa.int16(),
    "int32": pa.int32(),
    "double": pa.float64(),
    "bool": pa.bool_(),
}
"""The Arrow type of each type name the declarations use."""


def _field(name: str, type_: pa.DataType, doc: str, *, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


def _metadata() -> dict[bytes, bytes]:
    return {SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode(), VERSION_KEY: PROJECT_VERSION.encode()}


ARTICLE_FIELDS: tuple[pa.Field, ...] = tuple(
    _field(name, ARROW_TYPES[spec.arrow], spec.doc, nullable=spec.nullable)
    for name, spec in columns().items()
)
ARTICLE_SCHEMA: pa.Schema = pa.schema(ARTICLE_FIELDS, metadata=_metadata())
COLUMNS: tuple[str, ...] = tuple(ARTICLE_SCHEMA.names)

HTML_SCHEMA: pa.Schema = pa.schema(
    (
        _field("id", pa.string(), "The article row's id.", nullable=False),
        _field("url", pa.string(), "The article row's url.", nullable=False),
        _field("fetched_at", _UTC_TIMESTAMP, "When the page was fetched, UTC.", nullable=False),
        _field("content_type", pa.string(), "The response's Content-Type header."),
        _field("html", pa.binary(), "The response body as fetched (decompressed).", nullable=False),
    ),
    metadata=_metadata(),
)
"""The raw HTML archive (``HTML_ARCHIVE_ENABLED``): one row per article row, joined by ``id``."""


def _parquet_paths(name: str, spec: Column) -> list[str]:
    return [f"{name}.list.element"] if spec.arrow == "list<string>" else [name]


DICTIONARY_COLUMNS: tuple[str, ...] = tuple(
    path
    for name, spec in columns().items()
    if spec.dictionary
    for path in _parquet_paths(name, spec)
)
"""Low-cardinality columns, dictionary-encoded in the Parquet files (Parquet paths); the
others (ids, URLs, texts: nearly unique) are stored plain, where a dictionary only costs."""

HTML_DICTIONARY_COLUMNS: tuple[str, ...] = ("content_type",)

DICTIONARY_KEY = b"dictionary"
"""The metadata key of a field of a table declared elsewhere (the run history,
:mod:`dataset.run_history`) that marks it dictionary-encoded (``b"true"``)."""


def dictionary_columns(schema: pa.Schema) -> tuple[str, ...]:
    """The dictionary-encoded columns of files of ``schema``: the fields it marks
    (:data:`DICTIONARY_KEY`: the run history's), else those of the articles or the HTML
    archive."""
    marked = tuple(
        item.name for item in schema if (item.metadata or {}).get(DICTIONARY_KEY) == b"true"
    )
    if marked:
        return marked
    return HTML_DICTIONARY_COLUMNS if "html" in schema.names else DICTIONARY_COLUMNS


SORT_KEYS: tuple[tuple[str, str], ...] = (("source", "ascending"), ("published_at", "ascending"))
"""The order of the rows of an article file's row group (as written by a crawl, and by
compaction): the row groups' statistics then let readers skip them on filters by either."""

COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")
"""The Parquet codecs the dataset's files can be written with (``PARQUET_COMPRESSION``)."""
DEFAULT_COMPRESSION = "zstd"


def parquet_write_options(
    schema: pa.Schema, compression: str = DEFAULT_COMPRESSION, level: int | None = None
) -> dict[str, Any]:
    """The options every Parquet file of the project is written with (a crawl's files, their
    HTML archive, compaction's files and a ``-O`` export), for ``pq.ParquetWriter`` and
    ``pq.write_table``: ``compression`` (one of :data:`COMPRESSIONS`) at ``level`` (``None``:
    the codec's default), the dictionary-encoded columns of ``schema``, and statistics."""
    return {
        "compression": compression,
        "compression_level": level,
        "use_dictionary": list(dictionary_columns(schema)),
        "write_statistics": True,
    }


def to_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset row of an item (a mapping with at least the schema's columns)."""
    return row_of(item)


def to_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows (from :func:`to_row`) as a table of exactly :data:`ARTICLE_SCHEMA`."""
    return pa.Table.from_pylist(rows, schema=ARTICLE_SCHEMA)


_REQUIRED = tuple(field.name for field in ARTICLE_SCHEMA if not field.nullable)


def to_batch(row: Mapping[str, Any]) -> pa.RecordBatch:
    """One row as a record batch of :data:`ARTICLE_SCHEMA`.

    Raises ``ValueError`` (or pyarrow's ``ArrowInvalid``/``ArrowTypeError``, both
    ``ValueError``/``TypeError`` subclasses) when a value has the wrong type, a required
    column is null (Arrow itself does not enforce nullability), or the text is empty: a row
    whose page was not extracted is never written.
    """
    missing = [name for name in _REQUIRED if row.get(name) is None]
    if missing:
        raise ValueError(f"required columns are null: {', '.join(missing)}")
    if not str(row["text"]).strip():
        raise ValueError(EMPTY_TEXT)
    return pa.RecordBatch.from_pylist([dict(row)], schema=ARTICLE_SCHEMA)


EMPTY_TEXT = "the text is empty (the page was not extracted, or nothing of it was kept)"


def empty_texts(table: pa.Table) -> int:
    """How many rows of ``table`` have no text (only white space, or none): rows no dataset
    file may hold."""
    text = table.column("text")
    blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pc.fill_null(text, ""))), 0)
    return int(pc.sum(pc.cast(blank, pa.int64())).as_py() or 0)


def schema_version(schema: pa.Schema) -> str:
    """The schema version a file's schema says it was written with (``"1"`` when it says
    none: the first files had no other)."""
    return (schema.metadata or {}).get(SCHEMA_VERSION_KEY, b"1").decode()


def not_an_article_file(names: Sequence[str]) -> str | None:
    """Why a file with these columns is no article file of the dataset (another table's file
    dropped into it), or ``None``: every version of the schema has the required columns."""
    lacking = [name for name in _REQUIRED if _SINCE[name] == 1 and name not in names]
    return f"not an article file (no {', '.join(lacking)})" if lacking else None


def upgrade(table: pa.Table) -> pa.Table:
    """Rows read from an article file of any version, as the current version has them.

    Version 1 files wrote the configured source's name into ``source`` for crawls of named
    sources (``-a sources=``), and the publishing host otherwise: there ``source`` becomes the
    host of ``canonical_url`` again (of ``url`` in a row without one, as
    :func:`extraction.record.normalize_article` does), and a name it held moves to
    ``source_name`` (a value that is the page's host, or a parent domain of it, the home page
    of an ``-a sites=`` crawl, was no name). A table of a whole file gets the columns added
    since its version, null (``author_organizations`` for versions 1 and 2); a table of some
    columns only is not completed. Any other column is left as read."""
    version = schema_version(table.schema)
    if version == SCHEMA_VERSION:
        return table
    if version == "1":
        table = _named_sources(table)
    written = int(version) if version.isdigit() else 1
    missing = [name for name in ARTICLE_SCHEMA.names if name not in table.column_names]
    if missing and all(_SINCE[name] > written for name in missing):
        for name in missing:
            field = ARTICLE_SCHEMA.field(name)
            table = table.append_column(field, pa.nulls(table.num_rows, field.type))
    return table


_SINCE = {name: spec.since for name, spec in columns().items()}


def _named_sources(table: pa.Table) -> pa.Table:
    """A version-1 table with ``source`` the publishing host and ``source_name`` the
    configured source's name (see :func:`upgrade`)."""
    if "source" not in table.column_names or "source_name" in table.column_names:
        return table
    if "canonical_url" not in table.column_names:
        return table
    canonical = table.column("canonical_url").to_pylist()
    fetched = (
        table.column("url").to_pylist() if "url" in table.column_names else [None] * len(canonical)
    )
    pages = [first or second for first, second in zip(canonical, fetched, strict=True)]
    hosts = [host_of(page) if page else None for page in pages]
    names = [
        None if given is None or _same_site(given, host) else given
        for given, host in zip(table.column("source").to_pylist(), hosts, strict=True)
    ]
    index = table.column_names.index("source")
    table = table.set_column(index, table.schema.field("source"), pa.array(hosts, pa.string()))
    return table.append_column(ARTICLE_SCHEMA.field("source_name"), pa.array(names, pa.string()))


def _same_site(given: str, host: str | None) -> bool:
    """Whether a version-1 ``source`` value names the page's site rather than a configured
    source: the host itself, or the host of the home page an ``-a sites=`` crawl started from
    (a parent domain of the page's host)."""
    return host is not None and (given == host or ("." in given and host.endswith(f".{given}")))


def markdown_table() -> str:
    """The schema table of ``docs/dataset.md``, from the declarations."""
    lines = ["| column | type | meaning | example |", "|---|---|---|---|"]
    for name, spec in columns().items():
        kind = spec.arrow + ("" if spec.nullable else ", not null")
        kind += ", dictionary-encoded" if spec.dictionary else ""
        example = spec.example if "`" in spec.example or not spec.example else f"`{spec.example}`"
        lines.append(f"| `{name}` | {kind} | {spec.doc} | {example} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
