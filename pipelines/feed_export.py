"""Feed exports (``-O articles.parquet``, ``.jsonl``, ``.json``, ``.csv``): one file from an
ad-hoc ``scrapy crawl``, for users who want a single file rather than the dataset under
``OUTPUT_DIR``.

Every format carries exactly the dataset's columns (``FEED_EXPORT_FIELDS``, set by the add-on),
with the dataset's types as each format can say them: timestamps in ISO 8601, in UTC
(``2023-08-15T13:39:00Z``); lists (``authors``, ``tags``, ``author_organizations``) as JSON
arrays, also in CSV, where the cell holds the array's JSON text; ``accessible_for_free`` as
JSON's ``true``/``false``, in CSV ``True``/``False`` (null: an empty cell). Parquet has the
dataset's schema itself, and is written as the dataset's files are (``PARQUET_COMPRESSION``,
``PARQUET_COMPRESSION_LEVEL``); its rows are validated and buffered, and written as one table
when the feed closes. ``-o`` (append) to a Parquet file that exists is refused by ``scrapy
crawl`` before the crawl starts: Parquet cannot be appended to.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Self

import pyarrow as pa
import pyarrow.parquet as pq
from itemadapter import ItemAdapter
from scrapy import exporters
from scrapy.exporters import BaseItemExporter

from dataset.schema import (
    ARTICLE_SCHEMA,
    DEFAULT_COMPRESSION,
    parquet_write_options,
    to_batch,
    to_row,
)
from pipelines.parquet import PARQUET_COMPRESSION, PARQUET_COMPRESSION_LEVEL

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy import Field
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class ParquetItemExporter(BaseItemExporter):
    """Writes items as rows of :data:`dataset.schema.ARTICLE_SCHEMA`, compressed with
    ``compression`` at ``compression_level`` (from the settings in a crawl)."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        compression: str = DEFAULT_COMPRESSION,
        compression_level: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.compression = compression
        self.compression_level = compression_level
        self.batches: list[pa.RecordBatch] = []
        self.skipped = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: IO[bytes], **kwargs: Any) -> Self:
        return cls(
            file,
            compression=PARQUET_COMPRESSION.read(crawler.settings),
            compression_level=PARQUET_COMPRESSION_LEVEL.read(crawler.settings),
            **kwargs,
        )

    def export_item(self, item: Any) -> None:
        row: Mapping[str, Any] = to_row(ItemAdapter(item))
        try:
            self.batches.append(to_batch(row))
        except (ValueError, TypeError) as exc:  # pyarrow's errors subclass these
            self.skipped += 1
            logger.warning("Not exported (%s): %s", exc, row.get("url"))

    def finish_exporting(self) -> None:
        table = pa.Table.from_batches(self.batches, schema=ARTICLE_SCHEMA)
        pq.write_table(
            table,
            self.file,
            **parquet_write_options(ARTICLE_SCHEMA, self.compression, self.compression_level),
        )


def iso_utc(value: datetime) -> str:
    """A timestamp in ISO 8601, in UTC (``2023-08-15T13:39:00Z``)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class JsonLinesItemExporter(exporters.JsonLinesItemExporter):
    """One JSON object per line and article: the dataset's columns, ISO 8601 UTC times."""

    def serialize_field(self, field: Mapping[str, Any] | Field, name: str, value: Any) -> Any:
        if isinstance(value, datetime):
            return iso_utc(value)
        return super().serialize_field(field, name, value)


class JsonItemExporter(exporters.JsonItemExporter):
    """A JSON array of the articles: the dataset's columns, ISO 8601 UTC times."""

    def serialize_field(self, field: Mapping[str, Any] | Field, name: str, value: Any) -> Any:
        if isinstance(value, datetime):
            return iso_utc(value)
        return super().serialize_field(field, name, value)


class CsvItemExporter(exporters.CsvItemExporter):
    """CSV with a header: the dataset's columns, ISO 8601 UTC times, each list as the JSON text
    of an array (``["Birgit Baumann", "Anna Giulia Fink"]``: names may hold commas)."""

    def serialize_field(self, field: Mapping[str, Any] | Field, name: str, value: Any) -> Any:
        if isinstance(value, datetime):
            return iso_utc(value)
        if isinstance(value, list | tuple):
            return json.dumps(list(value), ensure_ascii=False)
        return super().serialize_field(field, name, value)
