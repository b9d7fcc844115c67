"""Scrapy's feed exports (``-o``/``-O``), with an export that cannot be written one error line.

Scrapy's exporter writes each item as it is scraped: when the file's disk fills up, every
later item raised out of the ``item_scraped`` signal handler (an error with a traceback per
item, hundreds of them), and an export written at its end (Parquet) failed in a task whose
error was only logged as "never retrieved". Here the first write that fails stops that export
for the rest of the run, in one error line (``news/export/failed``); the crawl goes on, and
its exit status says it failed. The other exports go on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FeedExporter as ScrapyFeedExporter
from scrapy.extensions.feedexport import apply_uri_params

from pipelines.stats import EXPORT_FAILED

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.extensions.feedexport import FeedSlot

logger = logging.getLogger(__name__)


class FeedExporter(ScrapyFeedExporter):
    """``EXTENSIONS``: Scrapy's feed exports, stopped in one line where a write fails."""

    def item_scraped(self, item: Any, spider: Spider) -> None:
        broken = []
        for slot in self.slots:
            if not slot.filter.accepts(item):
                continue
            try:
                slot.start_exporting()
                assert slot.exporter is not None
                slot.exporter.export_item(item)
            except OSError as exc:
                broken.append(slot)
                self._failed(slot, exc)
            else:
                slot.itemcount += 1
        if broken:
            self.slots = [slot for slot in self.slots if slot not in broken]
        self._next_batches(spider)

    def _next_batches(self, spider: Spider) -> None:
        """Scrapy's batches (``FEED_EXPORT_BATCH_ITEM_COUNT``): a full slot is closed and the
        next one started."""
        slots = []
        for slot in self.slots:
            count = self.feeds[slot.uri_template]["batch_item_count"]
            if not count or slot.itemcount < count:
                slots.append(slot)
                continue
            uri_params = self._get_uri_params(
                spider, self.feeds[slot.uri_template]["uri_params"], slot
            )
            self._schedule_slot_close(slot, spider)
            slots.append(
                self._start_new_batch(
                    batch_id=slot.batch_id + 1,
                    uri=apply_uri_params(slot.uri_template, uri_params),
                    feed_options=self.feeds[slot.uri_template],
                    spider=spider,
                    uri_template=slot.uri_template,
                )
            )
        self.slots = slots

    async def _close_slot(self, slot: FeedSlot, spider: Spider) -> None:
        try:
            await super()._close_slot(slot, spider)
        except OSError as exc:  # an export written at its end (Parquet): not written
            self._failed(slot, exc)

    def _failed(self, slot: FeedSlot, exc: OSError) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(EXPORT_FAILED.name)
        logger.error(
            "Cannot write the export %s (%s): it is left as it is, without this run's later items",
            slot.uri,
            " ".join(str(exc).split()),
        )
