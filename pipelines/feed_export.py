"""``-O articles.parquet``: one Parquet file from an ad-hoc ``scrapy crawl``, same schema.

For users who want a single file rather than the dataset under ``OUTPUT_DIR``: Scrapy's feed
exports call this exporter (``FEED_EXPORTERS = {"parquet": ...}``) with every item that went
through the pipelines. Rows are validated and buffered, and written as one table when the
feed closes.
"""

from __future__ import annotations

import logging
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
from itemadapter import ItemAdapter
from scrapy.exporters import BaseItemExporter

from dataset.schema import ARTICLE_SCHEMA, DICTIONARY_COLUMNS, to_batch, to_row

if TYPE_CHECKING:
    from collections.abc import Mapping

logger = logging.getLogger(__name__)


class ParquetItemExporter(BaseItemExporter):
    """Writes items as rows of :data:`dataset.schema.ARTICLE_SCHEMA` (zstd)."""

    def __init__(self, file: IO[bytes], **kwargs: Any) -> None:
        super().__init__(dont_fail=True, **kwargs)
        self.file = file
        self.batches: list[pa.RecordBatch] = []
        self.skipped = 0

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
            table, self.file, compression="zstd", use_dictionary=list(DICTIONARY_COLUMNS)
        )
